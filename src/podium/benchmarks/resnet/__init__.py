"""``resnet``: ResNet50-v1.5 on the ImageNet 2012 validation set, closed division (MLPerf Inference v2.1).

mlperf.conf model ``resnet50``; performance sample count 1024; metric top-1 accuracy, target 99 % of the
FP32 reference 76.46 % (75.6954). Data: ``--data-dir`` holding ``val_map.txt`` and the images it lists,
pre-processed exactly like the reference (see ``vision.preprocess``) into the layout and element type the
model file declares, cached in RAM by the QSL on load. Model: the official ONNX file from ``--model-path``.
``synthetic_variant()`` (``podium run --synthetic``) runs performance only: a random-weight ResNet50-v1.5
built locally unless ``--model-path`` is given, synthetic random-pixel images unless ``--data-dir`` is.
Responses: the predicted label as one float32 (the reference's format; int32/int64 on request).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import ALL_SCENARIOS
from podium.benchmarks.resnet import accuracy, dataset, model
from podium.benchmarks.resnet.postprocess import label_responses, predicted_labels, response_dtype
from podium.benchmarks.vision.benchmark import VisionBenchmark
from podium.benchmarks.vision.preprocess import RESNET_MEANS, InputFormat, resnet_image
from podium.errors import PodiumError


class ResNetBenchmark(VisionBenchmark):
    """ResNet50-v1.5 image classification on ImageNet 2012 validation, top-1 accuracy."""

    name = "resnet"
    conf_model = "resnet50"
    description = "ResNet50-v1.5, ImageNet 2012 validation (224x224), top-1 accuracy (MLPerf v2.1 closed)"
    scenarios = ALL_SCENARIOS
    performance_sample_count = 1024
    accuracy_metric = "accuracy"
    needs_model_path = True
    needs_data_dir = True
    model_title = "ResNet50-v1.5"
    model_hint = ("the official resnet50_v1.onnx (https://zenodo.org/record/2592612/files/resnet50_v1.onnx, "
                  "opset 8, or https://zenodo.org/record/4735647/files/resnet50_v1.onnx, opset 11)")
    data_hint = dataset.DATA_HINT
    dataset_name = "ImageNet 2012 validation (val_map.txt)"
    default_input = InputFormat(height=224, width=224)
    response_dtype: np.dtype[Any]  # always a numpy dtype here (the accuracy script's --dtype)

    def __init__(self, *, synthetic: bool = False, seed: int = model.DEFAULT_SEED,
                 response_dtype_name: str = "float32") -> None:
        super().__init__(synthetic=synthetic, seed=seed)
        self.response_dtype = response_dtype(response_dtype_name)

    def synthetic_variant(self) -> ResNetBenchmark:
        return type(self)(synthetic=True, seed=self.seed, response_dtype_name=self.response_dtype.name)

    # -- model ---------------------------------------------------------------------------------------
    def random_model_file(self) -> Path:
        return model.random_model_file(self.seed)

    def build_random_model(self) -> Path:
        return model.random_model_path(self.seed)

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Write the random-weight ResNet50-v1.5 into ``out_dir`` (podium never builds the trained one)."""
        seed = int(options.get("seed", self.seed))
        out = Path(out_dir) / model.random_model_file(seed).name
        out.write_bytes(model.build_resnet50_v15(seed)[0].SerializeToString())
        return out

    # -- data ----------------------------------------------------------------------------------------
    def image_files(self, data_dir: str | Path) -> Sequence[Path]:
        return dataset.open_imagenet_val(data_dir).files

    def preprocess_image(self, bgr: np.ndarray, fmt: InputFormat) -> np.ndarray:
        return resnet_image(bgr, fmt.height, fmt.width)

    def normalise_pixels(self, pixels: np.ndarray) -> np.ndarray:
        # Synthetic images are drawn at the crop size: only the mean subtraction applies.
        return pixels.astype(np.float32) - RESNET_MEANS

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        return label_responses(predicted_labels(outputs), self.response_dtype)

    def accuracy_target(self) -> float:
        return accuracy.target()

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        if data_dir is None:
            raise PodiumError("benchmark resnet: scoring accuracy needs --data-dir (val_map.txt holds the labels; "
                              "synthetic images have none)")
        _, truth = dataset.read_val_map(Path(data_dir).expanduser() / dataset.VAL_MAP)
        return accuracy.score_top1(accuracy_log, truth, self.response_dtype, self.accuracy_metric)

    def labels(self) -> dict[str, Any]:
        return {**super().labels(), "response_dtype": self.response_dtype.name,
                "reference_accuracy": accuracy.REFERENCE_ACCURACY}
