"""``3d-unet-99`` / ``3d-unet-99.9``: kidney and tumor segmentation of KiTS19 CT volumes (MLPerf v2.1).

Data: the 43 inference cases of KiTS19 as the reference's ``preprocess.py`` leaves them, from
``--data-dir`` (``kits`` lists the layouts); the whole set is the performance sample set, and mlperf.conf
turns on equal-issue mode (``sample_concatenate_permutation``), which the LoadGen engine applies. One
sample is one whole case: the benchmark-side runner (``responses.UNet3DModelRunner``) slides 128³ patches
over it with Gaussian importance weighting and answers with the uint8 label volume. Model: the official
ONNX export (input ``input``, output ``output``) from ``--model-path``; a PyTorch file must be exported to
ONNX first (the reference's ``unet_pytorch_to_onnx.py``). Without them, ``synthetic_setup`` builds a
random-weight 3D-UNet and synthetic cases: a performance-only run, labelled so in every output.

Accuracy: mean DICE of kidney and tumor against 0.86170 × 99 % or 99.9 %. Scenarios: SingleStream (edge)
and Offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import Benchmark
from podium.benchmarks.unet3d import model
from podium.benchmarks.unet3d.accuracy import score_dice
from podium.benchmarks.unet3d.kits import KitsCases, KitsQSL
from podium.benchmarks.unet3d.responses import UNet3DModelRunner, responses
from podium.benchmarks.unet3d.synthetic import DEFAULT_CASES, DEFAULT_SHAPE, SyntheticCases
from podium.errors import PodiumError

__all__ = ["KitsCases", "KitsQSL", "PerformanceOnlySetup", "UNet3D999Benchmark", "UNet3D99Benchmark",
           "UNet3DBenchmark", "UNet3DModelRunner"]

#: FP32 mean DICE of the reference model on the 43 inference cases (kidney 0.9347, tumor 0.7887).
REFERENCE_DICE = 0.86170
INFERENCE_CASES = 43
OFFICIAL_ONNX = "3dunet_kits19_128x128x128.onnx"


class PerformanceOnlySetup(NamedTuple):
    """What a performance-only run uses: the model file, a QSL over synthetic data, and the labels that
    every output of the run must carry."""

    model_path: Path
    qsl: Any
    labels: list[str]


class UNet3DBenchmark(Benchmark):
    """3D-UNet on KiTS19; ``target_fraction`` of the reference mean DICE is the accuracy target."""

    name = "3d-unet"
    conf_model = "3d-unet"
    description = "KiTS19 kidney/tumor segmentation, 3D-UNet, 128^3 sliding window, mean DICE"
    scenarios = ("SingleStream", "Offline")
    performance_sample_count = INFERENCE_CASES
    accuracy_metric = "DICE"
    random_weights = False
    needs_model_path = True
    needs_data_dir = True
    target_fraction = 0.99

    def __init__(self) -> None:
        self._cases_cache: tuple[str, Any] | None = None

    # -- model ---------------------------------------------------------------------------------------
    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is None:
            raise PodiumError(
                f"benchmark {self.name}: needs the official 3D-UNet model ({OFFICIAL_ONNX}, Zenodo record 5597155, "
                "see the MLPerf reference README): pass --model-path FILE; or run performance-only with random "
                "weights and synthetic cases (--synthetic)")
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise PodiumError(f"--model-path {path}: file not found")
        if path.suffix in (".pt", ".pth", ".ptc"):
            raise PodiumError(f"--model-path {path}: a PyTorch file; export it to ONNX first (the reference's "
                              "unet_pytorch_to_onnx.py) or pass the official ONNX file")
        return path

    def random_model_path(self, seed: int = 0) -> Path:
        """The random-weight 3D-UNet (full architecture, 128³ patches), built into the cache if missing."""
        return model.build_random_model(seed=seed)

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """A random-weight model (``seed``; ``filters`` and ``roi`` for a smaller network)."""
        return model.build_random_model(out_dir, filters=tuple(options.get("filters", model.FILTERS)),
                                        roi=int(options.get("roi", 128)), seed=int(options.get("seed", 0)))

    def build_hint(self) -> str:
        return "python scripts/build_random_reco_models.py 3d-unet (random weights) or pass --model-path"

    def model_runner(self, backend: Any) -> UNet3DModelRunner:
        """What the harness runs: the sliding window over whole cases, the backend once per patch."""
        return UNet3DModelRunner(backend)

    # -- data ----------------------------------------------------------------------------------------
    def create_qsl(self, data_dir: str | Path | None = None) -> KitsQSL:
        if data_dir is None:
            raise PodiumError(
                f"benchmark {self.name}: needs the KiTS19 inference cases pre-processed by the MLPerf reference: "
                "pass --data-dir DIR holding preprocessed_files.pkl with case_*.pkl, or nifti/case_*/imaging.nii.gz; "
                "or run performance-only with --synthetic")
        cases = KitsCases(data_dir)
        self._cases_cache = (str(Path(data_dir).expanduser().resolve()), cases)
        return KitsQSL(self.name, cases)

    def synthetic_setup(self, model_path: str | Path | None = None, cases: int = DEFAULT_CASES,
                        shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0) -> PerformanceOnlySetup:
        """A performance-only run: synthetic cases, and the random-weight model unless ``model_path`` is given."""
        source = SyntheticCases(cases, shape, seed)
        qsl = KitsQSL(f"{self.name}-synthetic", source)
        labels = [f"synthetic data: {source.describe()} (the official set is {INFERENCE_CASES} KiTS19 cases of "
                  "varied shapes) - performance only, accuracy is meaningless"]
        if model_path is None:
            path = self.random_model_path(seed=seed)
            labels.append("random weights: 3D-UNet of the official shape (filters 32-320, 128^3 patches) with random "
                          "weights - timing only")
        else:
            path = self.resolve_model_path(model_path)
        self._cases_cache = ("<synthetic>", source)
        return PerformanceOnlySetup(path, qsl, labels)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray]) -> list[bytes]:
        return responses(outputs)

    def accuracy_target(self) -> float:
        return REFERENCE_DICE * self.target_fraction

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        """Mean DICE against ``data_dir``'s ground truth (or the synthetic cases of the last synthetic setup);
        writes the script's ``summary.csv`` beside the log."""
        cases = self._cases_for(data_dir)
        log = Path(accuracy_log)
        folder = log if log.is_dir() else log.parent
        return score_dice(accuracy_log, cases, self.accuracy_target(), summary_csv=folder / "summary.csv")

    def _cases_for(self, data_dir: str | Path | None) -> Any:
        if data_dir is not None:
            key = str(Path(data_dir).expanduser().resolve())
            if self._cases_cache is not None and self._cases_cache[0] == key:
                return self._cases_cache[1]
            return KitsCases(data_dir)
        if self._cases_cache is not None and self._cases_cache[0] == "<synthetic>":
            return self._cases_cache[1]
        raise PodiumError(f"benchmark {self.name}: scoring needs the ground truth: pass --data-dir (KiTS19 "
                          "pre-processed cases)")

    def labels(self) -> dict[str, Any]:
        return {"random_weights": False, "dataset": "KiTS19, 43 inference cases pre-processed by the reference "
                "(from --data-dir)", "reference_accuracy": REFERENCE_DICE, "target_fraction": self.target_fraction}


class UNet3D99Benchmark(UNet3DBenchmark):
    """``3d-unet-99``: mean DICE ≥ 99 % of 0.86170 (0.853083)."""

    name = "3d-unet-99"
    target_fraction = 0.99


class UNet3D999Benchmark(UNet3DBenchmark):
    """``3d-unet-99.9``: mean DICE ≥ 99.9 % of 0.86170 (0.8608383)."""

    name = "3d-unet-99.9"
    target_fraction = 0.999
