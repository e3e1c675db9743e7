"""What ``podium serve`` serves: a model with protocol metadata, run on a backend, one request per call.

A ``ServedModel`` checks every input against its metadata, optionally pre-processes raw samples (the "raw"
form of a benchmark, when pre-processing is left to the server node), runs the backend once per request (a
request may carry a batch: the first dimension), and answers the requested outputs. When it has the
benchmark's post-processing, it also offers ``mlperf_response``: one BYTES element per sample holding exactly
the response bytes LoadGen records, so the LoadGen node does no post-processing (the network division's rule).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.network.errors import ProtocolError, ServeError
from podium.network.tensors import TensorMeta, check_against, datatype_of

#: Name of the output holding the benchmark's post-processed response bytes, one BYTES element per sample.
RESPONSE_OUTPUT = "mlperf_response"

#: ``preprocess(raw batch) -> model input`` (an array, or a dict for multi-input models).
Preprocess = Callable[[np.ndarray], Any]
#: ``postprocess(model outputs, None) -> one response payload per sample`` (a request carries no QSL indices).
Postprocess = Callable[[list[np.ndarray], Any], Sequence[bytes]]


def meta_from_spec(spec: Any) -> TensorMeta:
    """A backend ``TensorSpec`` (name, numpy dtype, shape with names/None for dynamic dims) as metadata."""
    return TensorMeta(spec.name, datatype_of(spec.dtype),
                      tuple(int(d) if isinstance(d, (int, np.integer)) and d >= 0 else -1 for d in spec.shape))


@dataclass
class ServedModel:
    """One model behind the protocol: metadata, input checks, and the call into the backend.

    ``inputs`` describe what a request must carry. Without ``preprocess`` they are the backend's own inputs
    and go to it as they are; with ``preprocess`` (a raw form) the single raw input is pre-processed here and
    the result goes to the backend. ``backend_outputs`` name the backend's outputs in its order.
    """

    name: str
    backend: Any
    inputs: list[TensorMeta]
    backend_outputs: list[TensorMeta]
    platform: str = "onnx_onnxv1"
    version: str = "1"
    preprocess: Preprocess | None = None
    postprocess: Postprocess | None = None
    properties: dict[str, str] = field(default_factory=dict)
    #: The largest batch (first dimension) one request may carry; None: no limit beyond the body size. A
    #: request over it is refused before its data is decoded (413 / RESOURCE_EXHAUSTED, the limit named).
    max_batch: int | None = None
    #: Samples per backend call: a larger request runs in chunks of this size, so that what one request
    #: costs in activations (and in the backend's memory arena, which keeps its peak) stays bounded.
    #: None: the whole request in one call.
    backend_batch: int | None = None
    #: Requests answered and failed, for the server log and tests.
    requests: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def outputs(self) -> list[TensorMeta]:
        """Every output a request may ask for: the backend's, plus ``mlperf_response`` when post-processing."""
        extra = [TensorMeta(RESPONSE_OUTPUT, "BYTES", (-1,))] if self.postprocess is not None else []
        return [*self.backend_outputs, *extra]

    def __post_init__(self) -> None:
        for flag, value in (("--max-batch", self.max_batch), ("--backend-batch", self.backend_batch)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ServeError(f"{flag}: expected a positive integer, got {value!r}")

    def metadata(self) -> dict[str, Any]:
        """The ``$metadata_model_response`` object (``properties.max_batch_size``: the per-request cap)."""
        props = dict(self.properties)
        if self.max_batch is not None:
            props["max_batch_size"] = str(self.max_batch)  # clients split larger queries (see client.py)
        return {"name": self.name, "versions": [self.version], "platform": self.platform,
                "inputs": [m.to_json() for m in self.inputs], "outputs": [m.to_json() for m in self.outputs],
                **({"properties": props} if props else {})}

    def input_meta(self, name: str) -> TensorMeta:
        """The metadata of input ``name``; a protocol error if the model has no such input."""
        for m in self.inputs:
            if m.name == name:
                return m
        raise ProtocolError(f"model {self.name!r} has no input {name!r}; its inputs are "
                            f"{', '.join(m.name for m in self.inputs)}")

    def check_request(self, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> None:
        """Check names, datatypes and shapes of a request's inputs (before any data is decoded)."""
        for name, (datatype, shape) in tensors.items():
            check_against(self.input_meta(name), datatype, shape)
        missing = [m.name for m in self.inputs if m.name not in tensors]
        if missing:
            raise ProtocolError(f"model {self.name!r}: request lacks input {missing[0]!r}")
        batch = {shape[0] for _, shape in tensors.values() if shape}
        if len(batch) > 1:
            raise ProtocolError(f"model {self.name!r}: inputs disagree on the batch size ({sorted(batch)})")
        if batch and self.max_batch is not None and max(batch) > self.max_batch:
            raise ProtocolError(f"model {self.name!r}: a batch of {max(batch)} samples exceeds the limit of "
                                f"{self.max_batch} per request (podium serve --max-batch); split it into "
                                "smaller requests", status=413, grpc_code="RESOURCE_EXHAUSTED")

    def check_outputs(self, requested: Sequence[str] | None) -> list[str]:
        """The output names to answer: ``requested`` (each must exist) or all backend outputs by default."""
        known = [m.name for m in self.outputs]
        if not requested:
            return [m.name for m in self.backend_outputs]
        for name in requested:
            if name not in known:
                raise ProtocolError(f"model {self.name!r} has no output {name!r}; its outputs are "
                                    f"{', '.join(known)}")
        return list(requested)

    def infer(self, inputs: dict[str, np.ndarray], requested: Sequence[str]) -> list[tuple[TensorMeta, np.ndarray]]:
        """Run one request (already checked) and return ``(metadata, array)`` for each requested output."""
        try:
            # Chunk by chunk: pre-processing, the backend and post-processing each see at most backend_batch
            # samples, and only the requested outputs of each chunk are kept.
            parts: dict[str, list[Any]] = {name: [] for name in requested}
            for chunk in self._chunks(inputs):
                outputs = self._run(chunk)
                by_name = dict(zip((m.name for m in self.backend_outputs), outputs))
                for name in requested:
                    if name == RESPONSE_OUTPUT:
                        assert self.postprocess is not None
                        # a request carries no QSL indices: a benchmark whose responses need them says so
                        parts[name].extend(bytes(p) for p in self.postprocess(outputs, None))
                    else:
                        parts[name].append(by_name[name])
                del outputs, by_name
            out: list[tuple[TensorMeta, np.ndarray]] = []
            for name in requested:
                if name == RESPONSE_OUTPUT:
                    arr = np.empty(len(parts[name]), dtype=object)
                    arr[:] = parts[name]
                    out.append((TensorMeta(RESPONSE_OUTPUT, "BYTES", arr.shape), arr))
                else:
                    pieces = parts[name]
                    arr = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
                    meta = next(m for m in self.backend_outputs if m.name == name)
                    out.append((TensorMeta(meta.name, datatype_of(arr.dtype), arr.shape), arr))
        except ProtocolError:
            self._count(failed=True)
            raise
        except Exception as exc:  # a model failure is the server's fault (500), never the client's
            self._count(failed=True)
            raise ProtocolError(f"model {self.name!r}: inference failed ({type(exc).__name__}: {exc})",
                                status=500, grpc_code="INTERNAL") from exc
        self._count(failed=False)
        return out

    def _chunks(self, inputs: dict[str, np.ndarray]) -> Any:
        """The request's inputs in slices of at most ``backend_batch`` samples (views, no copies)."""
        n = max((a.shape[0] for a in inputs.values() if a.ndim), default=0)
        step = self.backend_batch
        if step is None or n <= step:
            yield inputs
            return
        for start in range(0, n, step):
            yield {k: a[start:start + step] if a.ndim else a for k, a in inputs.items()}

    def _run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        if self.preprocess is not None:
            batch: Any = self.preprocess(inputs[self.inputs[0].name])
        elif len(self.inputs) == 1:
            batch = inputs[self.inputs[0].name]
        else:
            batch = inputs
        return list(self.backend.run(batch))

    def _count(self, failed: bool) -> None:
        with self._lock:
            self.requests += 1
            self.failures += int(failed)


@dataclass(frozen=True)
class RawForm:
    """A benchmark's samples before pre-processing, for ``--send raw`` (pre-processing on the server node).

    ``load(indices)`` gives the raw samples of QSL indices on the LoadGen node; ``preprocess(raw batch)`` turns
    them into the model input on the SUT node. ``input`` describes one request's raw tensor (-1 batch dim).
    """

    input: TensorMeta
    load: Callable[[np.ndarray], np.ndarray]
    preprocess: Preprocess


def as_raw_form(obj: Any) -> RawForm | None:
    """A benchmark's ``raw_form()`` answer as a ``RawForm``: one already, a mapping, or None.

    Benchmarks may not import ``podium.network``; they return ``{"name", "datatype", "shape", "load",
    "preprocess"}`` (shape per request, -1 for the batch dimension) and this turns it into a ``RawForm``.
    """
    if obj is None or isinstance(obj, RawForm):
        return obj
    try:
        return RawForm(TensorMeta(str(obj["name"]), str(obj["datatype"]), tuple(int(d) for d in obj["shape"])),
                       obj["load"], obj["preprocess"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolError("raw_form(): expected a RawForm or a mapping with name, datatype, shape, load and "
                            "preprocess") from None


#: The default cap on the batch one request may carry, when the model's inputs do not fix it.
DEFAULT_MAX_BATCH = 1024
#: The default samples per backend call (the harness's Offline batch size).
DEFAULT_BACKEND_BATCH = 32


def fixed_batch(inputs: Sequence[TensorMeta]) -> int | None:
    """The batch size the model's metadata fixes (a first dimension other than -1), or None when dynamic."""
    dims = {m.shape[0] for m in inputs if m.shape and m.shape[0] != -1}
    return min(dims) if dims else None


def serve_backend(name: str, backend: Any, *, postprocess: Postprocess | None = None,
                  raw: RawForm | None = None, platform: str = "onnx_onnxv1",
                  properties: dict[str, str] | None = None, max_batch: int | None = None,
                  backend_batch: int | None = None) -> ServedModel:
    """A ``ServedModel`` over a loaded backend (inputs from its model file, or ``raw.input`` when raw).

    ``max_batch`` (None: the batch the backend's inputs fix, else ``DEFAULT_MAX_BATCH``) caps the samples one
    request may carry; ``backend_batch`` (None: ``DEFAULT_BACKEND_BATCH``; never above ``max_batch`` or the
    batch the backend fixes) is the size of the chunks a larger request runs in.
    """
    inputs = [raw.input] if raw is not None else [meta_from_spec(s) for s in backend.inputs]
    fixed = fixed_batch([meta_from_spec(s) for s in backend.inputs])
    if max_batch is None:
        max_batch = fixed_batch(inputs) or DEFAULT_MAX_BATCH
    # Never more per call than the backend's inputs fix, nor than a request may carry.
    backend_batch = min(backend_batch or DEFAULT_BACKEND_BATCH, fixed or max_batch, max_batch)
    return ServedModel(name=name, backend=backend, inputs=inputs,
                       backend_outputs=[meta_from_spec(s) for s in backend.outputs], platform=platform,
                       preprocess=raw.preprocess if raw is not None else None, postprocess=postprocess,
                       properties=dict(properties or {}), max_batch=max_batch, backend_batch=backend_batch)
