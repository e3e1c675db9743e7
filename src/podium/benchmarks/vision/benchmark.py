"""``VisionBenchmark``: what ``resnet`` and ``retinanet`` share about models and data.

Model: the user's file from ``--model-path`` (the official ONNX file for a closed run), or, in the
``synthetic_variant()`` (``podium run --synthetic``), a random-weight build of the same graph from the model
cache. Data: the official folder from ``--data-dir``, pre-processed like the reference, or, in the synthetic
variant without ``--data-dir``, random-pixel images. Either way the samples are laid out as the model file
declares (``resolve_model_path`` reads its input), and every output of a run that is not real says so.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.base import Benchmark
from podium.benchmarks.qsl import ArrayQSL
from podium.benchmarks.vision.images import fill_rows, read_bgr
from podium.benchmarks.vision.preprocess import InputFormat, to_input_format
from podium.benchmarks.vision.synthetic import synthetic_label, synthetic_loader
from podium.errors import PodiumError


class VisionBenchmark(Benchmark):
    """Model and data handling of an image benchmark; subclasses add the task (outputs, accuracy).

    Class attributes a subclass sets besides ``Benchmark``'s: ``model_title`` (e.g. "ResNet50-v1.5"),
    ``model_hint`` / ``data_hint`` (what the official files are and where they come from), ``dataset_name``
    and ``default_input`` (the official model's input format, used when the model file says nothing).
    """

    model_title: str = ""
    model_hint: str = ""
    data_hint: str = ""
    dataset_name: str = ""  # what the real data set is, for ``labels``
    default_input: InputFormat = InputFormat()
    #: The QSL type (RetinaNet's notes which indices it served).
    qsl_class: type[ArrayQSL] = ArrayQSL

    def __init__(self, *, synthetic: bool = False, seed: int = 0) -> None:
        self.synthetic = synthetic
        self.random_weights = synthetic  # until the user gives a model of their own
        self.seed = seed
        #: The model's input, discovered by ``resolve_model_path``; ``create_qsl`` lays samples out for it.
        self.input_format = self.default_input
        #: Whether the last ``create_qsl`` served random-pixel images.
        self.synthetic_inputs = False

    def synthetic_variant(self) -> VisionBenchmark:
        """The performance-only variant: random weights unless ``--model-path``, random images unless
        ``--data-dir``."""
        return type(self)(synthetic=True, seed=self.seed)

    @property
    def max_batch_size(self) -> int | None:
        """The batch size the model file is fixed to (the official RetinaNet: 1), None when dynamic."""
        return self.input_format.batch

    # -- model ---------------------------------------------------------------------------------------
    def synthetic_hint(self) -> str:
        """The performance-only alternative, for error messages."""
        return (f"or --synthetic for a performance-only run with a random-weight {self.model_title} built locally "
                "and synthetic images")

    def default_model_path(self) -> Path | None:
        return self.random_model_file() if self.synthetic else None

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is not None:
            path = super().resolve_model_path(model_path)
        elif self.synthetic:
            path = self.build_random_model()
        else:
            raise PodiumError(f"benchmark {self.name}: needs --model-path: {self.model_hint}; {self.synthetic_hint()}")
        self.input_format, self.random_weights = self.inspect(path)
        return path

    def inspect(self, path: Path) -> tuple[InputFormat, bool]:
        """The model's input format and whether it is a random-weight build of podium's (an ONNX file is read;
        other files get the official input format)."""
        if path.suffix.lower() != ".onnx":
            return self.default_input, False
        from podium.benchmarks.vision.model_inputs import inspect_model

        info = inspect_model(path, self.default_input.height, self.default_input.width)
        return info.input, info.podium_random_weights

    def build_hint(self) -> str:
        return f"pass --model-path with {self.model_hint}"

    @abc.abstractmethod
    def random_model_file(self) -> Path:
        """Where the random-weight model is cached (it may not be built yet)."""

    @abc.abstractmethod
    def build_random_model(self) -> Path:
        """The cached random-weight model, built first if missing or stale."""

    # -- data ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def image_files(self, data_dir: str | Path) -> Sequence[Path]:
        """The data set's image files in QSL order (raises naming what is missing)."""

    @abc.abstractmethod
    def preprocess_image(self, bgr: np.ndarray, fmt: InputFormat) -> np.ndarray:
        """The reference pre-processing of one ``cv2.imread`` image → (H, W, 3) float32."""

    @abc.abstractmethod
    def normalise_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Random uint8 pixels at the input size → what the pre-processing would make of them."""

    def create_qsl(self, data_dir: str | Path | None = None, input_format: InputFormat | None = None) -> ArrayQSL:
        fmt = input_format or self.input_format
        if data_dir is None:
            if not self.synthetic:
                raise PodiumError(f"benchmark {self.name}: needs --data-dir: {self.data_hint}; "
                                  f"{self.synthetic_hint()}")
            self.synthetic_inputs = True
            count = self.performance_sample_count
            return self.qsl_class(f"{self.name}-synthetic", count, count, synthetic_loader(fmt, self.normalise_pixels))
        files = self.image_files(data_dir)
        self.synthetic_inputs = False
        return self.qsl_class(self.name, len(files), self.performance_sample_count, self._loader(files, fmt))

    def _loader(self, files: Sequence[Path], fmt: InputFormat) -> Callable[[np.ndarray], np.ndarray]:
        def make_row(path: object) -> np.ndarray:
            return to_input_format(self.preprocess_image(read_bgr(path), fmt), fmt)  # type: ignore[arg-type]

        def load(indices: np.ndarray) -> np.ndarray:
            out = np.empty((len(indices),) + fmt.sample_shape, dtype=fmt.dtype)
            return fill_rows(out, [files[i] for i in indices], make_row)

        return load

    # -- description ---------------------------------------------------------------------------------
    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "model": (f"random-weight {self.model_title} built by podium (seed {self.seed}) - performance only"
                      if self.random_weights else "ONNX model from --model-path"),
            "dataset": ("synthetic random-pixel images - performance only" if self.synthetic_inputs
                        else self.dataset_name),
            "input": self.input_format.describe(),
        }

    def run_labels(self) -> list[str]:
        """Lines every output of the run must carry (random weights, synthetic inputs)."""
        out = super().run_labels()
        if self.synthetic_inputs:
            out.append(synthetic_label(self.performance_sample_count, self.input_format))
        return out
