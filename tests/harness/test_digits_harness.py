"""End to end without the LoadGen engine: the shipped digits model through BackendSUT, then scored."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podium.backends import get_backend
from podium.benchmarks import get_benchmark
from podium.harness import BackendSUT
from podium.loadgen.types import QuerySample


@pytest.fixture(scope="module")
def setup() -> tuple[Any, Any, Any]:
    bench = get_benchmark("digits")
    qsl = bench.create_qsl()
    qsl.load_samples(list(range(qsl.total_sample_count)))
    backend = get_backend("onnxruntime", intra_op_threads=1).load(bench.resolve_model_path())
    return bench, qsl, backend


def _collector() -> tuple[dict[int, bytes], Any, Any]:
    got: dict[int, bytes] = {}
    lock = threading.Lock()

    def complete(responses: list[tuple[int, bytes]]) -> None:
        with lock:
            got.update(responses)

    def complete_ids(ids: np.ndarray, data: list[bytes] | None) -> None:
        with lock:
            got.update(zip(ids.tolist(), data or [b""] * len(ids)))

    return got, complete, complete_ids


@pytest.mark.parametrize("scenario", ["Offline", "Server", "SingleStream"])
def test_digits_accuracy_through_the_harness(setup: tuple, scenario: str, tmp_path: Path) -> None:
    bench, qsl, backend = setup
    n = qsl.total_sample_count
    got, complete, complete_ids = _collector()
    with BackendSUT(backend, qsl, bench.postprocess, scenario_hint=scenario) as sut:
        sut.bind(complete, complete_ids)
        if scenario == "Offline":
            sut.issue_arrays(np.arange(1, n + 1, dtype=np.int64), np.arange(n, dtype=np.int64))
        else:
            for i in range(n):
                sut.issue_queries([QuerySample(i + 1, i)])
        assert sut.drain(30)
        assert sut.errors == 0
    # Write the accuracy log the way the engine would and score it with the benchmark's scorer.
    log = [{"seq_id": sid - 1, "qsl_idx": sid - 1, "data": got[sid].hex().upper()} for sid in sorted(got)]
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(json.dumps(log))
    result = bench.score_accuracy(path)
    assert result.details["total"] == n
    assert result.value >= 97.0 and result.passed
    assert result.value == pytest.approx(100 * bench.reference_accuracy())
