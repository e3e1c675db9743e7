"""The ONNX Runtime backend: one ``InferenceSession`` per loaded model.

Input and output names, types and shapes are read from the model; nothing is hard-coded. ONNX Runtime
releases the GIL inside ``InferenceSession.run``, and a session may be run from several threads at once, so
one backend instance can serve a whole worker pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from podium.backends.base import Backend, BackendError, Batch, TensorSpec, first_line
from podium.backends.options import as_int, as_str_list

#: ONNX element type strings as ONNX Runtime reports them → numpy dtypes.
_ORT_TYPES: dict[str, np.dtype] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(int16)": np.dtype(np.int16),
    "tensor(uint16)": np.dtype(np.uint16),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(uint32)": np.dtype(np.uint32),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(uint64)": np.dtype(np.uint64),
    "tensor(bool)": np.dtype(np.bool_),
}

_OPT_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "none": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


class OnnxRuntimeBackend(Backend):
    """Runs ONNX models with ONNX Runtime.

    Options (all optional; strings are accepted so they can come from a command line):
    ``intra_op_threads`` / ``inter_op_threads`` (0 = ONNX Runtime's default), ``providers`` (list or
    comma-separated; default CPUExecutionProvider), ``graph_optimization_level`` (disable/basic/extended/all),
    ``execution_mode`` (sequential/parallel), ``session_options`` (``SessionOptions`` attributes by name;
    keys containing a dot are passed as session config entries, e.g. ``session.intra_op.allow_spinning``).
    """

    name = "onnxruntime"

    def __init__(
        self,
        intra_op_threads: int | str = 0,
        inter_op_threads: int | str = 0,
        providers: list[str] | str | None = None,
        graph_optimization_level: str = "all",
        execution_mode: str = "sequential",
        session_options: dict[str, Any] | None = None,
    ) -> None:
        import onnxruntime as ort  # imported here so that listing backends stays cheap

        self._ort = ort
        self.intra_op_threads = as_int(intra_op_threads, "intra_op_threads")
        self.inter_op_threads = as_int(inter_op_threads, "inter_op_threads")
        available = ort.get_available_providers()
        self.providers = as_str_list(providers, "providers") if providers is not None else ["CPUExecutionProvider"]
        for p in self.providers:
            if p not in available:
                raise BackendError(f"backend option providers: {p!r} is not available in this onnxruntime "
                                   f"build (available: {', '.join(available)})")
        level = str(graph_optimization_level).lower()
        if level not in _OPT_LEVELS:
            raise BackendError(f"backend option graph_optimization_level: expected one of "
                               f"{', '.join(_OPT_LEVELS)}, got {graph_optimization_level!r}")
        self.graph_optimization_level = level
        mode = str(execution_mode).lower()
        if mode not in ("sequential", "parallel"):
            raise BackendError("backend option execution_mode: expected sequential or parallel, "
                               f"got {execution_mode!r}")
        self.execution_mode = mode
        self.session_options = dict(session_options or {})
        self.model_path: Path | None = None
        self._session: Any = None
        self._inputs: list[TensorSpec] = []
        self._outputs: list[TensorSpec] = []
        self._single_input: str | None = None

    @property
    def version(self) -> str:
        return str(self._ort.__version__)

    def _make_session_options(self) -> Any:
        ort = self._ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.intra_op_threads
        so.inter_op_num_threads = self.inter_op_threads
        so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPT_LEVELS[self.graph_optimization_level])
        so.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if self.execution_mode == "parallel"
                             else ort.ExecutionMode.ORT_SEQUENTIAL)
        so.log_severity_level = 3  # errors only: warnings about unused initialisers etc. would clutter runs
        for key, value in self.session_options.items():
            if "." in key:
                so.add_session_config_entry(key, str(value))
            elif hasattr(so, key) and not callable(getattr(so, key)):
                try:
                    setattr(so, key, value)
                except (TypeError, ValueError) as exc:
                    raise BackendError(f"backend option session_options.{key}: {exc}") from None
            else:
                raise BackendError(f"backend option session_options.{key}: not an onnxruntime SessionOptions "
                                   "attribute (use a dotted key for a session config entry)")
        return so

    def load(self, model_path: str | Path) -> OnnxRuntimeBackend:
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"{path}: model file not found")
        try:
            session = self._ort.InferenceSession(str(path), sess_options=self._make_session_options(),
                                                 providers=self.providers)
        except BackendError:
            raise
        except Exception as exc:  # ONNX Runtime raises its own pybind exception types (InvalidProtobuf, Fail…)
            raise BackendError(f"{path}: not a loadable ONNX model ({first_line(exc)})") from None
        self._session = session
        self.model_path = path
        self._inputs = [_spec(a) for a in session.get_inputs()]
        self._outputs = [_spec(a) for a in session.get_outputs()]
        self._single_input = self._inputs[0].name if len(self._inputs) == 1 else None
        return self

    @property
    def inputs(self) -> list[TensorSpec]:
        self._require_loaded()
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorSpec]:
        self._require_loaded()
        return list(self._outputs)

    def run(self, batch: Batch) -> list[np.ndarray]:
        session = self._session
        if session is None:
            self._require_loaded()
        if isinstance(batch, np.ndarray):
            if self._single_input is None:
                names = ", ".join(s.name for s in self._inputs)
                raise BackendError(f"{self.model_path}: the model has several inputs ({names}); pass a dict")
            feed = {self._single_input: batch}
        else:
            feed = batch
        try:
            return session.run(None, feed)
        except Exception as exc:
            raise BackendError(f"{self.model_path}: inference failed ({first_line(exc)})") from None

    def config(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "version": self.version,
            "model_path": str(self.model_path) if self.model_path else None,
            "providers": list(self.providers),
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": self.inter_op_threads,
            "graph_optimization_level": self.graph_optimization_level,
            "execution_mode": self.execution_mode,
            "session_options": dict(self.session_options),
        }

    def close(self) -> None:
        self._session = None

    def _require_loaded(self) -> None:
        if self._session is None:
            raise BackendError("onnxruntime backend: no model loaded (call load(model_path) first)")


def _spec(arg: Any) -> TensorSpec:
    dtype = _ORT_TYPES.get(arg.type, np.dtype(object))
    shape = tuple(d if isinstance(d, int) else (d or None) for d in (arg.shape or ()))
    return TensorSpec(name=arg.name, dtype=dtype, shape=shape)
