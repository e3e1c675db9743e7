"""The OpenVINO backend: reads ONNX and OpenVINO IR (``.xml`` with its ``.bin``), compiles for a device with a
performance hint, and runs batches on a pool of infer requests.

Who calls what: ``load`` once, from the thread setting up the run; ``run`` from any number of harness worker
threads at once — each call takes an idle infer request from the pool (blocking until one is free), runs it
(OpenVINO releases the GIL while it computes) and returns copies of its outputs. The pool has as many requests
as the compiled model's ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` (or ``num_requests``), so with the THROUGHPUT hint
and enough harness workers every stream of the device stays busy, which is what OpenVINO's own async queue
achieves for one caller.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import numpy as np

from podium.backends.base import Backend, BackendError, Batch, TensorSpec, first_line
from podium.backends.options import as_int

_HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT", "cumulative_throughput": "CUMULATIVE_THROUGHPUT"}
_PRECISIONS = {"f32": "f32", "fp32": "f32", "bf16": "bf16", "f16": "f16", "fp16": "f16"}


class OpenVinoBackend(Backend):
    """Runs ONNX or IR models with OpenVINO.

    Options (strings accepted): ``device`` (CPU, GPU, NPU, AUTO, ...; default CPU), ``hint``
    (latency/throughput/cumulative_throughput; default throughput), ``num_streams`` (0 = the hint's choice),
    ``num_requests`` (0 = the compiled model's optimal number), ``threads`` (inference threads, 0 = all),
    ``precision`` (inference precision hint: f32, bf16, f16; default f32 — OpenVINO's own CPU default is bf16
    where the CPU has AMX, which changes results silently), ``cache_dir`` (compiled model cache).
    """

    name = "openvino"

    def __init__(self, device: str = "CPU", hint: str = "throughput", num_streams: int | str = 0,
                 num_requests: int | str = 0, threads: int | str = 0, precision: str | None = "f32",
                 cache_dir: str | None = None) -> None:
        import openvino as ov

        self._ov = ov
        self.core = ov.Core()
        self.device = str(device).upper()
        available = self.core.available_devices
        base = self.device.split(".")[0].split(":")[0]
        if base not in ("AUTO", "MULTI", "HETERO") and not any(d.split(".")[0] == base for d in available):
            raise BackendError(f"backend option device: {device!r} is not available here "
                               f"(OpenVINO sees: {', '.join(available) or 'no device'})")
        h = str(hint).lower()
        if h not in _HINTS:
            raise BackendError(f"backend option hint: expected one of {', '.join(_HINTS)}, got {hint!r}")
        self.hint = h
        self.num_streams = as_int(num_streams, "num_streams")
        self.num_requests = as_int(num_requests, "num_requests")
        self.threads = as_int(threads, "threads")
        if precision is not None and str(precision).lower() not in _PRECISIONS:
            raise BackendError(f"backend option precision: expected one of f32, bf16, f16, got {precision!r}")
        self.precision = _PRECISIONS[str(precision).lower()] if precision is not None else None
        self.cache_dir = cache_dir
        self.model_path: Path | None = None
        self._compiled: Any = None
        self._pool: queue.Queue[Any] = queue.Queue()
        self._inputs: list[TensorSpec] = []
        self._outputs: list[TensorSpec] = []
        self.requests = 0

    @property
    def version(self) -> str:
        return str(self._ov.__version__)

    def load(self, model_path: str | Path) -> "OpenVinoBackend":
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"{path}: model file not found")
        if path.suffix.lower() not in (".onnx", ".xml"):
            raise BackendError(f"{path}: the openvino backend reads ONNX (.onnx) and OpenVINO IR (.xml) models")
        config: dict[str, Any] = {"PERFORMANCE_HINT": _HINTS[self.hint]}
        if self.num_streams:
            config["NUM_STREAMS"] = str(self.num_streams)
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = str(self.threads)
        if self.precision:
            config["INFERENCE_PRECISION_HINT"] = self.precision
        if self.cache_dir:
            config["CACHE_DIR"] = str(self.cache_dir)
        try:
            model = self.core.read_model(str(path))
            compiled = self.core.compile_model(model, self.device, config)
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long multi-line texts
            raise BackendError(f"{path}: OpenVINO cannot compile it for {self.device} ({first_line(exc)})") from None
        self._compiled = compiled
        self.model_path = path
        self._inputs = [_spec(p, i) for i, p in enumerate(compiled.inputs)]
        self._outputs = [_spec(p, i) for i, p in enumerate(compiled.outputs)]
        n = self.num_requests or int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.requests = max(1, n)
        for _ in range(self.requests):
            self._pool.put(compiled.create_infer_request())
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
        self._require_loaded()
        if isinstance(batch, np.ndarray):
            if len(self._inputs) != 1:
                names = ", ".join(s.name for s in self._inputs)
                raise BackendError(f"{self.model_path}: the model has several inputs ({names}); pass a dict")
            feed: Any = {0: batch}
        else:
            feed = batch
        request = self._pool.get()
        try:
            request.infer(feed)
            # copies: the request's buffers are reused by the next call that takes it
            return [np.array(request.get_output_tensor(i).data) for i in range(len(self._outputs))]
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{self.model_path}: inference failed ({first_line(exc)})") from None
        finally:
            self._pool.put(request)

    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.name, "version": self.version, "device": self.device,
                               "hint": self.hint, "requests": self.requests,
                               "model_path": str(self.model_path) if self.model_path else None}
        if self._compiled is not None:
            for key in ("NUM_STREAMS", "INFERENCE_NUM_THREADS", "INFERENCE_PRECISION_HINT"):
                try:
                    out[key.lower()] = str(self._compiled.get_property(key))
                except Exception:  # a property this device does not report
                    pass
            try:
                out["device_name"] = str(self.core.get_property(self.device.split(":")[0], "FULL_DEVICE_NAME"))
            except Exception:
                pass
        return out

    def close(self) -> None:
        self._compiled = None
        self._pool = queue.Queue()

    def _require_loaded(self) -> None:
        if self._compiled is None:
            raise BackendError("openvino backend: no model loaded (call load(model_path) first)")


def _spec(port: Any, index: int) -> TensorSpec:
    try:
        name = port.get_any_name()
    except Exception:  # an output with no name
        name = f"output_{index}"
    et = port.get_element_type()
    try:
        dtype = np.dtype(et.to_dtype())
    except Exception:
        dtype = np.dtype(object)
    shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
    return TensorSpec(name=name, dtype=dtype, shape=shape)
