"""3d-unet-99 / 3d-unet-99.9: the DICE line on logs of known content, and a run through LoadGen."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.accuracy import AccuracyLogError
from podium.benchmarks.unet3d import UNet3D99Benchmark, UNet3D999Benchmark
from podium.benchmarks.unet3d.accuracy import dice_scores, score_dice
from podium.errors import PodiumError


class _Cases:
    """Ground truth held in memory, with the interface the scorer reads."""

    def __init__(self, labels: dict[str, np.ndarray]) -> None:
        self.cases = list(labels)
        self._labels = list(labels.values())

    def image_shape(self, i: int) -> tuple[int, ...]:
        return self._labels[i].shape

    def load_label(self, i: int) -> np.ndarray:
        return self._labels[i]


def _log(path: Path, volumes: dict[int, np.ndarray]) -> Path:
    entries = [{"seq_id": s, "qsl_idx": q, "data": v.astype(np.uint8).tobytes().hex().upper()}
               for s, (q, v) in enumerate(volumes.items())]
    path.write_text(json.dumps(entries))
    return path


def _known_cases() -> tuple[_Cases, dict[int, np.ndarray]]:
    # Case A: kidney 4 voxels, tumor 2; the prediction finds 3 kidney voxels (+1 wrong) and 1 tumor voxel.
    truth_a = np.zeros((2, 2, 4), np.uint8)
    truth_a.flat[[0, 1, 2, 3]] = 1
    truth_a.flat[[4, 5]] = 2
    pred_a = np.zeros_like(truth_a)
    pred_a.flat[[0, 1, 2, 9]] = 1
    pred_a.flat[[4]] = 2
    # Case B: predicted perfectly.
    truth_b = np.zeros((2, 3, 2), np.uint8)
    truth_b.flat[[1, 2]] = 1
    truth_b.flat[[7]] = 2
    return _Cases({"case_a": truth_a, "case_b": truth_b}), {1: truth_b.copy(), 0: pred_a}


def test_dice_per_case() -> None:
    cases, preds = _known_cases()
    kidney, tumor = dice_scores(preds[0], cases.load_label(0))
    assert kidney == (2 * 3 + 1e-6) / (4 + 4 + 1e-6) and tumor == (2 * 1 + 1e-6) / (2 + 1 + 1e-6)
    empty = np.zeros((2, 2, 2), np.uint8)
    assert dice_scores(empty, empty) == (1.0, 1.0)  # both empty: 1, from the smoothing terms


def test_dice_line_on_a_known_log(tmp_path: Path) -> None:
    cases, preds = _known_cases()
    log = _log(tmp_path / "mlperf_log_accuracy.json", preds)
    r = score_dice(log, cases, target=0.8617 * 0.99, summary_csv=tmp_path / "summary.csv")
    # kidney (0.75 + 1) / 2 = 0.875; tumor (2/3 + 1) / 2 = 0.8333; mean of composites (0.7083 + 1) / 2 = 0.85417
    assert r.line == "Accuracy: mean = 0.85417, kidney = 0.8750, tumor = 0.8333"
    assert r.metric == "DICE" and r.value == 0.85417 and r.passed  # >= 0.853083 (3d-unet-99)
    assert not score_dice(log, cases, target=0.8617 * 0.999).passed  # < 0.8608383 (3d-unet-99.9)
    with open(tmp_path / "summary.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["case", "kidney", "tumor", "composite"] and rows[-1][0] == "mean"
    assert float(rows[1][1]) == pytest.approx(0.75) and len(rows) == 4


def test_dice_log_errors(tmp_path: Path) -> None:
    cases, preds = _known_cases()
    with pytest.raises(AccuracyLogError, match="no response for 1 of 2 cases \\(first: case_b\\)"):
        score_dice(_log(tmp_path / "a.json", {0: preds[0]}), cases, 0.85)
    with pytest.raises(AccuracyLogError, match=r"qsl_idx 1 \(case_b\) has 11 bytes, expected 12"):
        score_dice(_log(tmp_path / "b.json", {0: preds[0], 1: np.zeros(11)}), cases, 0.85)


def test_targets_scenarios_and_missing_files() -> None:
    b = UNet3D99Benchmark()
    assert b.accuracy_target() == pytest.approx(0.853083) and UNet3D999Benchmark().accuracy_target() == pytest.approx(
        0.8608383)
    assert b.conf_model == "3d-unet" and b.scenarios == ("SingleStream", "Offline") and not b.supports("Server")
    with pytest.raises(PodiumError, match=r"--model-path \(the official 3dunet_kits19_128x128x128\.onnx.*--synthetic"):
        b.resolve_model_path(None)
    with pytest.raises(PodiumError, match=r"--data-dir \(the KiTS19 inference cases"):
        b.create_qsl(None)


def _run_accuracy(bench, model_path: Path, qsl, out: Path, scenario: str):
    from podium.backends import get_backend
    from podium.harness import BackendSUT
    from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test

    runner = bench.model_runner(get_backend("onnxruntime", intra_op_threads=1).load(model_path))
    settings = TestSettings(scenario=Scenario.parse(scenario), mode=TestMode.AccuracyOnly,
                            sample_concatenate_permutation=True)
    with BackendSUT(runner, qsl, bench.postprocess, scenario_hint=scenario) as sut:
        res = start_test(sut, qsl, settings, LogSettings(outdir=str(out)), audit_config=None)
        assert sut.errors == 0, sut.last_error
    return res, runner


@pytest.mark.parametrize("scenario", ["Offline", "SingleStream"])
def test_kits_nifti_run_through_loadgen(tmp_path: Path, scenario: str) -> None:
    pytest.importorskip("nibabel")
    from tests.benchmarks.test_unet3d_data import make_case, write_nifti_cases
    from tests.benchmarks.test_unet3d_inference import _passthrough_onnx

    # The passthrough model labels 2 where the image > 0.5 and 1 elsewhere; the images hold 0 or 1 (no noise).
    two = {}
    for name, shape, seed in (("case_00000", (16, 8, 12), 0), ("case_00001", (8, 12, 8), 1)):
        _, label = make_case(shape, seed)
        two[name] = ((label == 2).astype(np.float32)[np.newaxis], label)
    data = write_nifti_cases(tmp_path / "kits", two)
    bench = UNet3D99Benchmark()
    qsl = bench.create_qsl(data)
    res, runner = _run_accuracy(bench, _passthrough_onnx(tmp_path / "m.onnx"), qsl, tmp_path / "acc", scenario)
    assert runner.patches_run == 3 * 1 * 2 + 1 * 2 * 1  # each case once
    result = bench.score_accuracy(res.log_paths["accuracy"], data)
    want = []
    for _, label in two.values():
        pred = np.where(label == 2, 2, 1)
        want.append(dice_scores(pred.astype(np.uint8), label))
    kidney, tumor = np.mean(want, axis=0)
    assert tumor == pytest.approx(1.0) and result.details["kidney"] == pytest.approx(kidney)
    assert result.line == (f"Accuracy: mean = {np.mean(want):.5f}, kidney = {kidney:.4f}, tumor = {tumor:.4f}")
    assert (Path(res.log_paths["accuracy"]).parent / "summary.csv").is_file()


def test_synthetic_variant_is_labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.benchmarks.test_unet3d_inference import _passthrough_onnx

    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "cache"))
    from podium.benchmarks.unet3d.synthetic import SyntheticCases

    assert SyntheticCases(1, (16, 8, 12), roi=(8, 8, 8)).load_label(0).max() == 2
    bench = UNet3D99Benchmark(cases=1).synthetic_variant()
    assert bench.random_weights and any("unless --data-dir" in lb for lb in bench.run_labels())
    assert bench.resolve_model_path(_passthrough_onnx(tmp_path / "m.onnx")) == tmp_path / "m.onnx"
    qsl = bench.create_qsl(None)
    assert qsl.total_sample_count == 1 and not bench.random_weights  # the user's model: only the data is synthetic
    assert bench.run_labels() == ["synthetic inputs: 1 random cases of 128x128x128 (the official set is 43 KiTS19 "
                                  "cases of varied, mostly larger shapes)"]
    with pytest.raises(PodiumError, match="axis 0 is 100"):
        UNet3D99Benchmark(shape=(100, 128, 128)).synthetic_variant().create_qsl(None)
