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

from podium.network.errors import ProtocolError
from podium.network.tensors import TensorMeta, check_against, datatype_of

#: Name of the output holding the benchmark's post-processed response bytes, one BYTES element per sample.
RESPONSE_OUTPUT = "mlperf_response"

#: ``preprocess(raw batch) -> model input`` (an array, or a dict for multi-input models).
Preprocess = Callable[[np.ndarray], Any]
#: ``postprocess(model outputs) -> one response payload per sample``.
Postprocess = Callable[[list[np.ndarray]], Sequence[bytes]]


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
    #: Requests answered and failed, for the server log and tests.
    requests: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def outputs(self) -> list[TensorMeta]:
        """Every output a request may ask for: the backend's, plus ``mlperf_response`` when post-processing."""
        extra = [TensorMeta(RESPONSE_OUTPUT, "BYTES", (-1,))] if self.postprocess is not None else []
        return [*self.backend_outputs, *extra]

    def metadata(self) -> dict[str, Any]:
        """The ``$metadata_model_response`` object."""
        return {"name": self.name, "versions": [self.version], "platform": self.platform,
                "inputs": [m.to_json() for m in self.inputs], "outputs": [m.to_json() for m in self.outputs],
                **({"properties": dict(self.properties)} if self.properties else {})}

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
            if self.preprocess is not None:
                batch = self.preprocess(inputs[self.inputs[0].name])
            elif len(self.inputs) == 1:
                batch = inputs[self.inputs[0].name]
            else:
                batch = inputs
            outputs = self.backend.run(batch)
            out: list[tuple[TensorMeta, np.ndarray]] = []
            by_name = {m.name: (m, o) for m, o in zip(self.backend_outputs, outputs)}
            for name in requested:
                if name == RESPONSE_OUTPUT:
                    assert self.postprocess is not None
                    payloads = self.postprocess(outputs)
                    arr = np.empty(len(payloads), dtype=object)
                    arr[:] = [bytes(p) for p in payloads]
                    out.append((TensorMeta(RESPONSE_OUTPUT, "BYTES", arr.shape), arr))
                else:
                    meta, arr = by_name[name]
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


def serve_backend(name: str, backend: Any, *, postprocess: Postprocess | None = None,
                  raw: RawForm | None = None, platform: str = "onnx_onnxv1",
                  properties: dict[str, str] | None = None) -> ServedModel:
    """A ``ServedModel`` over a loaded backend (inputs from its model file, or ``raw.input`` when raw)."""
    inputs = [raw.input] if raw is not None else [meta_from_spec(s) for s in backend.inputs]
    return ServedModel(name=name, backend=backend, inputs=inputs,
                       backend_outputs=[meta_from_spec(s) for s in backend.outputs], platform=platform,
                       preprocess=raw.preprocess if raw is not None else None, postprocess=postprocess,
                       properties=dict(properties or {}))
