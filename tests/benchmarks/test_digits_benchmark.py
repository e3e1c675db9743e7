"""The digits benchmark: registry, fixed split, shipped model and metadata, responses, accuracy scoring."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from podium.backends import get_backend
from podium.benchmarks import Benchmark, get_benchmark, list_benchmarks
from podium.benchmarks.digits import PACKAGE_DIR, DigitsBenchmark, data, reference_metadata
from podium.errors import PodiumError


@pytest.fixture(scope="module")
def bench() -> Benchmark:
    return get_benchmark("digits")


@pytest.fixture(scope="module")
def predictions(bench: Benchmark) -> np.ndarray:
    backend = get_backend("onnxruntime", intra_op_threads=1).load(bench.resolve_model_path())
    return backend.run(data.preprocess(data.test_images()))[0].argmax(axis=1)


def _log(path: Path, preds: np.ndarray, order: np.ndarray | None = None) -> Path:
    order = np.arange(preds.size) if order is None else order
    entries = [{"seq_id": s, "qsl_idx": int(q), "data": int(preds[q]).to_bytes(4, "little").hex().upper()}
               for s, q in enumerate(order)]
    path.write_text(json.dumps(entries))
    return path


def test_registry(bench: Benchmark) -> None:
    assert isinstance(bench, DigitsBenchmark)
    assert "digits" in [b.name for b in list_benchmarks()]
    with pytest.raises(PodiumError, match="benchmark 'resnet9000': unknown; .*expected one of .*digits"):
        get_benchmark("resnet9000")
    info = bench.info()
    assert info["conf_model"] == "digits" and info["random_weights"] is False
    assert bench.supports("offline") and bench.supports("Server")


def test_split_is_fixed_and_matches_metadata() -> None:
    train, test = data.split_indices()
    meta = reference_metadata()["split"]
    assert test.size == meta["test_size"] == 539 and train.size + test.size == 1797
    assert not np.intersect1d(train, test).size
    assert data.split_fingerprint(test) == meta["test_indices_sha256"]
    counts = np.bincount(data.test_labels(), minlength=10)
    assert counts.min() >= 52 and counts.max() <= 55  # stratified


def test_shipped_model_matches_its_metadata(bench: Benchmark, predictions: np.ndarray) -> None:
    meta = reference_metadata()
    path = bench.resolve_model_path()
    assert path == PACKAGE_DIR / "digits_cnn.onnx"
    assert path.stat().st_size < 400_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == meta["onnx_sha256"]
    good = int((predictions == data.test_labels()).sum())
    assert good == meta["reference_good"] and meta["reference_total"] == 539
    assert good / 539 >= 0.97
    assert bench.accuracy_target() == pytest.approx(99.0 * meta["reference_accuracy"])


def test_qsl_serves_the_test_split(bench: Benchmark) -> None:
    qsl = bench.create_qsl()
    assert qsl.total_sample_count == qsl.performance_sample_count == 539
    qsl.load_samples(list(range(539)))
    batch = qsl.get_batch(np.array([0, 538]))
    assert batch.shape == (2, 1, 8, 8) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[1, 0], data.test_images()[538] / 16)


def test_postprocess_gives_int32_le_per_sample(bench: Benchmark) -> None:
    logits = np.zeros((3, 10), dtype=np.float32)
    logits[[0, 1, 2], [7, 0, 9]] = 1
    assert bench.postprocess([logits]) == [b"\x07\0\0\0", b"\0\0\0\0", b"\x09\0\0\0"]


def test_score_the_model_predictions(bench: Benchmark, predictions: np.ndarray, tmp_path: Path) -> None:
    order = np.concatenate([np.arange(539), np.arange(10)])  # duplicates are ignored
    result = bench.score_accuracy(_log(tmp_path / "mlperf_log_accuracy.json", predictions, order))
    good = reference_metadata()["reference_good"]
    assert result.line == f"accuracy={100 * good / 539:.3f}%, good={good}, total=539"
    assert result.passed and result.details["total"] == 539


def test_score_below_target_fails(bench: Benchmark, tmp_path: Path) -> None:
    wrong = (data.test_labels() + 1) % 10
    wrong[:500] = data.test_labels()[:500]  # 500/539 = 92.8 %
    result = bench.score_accuracy(_log(tmp_path / "acc.json", wrong))
    assert result.line == "accuracy=92.764%, good=500, total=539"
    assert not result.passed and "FAIL" in result.verdict()


def test_model_path_resolution(bench: Benchmark, tmp_path: Path) -> None:
    with pytest.raises(PodiumError, match=r"--model-path .*absent.onnx: file not found"):
        bench.resolve_model_path(tmp_path / "absent.onnx")
    other = tmp_path / "mine.onnx"
    other.write_bytes(b"x")
    assert bench.resolve_model_path(other) == other


def test_build_without_torch_says_how_to_install(bench: Benchmark, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(PodiumError, match=r"PyTorch is needed to rebuild the digits model: "
                                          r"pip install 'podium\[torch\]'"):
        bench.build_model(tmp_path)


@pytest.mark.slow
def test_rebuild_is_bit_for_bit(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from podium.benchmarks.digits.build import build_model

    # Few epochs keep this quick; the determinism does not depend on the epoch count.
    a = build_model(tmp_path / "a", epochs=3)
    b = build_model(tmp_path / "b", epochs=3)
    assert a.read_bytes() == b.read_bytes()
    assert (a.parent / "digits_cnn.json").read_text() == (b.parent / "digits_cnn.json").read_text()
    get_backend("onnxruntime").load(a)
