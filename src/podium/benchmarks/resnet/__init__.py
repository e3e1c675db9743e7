"""``resnet``: ResNet50-v1.5 on the ImageNet 2012 validation set, closed division (MLPerf Inference v2.1).

mlperf.conf model ``resnet50``; performance sample count 1024; metric top-1 accuracy, target 99 % of the
FP32 reference 76.46 % (75.6954). Data: ``--data-dir`` holding ``val_map.txt`` and the images it lists,
pre-processed exactly like the reference (see ``vision.preprocess``) into the layout and element type the
model file declares, cached in RAM by the QSL on load. Model: the official ONNX file from ``--model-path``,
or, with ``with_random_weights()`` (``podium run --random-weights``), a random-weight ResNet50-v1.5 built
locally for performance-only runs; without ``--data-dir`` such a run uses synthetic random-pixel images.
Responses: the predicted label as one float32 (the reference's format; int32/int64 on request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import ALL_SCENARIOS, Benchmark
from podium.benchmarks.qsl import ArrayQSL
from podium.benchmarks.resnet import accuracy, dataset, model
from podium.benchmarks.resnet.postprocess import label_responses, predicted_labels, response_dtype
from podium.benchmarks.vision.images import fill_rows, read_bgr
from podium.benchmarks.vision.preprocess import RESNET_MEANS, InputFormat, resnet_image, to_input_format
from podium.benchmarks.vision.synthetic import synthetic_label, synthetic_loader
from podium.errors import PodiumError

#: Where the official model comes from, for error messages (podium never downloads it).
MODEL_HINT = ("the official resnet50_v1.onnx (https://zenodo.org/record/2592612/files/resnet50_v1.onnx, "
              "opset 8, or https://zenodo.org/record/4735647/files/resnet50_v1.onnx, opset 11)")
RANDOM_HINT = "or --random-weights for a performance-only run with a random-weight ResNet50-v1.5 built locally"


class ResNetBenchmark(Benchmark):
    """ResNet50-v1.5 image classification on ImageNet 2012 validation, top-1 accuracy."""

    name = "resnet"
    conf_model = "resnet50"
    description = "ResNet50-v1.5, ImageNet 2012 validation (224x224), top-1 accuracy (MLPerf v2.1 closed)"
    scenarios = ALL_SCENARIOS
    performance_sample_count = 1024
    accuracy_metric = "accuracy"
    needs_model_path = True
    needs_data_dir = True
    #: The official model takes any batch size.
    max_batch_size: int | None = None

    def __init__(self, random_weights: bool = False, response_dtype_name: str = "float32",
                 seed: int = model.DEFAULT_SEED) -> None:
        self.random_weights = random_weights
        self.response_dtype = response_dtype(response_dtype_name)
        self.seed = seed
        #: The model's input, discovered by ``resolve_model_path``; ``create_qsl`` lays samples out for it.
        self.input_format: InputFormat = InputFormat(height=224, width=224)
        self.synthetic = False

    def with_random_weights(self, seed: int = model.DEFAULT_SEED) -> ResNetBenchmark:
        """The performance-only variant: random-weight model, synthetic images when no data folder is given."""
        return type(self)(random_weights=True, response_dtype_name=self.response_dtype.name, seed=seed)

    # -- model ---------------------------------------------------------------------------------------
    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if self.random_weights:
            if model_path is not None:
                raise PodiumError("--random-weights and --model-path: choose one (--random-weights builds "
                                  "its own model)")
            path = model.random_model_path(self.seed)
        elif model_path is None:
            raise PodiumError(f"benchmark resnet: needs --model-path: {MODEL_HINT}; {RANDOM_HINT}")
        else:
            path = super().resolve_model_path(model_path)
        self.input_format = discover_input(path)
        return path

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Write the random-weight ResNet50-v1.5 into ``out_dir`` (podium never builds the trained one)."""
        seed = int(options.get("seed", self.seed))
        out = Path(out_dir) / f"resnet50_v1.5_random_seed{seed}.onnx"
        out.write_bytes(model.build_resnet50_v15(seed)[0].SerializeToString())
        return out

    def build_hint(self) -> str:
        return f"pass --model-path with {MODEL_HINT}"

    # -- data ----------------------------------------------------------------------------------------
    def create_qsl(self, data_dir: str | Path | None = None, input_format: InputFormat | None = None) -> ArrayQSL:
        fmt = input_format or self.input_format
        if data_dir is None:
            if not self.random_weights:
                raise PodiumError(f"benchmark resnet: needs --data-dir: {dataset.DATA_HINT}; {RANDOM_HINT} "
                                  "and synthetic images")
            self.synthetic = True
            loader = synthetic_loader(fmt, _normalise_pixels)
            return ArrayQSL("resnet-synthetic", self.performance_sample_count, self.performance_sample_count,
                            loader)
        self.synthetic = False
        val = dataset.open_imagenet_val(data_dir)

        def make_row(path: object) -> np.ndarray:
            return to_input_format(resnet_image(read_bgr(path), fmt.height, fmt.width), fmt)  # type: ignore[arg-type]

        def load(indices: np.ndarray) -> np.ndarray:
            out = np.empty((len(indices),) + fmt.sample_shape, dtype=fmt.dtype)
            return fill_rows(out, [val.files[i] for i in indices], make_row)

        return ArrayQSL("resnet", len(val), self.performance_sample_count, load)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray]) -> list[bytes]:
        return label_responses(predicted_labels(outputs), self.response_dtype)

    def accuracy_target(self) -> float:
        return accuracy.target()

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        if data_dir is None:
            raise PodiumError("benchmark resnet: scoring accuracy needs --data-dir (val_map.txt holds the labels; "
                              "synthetic images have none)")
        _, truth = dataset.read_val_map(Path(data_dir).expanduser() / dataset.VAL_MAP)
        return accuracy.score_top1(accuracy_log, truth, self.response_dtype, self.accuracy_metric)

    # -- description ---------------------------------------------------------------------------------
    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "model": (f"random-weight ResNet50-v1.5 built by podium (seed {self.seed}) - performance only"
                      if self.random_weights else "ONNX model from --model-path"),
            "dataset": ("synthetic random-pixel images - performance only" if self.synthetic
                        else "ImageNet 2012 validation (val_map.txt)"),
            "input": self.input_format.describe(),
            "response_dtype": self.response_dtype.name,
            "reference_accuracy": accuracy.REFERENCE_ACCURACY,
        }

    def output_labels(self) -> list[str]:
        """Lines every output of a run must carry (synthetic data); the runner adds random weights itself."""
        if self.synthetic:
            return [synthetic_label(self.performance_sample_count, self.input_format)]
        return []


def _normalise_pixels(pixels: np.ndarray) -> np.ndarray:
    """Synthetic images get the reference's mean subtraction (they are already at the crop size)."""
    return pixels.astype(np.float32) - RESNET_MEANS


def discover_input(path: Path) -> InputFormat:
    """The model's input format: read from an ONNX file, else the official NCHW float32 224×224."""
    if path.suffix.lower() != ".onnx":
        return InputFormat(height=224, width=224)
    from podium.benchmarks.vision.model_inputs import inspect_image_input

    return inspect_image_input(path, 224, 224)
