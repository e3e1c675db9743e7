"""Tensors to and from the KServe v2 gRPC messages (``raw_*_contents`` or typed ``contents``).

Podium writes tensors as ``raw_input_contents`` / ``raw_output_contents`` (one little-endian buffer per tensor,
no per-element protobuf work) and reads both forms, since other servers may answer with typed contents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from podium.network import grpc_messages as pb
from podium.network.errors import ProtocolError
from podium.network.tensors import (
    DATATYPES,
    TensorMeta,
    check_shape,
    element_count,
    from_raw,
    to_raw,
)

#: Datatype → the ``InferTensorContents`` field holding its typed values (FP16 travels only as raw bytes).
CONTENTS_FIELD = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents",
                  "INT32": "int_contents", "INT64": "int64_contents", "UINT8": "uint_contents",
                  "UINT16": "uint_contents", "UINT32": "uint_contents", "UINT64": "uint64_contents",
                  "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents"}


def tensor_headers(tensors: Any, kind: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (datatype, shape)}`` of a message's input or output tensors (names must be unique)."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for t in tensors:
        if t.name in out:
            raise ProtocolError(f"request: {kind} {t.name!r} given twice")
        out[t.name] = (t.datatype, check_shape(list(t.shape), f"{kind} {t.name!r}"))
    return out


def decode(tensors: Any, raw_contents: Any, kind: str) -> dict[str, np.ndarray]:
    """Arrays of a message's tensors, from ``raw_contents`` when given (one per tensor) or typed contents."""
    raws = list(raw_contents)
    if raws and len(raws) != len(tensors):
        raise ProtocolError(f"request: {len(raws)} raw contents for {len(tensors)} {kind}s")
    out: dict[str, np.ndarray] = {}
    for i, t in enumerate(tensors):
        where = f"{kind} {t.name!r}"
        shape = check_shape(list(t.shape), where)
        if t.datatype not in DATATYPES:
            raise ProtocolError(f"{where}: unknown datatype {t.datatype!r}")
        if raws:
            if t.HasField("contents") and t.contents.ByteSize():
                raise ProtocolError(f"{where}: has both raw and typed contents")
            out[t.name] = from_raw(raws[i], t.datatype, shape, where)
            continue
        field = CONTENTS_FIELD.get(t.datatype)
        if field is None:
            raise ProtocolError(f"{where}: {t.datatype} must travel as raw contents")
        values = getattr(t.contents, field)
        n = element_count(shape)
        if len(values) != n:
            raise ProtocolError(f"{where}: {len(values)} values in {field}, expected {n} for shape {list(shape)}")
        if t.datatype == "BYTES":
            arr = np.empty(n, dtype=object)
            arr[:] = list(values)
        else:
            arr = np.asarray(values)
            info = np.iinfo(DATATYPES[t.datatype]) if DATATYPES[t.datatype].kind in "iu" else None
            if info is not None and arr.size and (arr.min() < info.min or arr.max() > info.max):
                raise ProtocolError(f"{where}: values outside the range of {t.datatype}")
            arr = arr.astype(DATATYPES[t.datatype], copy=False)
        out[t.name] = arr.reshape(shape)
    return out


def build_response(model_name: str, model_version: str, request_id: str,
                   outputs: list[tuple[TensorMeta, np.ndarray]]) -> Any:
    """A ``ModelInferResponse`` with every output as raw contents."""
    resp = pb.ModelInferResponse(model_name=model_name, model_version=model_version, id=request_id)
    for meta, arr in outputs:
        resp.outputs.add(name=meta.name, datatype=meta.datatype, shape=list(meta.shape))
        resp.raw_output_contents.append(to_raw(arr, meta.datatype))
    return resp


def build_request(model_name: str, inputs: list[tuple[TensorMeta, np.ndarray]], outputs: list[str] | None,
                  model_version: str = "", request_id: str = "") -> Any:
    """A ``ModelInferRequest`` with every input as raw contents."""
    req = pb.ModelInferRequest(model_name=model_name, model_version=model_version, id=request_id)
    for meta, arr in inputs:
        req.inputs.add(name=meta.name, datatype=meta.datatype, shape=list(meta.shape))
        req.raw_input_contents.append(to_raw(arr, meta.datatype))
    for name in outputs or ():
        req.outputs.add(name=name)
    return req


def metadata_to_message(meta: dict[str, Any]) -> Any:
    """A ``ModelMetadataResponse`` from the REST-shaped metadata dict."""
    msg = pb.ModelMetadataResponse(name=meta["name"], versions=meta.get("versions", []),
                                   platform=meta.get("platform", ""))
    for key in ("inputs", "outputs"):
        for t in meta.get(key, []):
            getattr(msg, key).add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
    msg.properties.update(meta.get("properties") or {})
    return msg


def metadata_from_message(msg: Any) -> dict[str, Any]:
    """The REST-shaped metadata dict of a ``ModelMetadataResponse``."""
    def tensors(ts: Any) -> list[dict[str, Any]]:
        return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in ts]

    return {"name": msg.name, "versions": list(msg.versions), "platform": msg.platform,
            "inputs": tensors(msg.inputs), "outputs": tensors(msg.outputs),
            **({"properties": dict(msg.properties)} if msg.properties else {})}
