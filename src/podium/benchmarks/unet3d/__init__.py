"""``3d-unet-99`` / ``3d-unet-99.9``: kidney and tumor segmentation of KiTS19 CT volumes (MLPerf v2.1).

Data: the 43 inference cases of KiTS19 as the reference's ``preprocess.py`` leaves them, from
``--data-dir`` (``kits`` lists the layouts); the whole set is the performance sample set, and mlperf.conf
turns on equal-issue mode (``sample_concatenate_permutation``), which the LoadGen engine applies. One
sample is one whole case: the benchmark-side runner (``responses.UNet3DModelRunner``) slides 128³ patches
over it with Gaussian importance weighting and answers with the uint8 label volume. Model: the official
ONNX export (input ``input``, output ``output``) from ``--model-path``; a PyTorch file must be exported to
ONNX first (the reference's ``unet_pytorch_to_onnx.py``). Without them, ``synthetic_variant()`` (``podium
run --synthetic``) runs performance only: a random-weight 3D-UNet unless ``--model-path`` is given,
synthetic cases unless ``--data-dir`` is given, and ``run_labels()`` says so for every output.

Accuracy: mean DICE of kidney and tumor against 0.86170 × 99 % or 99.9 %. Scenarios: SingleStream (edge)
and Offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import Benchmark
from podium.benchmarks.unet3d import model
from podium.benchmarks.unet3d.accuracy import score_dice
from podium.benchmarks.unet3d.kits import KitsCases, KitsQSL
from podium.benchmarks.unet3d.responses import UNet3DModelRunner, responses
from podium.benchmarks.unet3d.synthetic import DEFAULT_CASES, DEFAULT_SHAPE, SyntheticCases
from podium.errors import PodiumError

__all__ = ["KitsCases", "KitsQSL", "UNet3D99Benchmark", "UNet3D999Benchmark", "UNet3DBenchmark", "UNet3DModelRunner"]

#: FP32 mean DICE of the reference model on the 43 inference cases (kidney 0.9347, tumor 0.7887).
REFERENCE_DICE = 0.86170
INFERENCE_CASES = 43
OFFICIAL_ONNX = "3dunet_kits19_128x128x128.onnx"


class UNet3DBenchmark(Benchmark):
    """3D-UNet on KiTS19; ``target_fraction`` of the reference mean DICE is the accuracy target.

    ``synthetic=True`` is the performance-only variant: the random-weight network (built once into the model
    cache) unless ``--model-path`` is given, and ``cases`` synthetic cases of ``shape`` unless ``--data-dir``
    is given.
    """

    name = "3d-unet"
    conf_model = "3d-unet"
    description = "KiTS19 kidney/tumor segmentation, 3D-UNet, 128^3 sliding window, mean DICE"
    scenarios = ("SingleStream", "Offline")
    performance_sample_count = INFERENCE_CASES
    accuracy_metric = "DICE"
    needs_model_path = True
    needs_data_dir = True
    response_dtype = "uint8"  # the label volume
    target_fraction = 0.99
    #: One case is many 128³ patches (~3-20 s each on a CPU): calibration should time one, not many.
    calibration_min_runs = 1

    def __init__(self, *, synthetic: bool = False, seed: int = 0, cases: int = DEFAULT_CASES,
                 shape: tuple[int, int, int] = DEFAULT_SHAPE) -> None:
        self.synthetic = synthetic
        self.random_weights = synthetic  # until the user gives a model of their own
        self.seed = seed
        self.cases = cases
        self.shape = tuple(shape)
        self._synthetic_inputs: bool | None = None
        self._cases_cache: tuple[str, Any] | None = None

    def synthetic_variant(self) -> UNet3DBenchmark:
        """The performance-only variant (random weights and synthetic cases, unless files are given)."""
        return type(self)(synthetic=True, seed=self.seed, cases=self.cases, shape=self.shape)  # type: ignore[arg-type]

    def missing_files_hint(self) -> str:
        """What a real run needs, and the performance-only alternative."""
        return (f"benchmark {self.name} needs --model-path (the official {OFFICIAL_ONNX}, Zenodo record 5597155, see "
                "the MLPerf reference README) and --data-dir (the KiTS19 inference cases pre-processed by the "
                "reference: preprocessed_files.pkl with case_*.pkl, or nifti/case_*/imaging.nii.gz); without them, "
                "--synthetic runs performance only with random weights and synthetic cases")

    # -- model ---------------------------------------------------------------------------------------
    def default_model_path(self) -> Path | None:
        return model.model_cache_dir() / model.random_model_name(model.FILTERS, 128, self.seed) if self.synthetic else None

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            self.random_weights = True
            return model.build_random_model(seed=self.seed)
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise PodiumError(f"--model-path {path}: file not found")
        if path.suffix in (".pt", ".pth", ".ptc"):
            raise PodiumError(f"--model-path {path}: a PyTorch file; export it to ONNX first (the reference's "
                              "unet_pytorch_to_onnx.py) or pass the official ONNX file")
        self.random_weights = bool(model.read_model_info(path))
        return path

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """A random-weight model (``seed``; ``filters`` and ``roi`` for a smaller network)."""
        return model.build_random_model(out_dir, filters=tuple(options.get("filters", model.FILTERS)),
                                        roi=int(options.get("roi", 128)), seed=int(options.get("seed", self.seed)))

    def build_hint(self) -> str:
        return "podium build-model 3d-unet-99 (random weights), or pass the official model with --model-path"

    def create_runner(self, backend_name: str, backend_options: dict[str, Any], model_path: str | Path) -> Any:
        """What the harness runs: the sliding window over whole cases, the backend once per patch."""
        from podium.backends import get_backend

        return UNet3DModelRunner(get_backend(backend_name, **backend_options).load(model_path))

    def model_runner(self, backend: Any) -> UNet3DModelRunner:
        """The same for a backend already loaded."""
        return UNet3DModelRunner(backend)

    def harness_defaults(self, scenario: str) -> dict[str, int]:
        """One case per batch and one worker: the backend already spreads one patch over all cores, and
        two cases at once would only double the memory of the result volumes."""
        return {"max_batch_size": 1, "workers": 1, "max_wait_us": 0}

    # -- data ----------------------------------------------------------------------------------------
    # The base class still types the QSL as ArrayQSL; cases differ in shape, so they are not one array.
    def create_qsl(self, data_dir: str | Path | None = None) -> KitsQSL:  # type: ignore[override]
        if data_dir is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            source: Any = SyntheticCases(self.cases, self.shape, self.seed)  # type: ignore[arg-type]
            self._cases_cache = ("<synthetic>", source)
            self._synthetic_inputs = True
            return KitsQSL(f"{self.name}-synthetic", source)
        source = KitsCases(data_dir)
        self._cases_cache = (str(Path(data_dir).expanduser().resolve()), source)
        self._synthetic_inputs = False
        return KitsQSL(self.name, source)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        return responses(outputs)

    def accuracy_target(self) -> float:
        return REFERENCE_DICE * self.target_fraction

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        """Mean DICE against ``data_dir``'s ground truth (or the synthetic cases of this variant's run);
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

    # -- description ---------------------------------------------------------------------------------
    def run_labels(self) -> list[str]:
        """Lines every output of a run with this benchmark must carry (random weights, synthetic inputs)."""
        out = []
        if self.random_weights:
            out.append("random weights (3D-UNet of the official shape built locally: filters 32-320, 128^3 patches): "
                       "performance only, accuracy is meaningless")
        shape = "x".join(map(str, self.shape))
        if self._synthetic_inputs:
            out.append(f"synthetic inputs: {self.cases} random cases of {shape} (the official set is "
                       f"{INFERENCE_CASES} KiTS19 cases of varied, mostly larger shapes)")
        elif self._synthetic_inputs is None and self.synthetic:
            out.append(f"synthetic inputs: {self.cases} random cases of {shape}, unless --data-dir is given")
        return out

    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "synthetic": self.synthetic,
            "dataset": "KiTS19, 43 inference cases pre-processed by the reference, from --data-dir"
            if not self.synthetic else "synthetic cases unless --data-dir is given",
            "reference_accuracy": REFERENCE_DICE,
            "accuracy_target": self.accuracy_target(),
            "labels": self.run_labels(),
        }


class UNet3D99Benchmark(UNet3DBenchmark):
    """``3d-unet-99``: mean DICE ≥ 99 % of 0.86170 (0.853083)."""

    name = "3d-unet-99"
    target_fraction = 0.99


class UNet3D999Benchmark(UNet3DBenchmark):
    """``3d-unet-99.9``: mean DICE ≥ 99.9 % of 0.86170 (0.8608383)."""

    name = "3d-unet-99.9"
    target_fraction = 0.999
