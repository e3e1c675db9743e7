"""dlrm-99 / dlrm-99.9: responses, the AUC line on logs of known content, and a run through LoadGen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.accuracy import AccuracyLogError
from podium.benchmarks.dlrm import Dlrm99Benchmark, Dlrm999Benchmark, criteo
from podium.benchmarks.dlrm.accuracy import score_auc
from podium.benchmarks.dlrm.responses import responses
from podium.errors import PodiumError


def _hex(values: list[float]) -> str:
    return np.asarray(values, dtype="<f4").tobytes().hex().upper()


def _write_log(path: Path, entries: list[tuple[int, list[float]]]) -> Path:
    path.write_text(json.dumps([{"seq_id": s, "qsl_idx": q, "data": _hex(v)} for s, (q, v) in enumerate(entries)]))
    return path


def test_targets_and_description() -> None:
    assert Dlrm99Benchmark().accuracy_target() == pytest.approx(79.4475)
    assert Dlrm999Benchmark().accuracy_target() == pytest.approx(80.16975)
    b = Dlrm99Benchmark()
    assert b.conf_model == "dlrm" and b.scenarios == ("Server", "Offline")
    assert b.performance_sample_count == 204800 and b.supports("server") and not b.supports("SingleStream")


def test_responses_are_prediction_label_pairs_per_user() -> None:
    pred = np.array([0.1, 0.2, 0.3, 0.4, 0.5], dtype=np.float32)
    labels = np.array([0, 1, 0, 0, 1], dtype=np.float32)
    out = responses([pred, labels, np.array([2, 3])])
    assert len(out) == 2 and [len(r) for r in out] == [16, 24]
    assert np.frombuffer(out[1], "<f4").tolist() == pytest.approx([0.3, 0.0, 0.4, 0.0, 0.5, 1.0])


def test_auc_line_on_a_known_log(tmp_path: Path) -> None:
    # Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of 4 pairs ordered right -> AUC 0.75.
    # Rounded predictions 0, 0, 0, 1 against labels 0, 0, 1, 1 -> 3 good of 4. The repeat of sample 0 is ignored.
    log = _write_log(tmp_path / "mlperf_log_accuracy.json",
                     [(0, [0.1, 0, 0.4, 0]), (1, [0.35, 1, 0.8, 1]), (0, [0.9, 0, 0.9, 0])])
    r = Dlrm99Benchmark().score_accuracy(log)
    assert r.line == "AUC=75.000%, accuracy=75.000%, good=3, total=4, queries=2"
    assert r.metric == "AUC" and r.value == 75.0 and not r.passed
    assert r.details["roc_auc"] == 0.75 and r.details["labels_in_log"]


@pytest.mark.parametrize("k, passed_99, passed_999", [(794, False, False), (795, True, False), (802, True, True)])
def test_auc_thresholds(tmp_path: Path, k: int, passed_99: bool, passed_999: bool) -> None:
    # One negative at 0.5 and 1000 positives, k of them above it: AUC = k / 1000 exactly.
    items = [0.5, 0.0] + [v for i in range(1000) for v in ((0.9 if i < k else 0.1), 1.0)]
    log = _write_log(tmp_path / "log.json", [(0, items[:802]), (1, items[802:])])
    r99, r999 = Dlrm99Benchmark().score_accuracy(log), Dlrm999Benchmark().score_accuracy(log)
    assert r99.line.startswith(f"AUC={k / 10:.3f}%, ") and r99.value == k / 10
    assert (r99.passed, r999.passed) == (passed_99, passed_999)


def test_predictions_only_log_uses_the_data_labels(tmp_path: Path) -> None:
    counts = np.array([2, 2])
    truth = {0: np.array([0, 0], np.float32), 1: np.array([1, 1], np.float32)}
    log = _write_log(tmp_path / "log.json", [(1, [0.35, 0.8]), (0, [0.1, 0.4])])
    r = score_auc(log, 79.4475, 2, labels_of=truth.__getitem__, item_counts=counts)
    assert r.line == "AUC=75.000%, accuracy=75.000%, good=3, total=4, queries=2"
    assert not r.details["labels_in_log"]


def test_accuracy_log_errors(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="all 2 labels are 0"):
        score_auc(_write_log(tmp_path / "a.json", [(0, [0.1, 0, 0.2, 0])]), 79.4475)
    with pytest.raises(AccuracyLogError, match="qsl_idx 3 has 3 float32 values"):
        score_auc(_write_log(tmp_path / "b.json", [(3, [0.1, 0, 0.2])]), 79.4475)


def test_missing_model_or_data_say_what_is_needed() -> None:
    b = Dlrm99Benchmark()
    with pytest.raises(PodiumError, match=r"--model-path \(the official DLRM tb00_40M\.onnx.*--synthetic runs"):
        b.resolve_model_path(None)
    with pytest.raises(PodiumError, match=r"--data-dir \(Criteo Terabyte day 23: terabyte_processed_test\.bin"):
        b.create_qsl(None)
    assert not b.random_weights and b.run_labels() == []


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _run_accuracy(bench: Dlrm99Benchmark, model_path: Path, qsl: object, out: Path, scenario: str = "Offline"):
    from podium.backends import get_backend
    from podium.harness import BackendSUT
    from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test

    backend = get_backend("onnxruntime", intra_op_threads=1).load(model_path)
    runner = bench.model_runner(backend)
    settings = TestSettings(scenario=Scenario.parse(scenario), mode=TestMode.AccuracyOnly,
                            server_target_qps=2000.0, server_target_latency_ns=10**10)
    with BackendSUT(runner, qsl, bench.postprocess, scenario_hint=scenario) as sut:
        res = start_test(sut, qsl, settings, LogSettings(outdir=str(out)), audit_config=None)
        assert sut.errors == 0, sut.last_error
    return res


def test_synthetic_run_through_loadgen(cache: Path, tmp_path: Path) -> None:
    bench = Dlrm99Benchmark(users=24, row_cap=32).synthetic_variant()
    assert bench.name == "dlrm-99" and bench.synthetic and bench.random_weights
    model_path = bench.resolve_model_path(None)
    assert model_path.parent == cache / "models" and model_path == bench.default_model_path()
    qsl = bench.create_qsl(None)
    labels = bench.run_labels()
    assert any("random weights" in label and "capped at 32 rows" in label for label in labels)
    assert any("synthetic inputs: 24 random users" in label for label in labels)
    assert bench.labels()["labels"] == labels
    res = _run_accuracy(bench, model_path, qsl, tmp_path / "acc", "Server")
    log = res.log_paths["accuracy"]
    entries = json.loads(Path(log).read_text())
    assert sorted(e["qsl_idx"] for e in entries) == list(range(24))
    for e in entries:  # every response: (prediction, label) pairs of exactly that user's items
        data = np.frombuffer(bytes.fromhex(e["data"]), "<f4").reshape(-1, 2)
        assert data.shape[0] == qsl.counts[e["qsl_idx"]]
        assert np.array_equal(data[:, 1], qsl.labels_of(e["qsl_idx"]))
    result = bench.score_accuracy(log)
    assert result.details["total"] == qsl.total_rows and result.details["queries"] == 24
    assert result.line.startswith("AUC=") and result.line.endswith(f"total={qsl.total_rows}, queries=24")


def test_real_format_data_dir_run(cache: Path, tmp_path: Path) -> None:
    # A small "day 23" in the binary format with a trace file beside it: the QSL follows the trace.
    rng = np.random.default_rng(4)
    n = 900
    rows = criteo.CriteoRows(rng.integers(0, 20, size=(n, 13)), rng.integers(0, 10**6, size=(n, 26)),
                             (rng.random(n) < 0.2).astype(np.int32), describe="test")
    data = tmp_path / "criteo"
    data.mkdir()
    criteo.write_bin(rows, data / criteo.BIN_FILE)
    (data / "dlrm_trace_of_aggregated_samples.txt").write_text("0, 300, 300\n300, 400, 100\n400, 900, 500\n")
    bench = Dlrm99Benchmark()
    variant = bench.synthetic_variant()  # random weights, but the data from --data-dir
    assert variant.create_qsl(data).total_sample_count == 3
    assert not any("synthetic inputs" in lb for lb in variant.run_labels())
    assert any(lb.startswith("random weights") for lb in variant.run_labels())
    qsl = bench.create_qsl(data)
    assert qsl.total_sample_count == 3 and qsl.counts.tolist() == [300, 100, 500]
    model_path = Dlrm99Benchmark(row_cap=16).synthetic_variant().resolve_model_path(None)
    res = _run_accuracy(bench, model_path, qsl, tmp_path / "acc")
    result = bench.score_accuracy(res.log_paths["accuracy"], data)
    assert result.details["total"] == 900 and result.details["queries"] == 3
