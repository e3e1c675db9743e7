"""``digits``: podium's default benchmark, real data and a real trained model that install with podium.

Data: scikit-learn's bundled digits set (1,797 labelled 8×8 images, no download), the fixed test split of
``data`` (539 images) served by the QSL. Model: a small CNN trained with PyTorch, shipped as
``digits_cnn.onnx`` with ``digits_cnn.json`` (split, reference accuracy, sha256, torch version) beside it.
Responses are the predicted label as a little-endian int32, like the reference vision benchmarks. The
accuracy target is 99 % of the FP32 reference accuracy, the MLPerf way. "digits" is not in mlperf.conf, so
the ``*.*`` defaults apply.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult, decode_int32, read_accuracy_log
from podium.benchmarks.base import ALL_SCENARIOS, Benchmark
from podium.benchmarks.digits import data
from podium.benchmarks.qsl import ArrayQSL
from podium.errors import PodiumError

PACKAGE_DIR = Path(__file__).resolve().parent
MODEL_FILE = "digits_cnn.onnx"
META_FILE = "digits_cnn.json"
#: The MLPerf convention for a "99" benchmark: the run must reach 99 % of the FP32 reference accuracy.
TARGET_FRACTION = 0.99


@functools.lru_cache(maxsize=1)
def reference_metadata() -> dict[str, Any]:
    """The shipped ``digits_cnn.json`` (reference accuracy, split, sha256, torch version)."""
    path = PACKAGE_DIR / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PodiumError(f"{path}: digits model metadata missing; rebuild with "
                          "python scripts/build_digits_model.py") from None
    except json.JSONDecodeError as exc:
        raise PodiumError(f"{path}: not valid JSON ({exc})") from None


class DigitsBenchmark(Benchmark):
    """8×8 handwritten digit classification (10 classes), top-1 accuracy, a CNN of ~38k parameters."""

    response_dtype = "int32"
    compliance_sampling_target = 128  # no official TEST01 audit.config: log about a quarter of the test split

    name = "digits"
    conf_model = "digits"
    takes_data_dir = False  # the data ships inside scikit-learn
    description = "Handwritten digits 8x8 (scikit-learn digits, 539-image test split), small CNN, top-1 accuracy"
    scenarios = ALL_SCENARIOS
    performance_sample_count = 539
    accuracy_metric = "accuracy"
    random_weights = False

    def default_model_path(self) -> Path:
        return PACKAGE_DIR / MODEL_FILE

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        from podium.benchmarks.digits.build import build_model  # lazy: needs torch

        return build_model(out_dir, **options)

    def build_hint(self) -> str:
        return "python scripts/build_digits_model.py"

    def create_qsl(self, data_dir: str | Path | None = None) -> ArrayQSL:
        # data_dir is accepted and ignored: the data ships inside scikit-learn (suites pass one to all).
        images = data.test_images()

        def load(indices: np.ndarray) -> np.ndarray:
            return data.preprocess(images[indices])

        return ArrayQSL("digits", len(images), self.performance_sample_count, load)

    def raw_form(self) -> dict[str, Any]:
        """Raw 8x8 images (0-16 grey levels, float64 as scikit-learn ships them); the server pre-processes."""
        images = data.test_images()
        return {"name": "raw_image", "datatype": "FP64", "shape": [-1, 8, 8],
                "load": lambda idx: images[np.asarray(idx, dtype=np.int64)], "preprocess": data.preprocess}

    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        # argmax → int32 little-endian, then one 4-byte slice per sample from a single buffer.
        raw = outputs[0].argmax(axis=1).astype("<i4").tobytes()
        return [raw[i:i + 4] for i in range(0, len(raw), 4)]

    def reference_accuracy(self) -> float:
        """FP32 top-1 accuracy of the shipped model on the test split, as a fraction."""
        return float(reference_metadata()["reference_accuracy"])

    def accuracy_target(self) -> float:
        return 100.0 * TARGET_FRACTION * self.reference_accuracy()

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        truth = data.test_labels()
        responses = read_accuracy_log(accuracy_log, total_sample_count=truth.size, reference="podium's digits scorer")
        idx, predicted = decode_int32(responses, accuracy_log)
        good = int((predicted == truth[idx]).sum())
        total = int(idx.size)
        value = 100.0 * good / total
        target = self.accuracy_target()
        return AccuracyResult(
            metric=self.accuracy_metric,
            value=value,
            target=target,
            passed=value >= target,
            line=f"accuracy={value:.3f}%, good={good}, total={total}",
            details={"good": good, "total": total, "samples_in_dataset": int(truth.size),
                     "reference_accuracy": 100.0 * self.reference_accuracy()},
        )

    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": False,
            "dataset": "scikit-learn digits (real data, 539-image test split)",
            "reference_accuracy": 100.0 * self.reference_accuracy(),
        }
