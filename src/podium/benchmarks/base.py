"""What a benchmark declares: names, scenarios, data set (QSL), pre/post-processing, accuracy and model.

One module per benchmark subclasses ``Benchmark`` and registers an instance (see ``registry``). Benchmarks
know nothing of scheduling: the LoadGen engine drives the QSL, the harness calls ``postprocess`` on backend
outputs, and the accuracy scorer reads the accuracy log the engine wrote.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.qsl import ArrayQSL
from podium.errors import PodiumError

ALL_SCENARIOS: tuple[str, ...] = ("SingleStream", "MultiStream", "Server", "Offline")


class Benchmark(abc.ABC):
    """One inference task, described the way the MLPerf submission rules and mlperf.conf name it.

    Class attributes a subclass sets:
      ``name``: the submission-style benchmark name ("resnet", "bert-99", "digits").
      ``conf_model``: the model name used for mlperf.conf/user.conf look-ups ("resnet50", "bert").
      ``description``, ``scenarios`` (official spellings), ``performance_sample_count``.
      ``accuracy_metric``: the metric name in ``accuracy.txt`` ("accuracy", "F1", "mAP", …).
      ``random_weights``: True when the default model carries random weights (results are timing only).
      ``needs_model_path`` / ``needs_data_dir``: the user must pass ``--model-path`` / ``--data-dir``.
    """

    name: str = ""
    conf_model: str = ""
    description: str = ""
    scenarios: tuple[str, ...] = ALL_SCENARIOS
    performance_sample_count: int = 0
    accuracy_metric: str = "accuracy"
    random_weights: bool = False
    needs_model_path: bool = False
    needs_data_dir: bool = False
    #: False for benchmarks whose data ships with them: a ``--data-dir`` given to one is refused, not ignored
    takes_data_dir: bool = True
    #: Element type of a response, for the compliance TEST01 first-element comparison (official --dtype).
    #: the accuracy log's element type for compliance TEST01 (``--dtype`` of the official script), or a dtype
    response_dtype: "str | np.dtype[Any]" = "byte"
    #: TEST01 accuracy_log_sampling_target for benchmarks that have no official audit.config (None: official)
    compliance_sampling_target: int | None = None
    #: How many timed backend runs the short-run calibration needs at least (1 for multi-second samples).
    calibration_min_runs: int = 3
    #: False for benchmarks with no reference answers (the generic ``llm``): accuracy runs are skipped
    scores_accuracy: bool = True
    #: True when the model lives on a server only (``llm``): a run needs ``--sut-url``
    needs_remote_sut: bool = False

    def configure(self, options: dict[str, Any]) -> "Benchmark":
        """A copy of the benchmark with ``options`` (``RunRequest.benchmark_options``) applied."""
        if options:
            raise PodiumError(f"benchmark {self.name} takes no options (got {', '.join(sorted(options))})")
        return self

    def settings_defaults(self, scenario: str) -> dict[str, Any]:
        """TestSettings fields this benchmark starts from before the settings files (token latencies ...)."""
        return {}

    # -- model ---------------------------------------------------------------------------------------
    def default_model_path(self) -> Path | None:
        """The model used when the user gives none (shipped or built into a cache), or None."""
        return None

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        """The user's model path if given (it must exist), else the default; raises if neither is usable."""
        if model_path is not None:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise PodiumError(f"--model-path {path}: file not found")
            return path
        default = self.default_model_path()
        if default is None:
            raise PodiumError(f"benchmark {self.name}: no default model; pass --model-path")
        if not default.is_file():
            raise PodiumError(f"benchmark {self.name}: default model {default} is missing; "
                              f"rebuild it ({self.build_hint()}) or pass --model-path")
        return default

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Build the model file into ``out_dir`` (trained or random weights) and return its path."""
        raise PodiumError(f"benchmark {self.name}: cannot build its model; pass --model-path")

    def build_hint(self) -> str:
        """How a user gets the model, for error messages."""
        return "pass --model-path"

    def create_runner(self, backend_name: str, backend_options: dict[str, Any], model_path: str | Path) -> Any:
        """What the harness runs batches on: by default the backend itself, loaded with the model. Benchmarks
        whose inference is more than one model call (RNN-T decoding, 3D-UNet sliding windows) wrap it."""
        from podium.backends import get_backend

        backend = get_backend(backend_name, **backend_options)
        backend.load(str(model_path))
        return backend

    def synthetic_variant(self) -> "Benchmark":
        """The same benchmark for performance-only runs (random weights, synthetic inputs), if it has one."""
        raise PodiumError(f"--synthetic: benchmark {self.name} has no performance-only variant"
                          + (" (it ships its model and data)" if not self.needs_data_dir else ""))

    def missing_files_hint(self) -> str:
        """What a real run needs, and where the official files come from (empty: nothing needed)."""
        return ""

    def raw_form(self) -> dict[str, Any] | None:
        """The un-pre-processed input, for network runs that leave pre-processing to the server node:
        ``{"name", "datatype", "shape" (per request, -1 = batch), "load" (QSL indices -> raw array),
        "preprocess" (raw array -> model input)}``, or None when the benchmark has no raw form."""
        return None

    def harness_defaults(self, scenario: str) -> dict[str, int]:
        """Batching defaults for the harness in this scenario (``max_batch_size``, ``max_wait_us``, ``workers``)."""
        return {}

    def run_labels(self) -> list[str]:
        """Lines every output of a run with this benchmark must carry (random weights, synthetic inputs, …)."""
        return ["random weights: performance only, accuracy is meaningless"] if self.random_weights else []

    def synthetic_run_labels(self, random_label: str, synthetic_label: str) -> list[str]:
        """``run_labels`` for benchmarks with a ``synthetic`` mode: random weights, then synthetic inputs
        (known once the QSL is made: ``_synthetic_inputs``; until then "unless --data-dir is given")."""
        out = []
        if self.random_weights:
            out.append(random_label)
        inputs = getattr(self, "_synthetic_inputs", None)
        if inputs:
            out.append(synthetic_label)
        elif inputs is None and getattr(self, "synthetic", False):
            out.append(synthetic_label + ", unless --data-dir is given")
        return out

    # -- data ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_qsl(self, data_dir: str | Path | None = None) -> ArrayQSL:
        """The QSL over this benchmark's evaluation set (samples pre-processed on ``load_samples``)."""

    # -- outputs and accuracy ------------------------------------------------------------------------
    @abc.abstractmethod
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        """Backend outputs for a batch → one response payload (bytes) per sample, in batch order.

        ``indices`` are the batch's QSL indices (int64, one per sample, in batch order): the harness and the
        network client always pass them; a server post-processing requests that carry no indices passes None
        (a benchmark whose responses need them then raises a one-line ``PodiumError``). Called from a harness
        worker thread, one batch at a time per thread; it must not keep ``outputs`` or ``indices``.
        """

    @abc.abstractmethod
    def accuracy_target(self) -> float:
        """The value ``score_accuracy`` must reach, in the metric's unit."""

    @abc.abstractmethod
    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        """Score ``mlperf_log_accuracy.json`` (a file or the folder holding it) against the ground truth."""

    # -- description ---------------------------------------------------------------------------------
    def supports(self, scenario: str) -> bool:
        """Whether ``scenario`` (official spelling, any case) is one this benchmark runs in."""
        return scenario.lower() in {s.lower() for s in self.scenarios}

    def labels(self) -> dict[str, Any]:
        """Flags to show next to results (random weights, data set, reference accuracy, …)."""
        return {"random_weights": self.random_weights}

    def info(self) -> dict[str, Any]:
        """Everything a listing or result file shows about the benchmark."""
        return {
            "name": self.name,
            "conf_model": self.conf_model,
            "description": self.description,
            "scenarios": list(self.scenarios),
            "performance_sample_count": self.performance_sample_count,
            "accuracy_metric": self.accuracy_metric,
            "needs_model_path": self.needs_model_path,
            "needs_data_dir": self.needs_data_dir,
            **self.labels(),
        }
