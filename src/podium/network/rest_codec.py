"""The REST (HTTP/JSON) form of inference requests and responses, with the binary-data extension.

Binary-data extension (as Triton defines it): the body is the JSON header followed by raw tensor bytes; the
``Inference-Header-Content-Length`` HTTP header gives the JSON's length; a tensor whose bytes are in the binary
part carries ``"parameters": {"binary_data_size": N}`` instead of ``"data"``, in the order of the tensors. A
request asks for binary outputs with ``{"binary_data": true}`` on an output, or ``"binary_data_output": true``
on the request. Used by both podium's server (parse requests, build responses) and client (the reverse).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.network.errors import ProtocolError
from podium.network.tensors import (
    TensorMeta,
    check_shape,
    element_count,
    from_json_data,
    from_raw,
    to_json_data,
    to_raw,
)

HEADER_LENGTH = "Inference-Header-Content-Length"
JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"


@dataclass
class TensorHeader:
    """One tensor of a request or response as its JSON describes it, data not yet decoded."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    parameters: dict[str, Any]
    data: Any = None  # the JSON "data", when not binary
    binary_size: int | None = None


@dataclass
class ParsedRequest:
    """An inference request: id, parameters, input headers and the requested outputs (names, binary flags)."""

    id: str | None
    parameters: dict[str, Any]
    inputs: list[TensorHeader]
    outputs: list[tuple[str, bool]] | None  # None: the model's default outputs
    binary_default: bool
    binary: memoryview = field(default_factory=lambda: memoryview(b""))


def split_body(body: bytes | bytearray, header_length: str | None) -> tuple[Any, memoryview]:
    """The JSON object and the binary part of a body (``header_length``: the HTTP header's value or None)."""
    view = memoryview(body)
    if header_length is None:
        head, rest = view, memoryview(b"")
    else:
        try:
            n = int(header_length)
        except ValueError:
            raise ProtocolError(f"{HEADER_LENGTH}: expected an integer, got {header_length[:40]!r}") from None
        if not 0 <= n <= len(view):
            raise ProtocolError(f"{HEADER_LENGTH}: {n} is outside the body of {len(view)} bytes")
        head, rest = view[:n], view[n:]
    try:
        obj = json.loads(bytes(head))
    except (ValueError, RecursionError):
        raise ProtocolError("request body: not valid JSON (or JSON too deeply nested)") from None
    if not isinstance(obj, dict):
        raise ProtocolError("request body: expected a JSON object")
    return obj, rest


def _parameters(obj: Any, where: str) -> dict[str, Any]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise ProtocolError(f"{where}: parameters must be a JSON object")
    return obj


def _tensor_header(obj: Any, where: str) -> TensorHeader:
    if not isinstance(obj, dict):
        raise ProtocolError(f"{where}: expected a JSON object")
    name, datatype = obj.get("name"), obj.get("datatype")
    if not isinstance(name, str) or not isinstance(datatype, str):
        raise ProtocolError(f"{where}: name and datatype must be strings")
    where = f"{where.split(' ')[0]} {name!r}"
    shape = check_shape(obj.get("shape"), where)
    params = _parameters(obj.get("parameters"), where)
    size = params.get("binary_data_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ProtocolError(f"{where}: binary_data_size must be a non-negative integer")
        if "data" in obj:
            raise ProtocolError(f"{where}: has both data and binary_data_size")
        return TensorHeader(name, datatype, shape, params, binary_size=size)
    if "data" not in obj:
        raise ProtocolError(f"{where}: lacks data (and has no binary_data_size)")
    return TensorHeader(name, datatype, shape, params, data=obj["data"])


def parse_request(body: bytes | bytearray, header_length: str | None) -> ParsedRequest:
    """Parse an inference request's JSON and locate its binary part; no tensor data is decoded yet."""
    obj, rest = split_body(body, header_length)
    rid = obj.get("id")
    if rid is not None and not isinstance(rid, str):
        raise ProtocolError("request id: must be a string")
    params = _parameters(obj.get("parameters"), "request")
    raw_inputs = obj.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise ProtocolError("request: inputs must be a non-empty JSON array")
    inputs = [_tensor_header(t, f"input {i}") for i, t in enumerate(raw_inputs)]
    names = [t.name for t in inputs]
    if len(set(names)) != len(names):
        raise ProtocolError(f"request: input {next(n for n in names if names.count(n) > 1)!r} given twice")
    binary_default = params.get("binary_data_output", False)
    if not isinstance(binary_default, bool):
        raise ProtocolError("request parameter binary_data_output: must be true or false")
    outputs: list[tuple[str, bool]] | None = None
    if obj.get("outputs") is not None:
        if not isinstance(obj["outputs"], list):
            raise ProtocolError("request: outputs must be a JSON array")
        outputs = []
        for i, o in enumerate(obj["outputs"]):
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                raise ProtocolError(f"output {i}: expected an object with a string name")
            flag = _parameters(o.get("parameters"), f"output {o['name']!r}").get("binary_data", binary_default)
            if not isinstance(flag, bool):
                raise ProtocolError(f"output {o['name']!r}: binary_data must be true or false")
            outputs.append((o["name"], flag))
    expected = sum(t.binary_size or 0 for t in inputs)
    if expected != len(rest):
        raise ProtocolError(f"request: binary_data_size adds up to {expected} bytes, the body's binary part "
                            f"has {len(rest)}")
    return ParsedRequest(rid, params, inputs, outputs, binary_default, rest)


def decode_tensors(headers: list[TensorHeader], binary: memoryview, kind: str = "input") -> dict[str, np.ndarray]:
    """The arrays of parsed tensors (binary parts taken in order)."""
    out: dict[str, np.ndarray] = {}
    pos = 0
    for t in headers:
        where = f"{kind} {t.name!r}"
        if t.binary_size is not None:
            out[t.name] = from_raw(binary[pos:pos + t.binary_size], t.datatype, t.shape, where)
            pos += t.binary_size
        else:
            out[t.name] = from_json_data(t.data, t.datatype, t.shape, where, finite=kind == "input")
    return out


def encode_tensors(key: str, tensors: list[tuple[TensorMeta, np.ndarray, bool]], head: dict[str, Any]
                   ) -> tuple[bytes, int | None]:
    """``head`` plus ``{key: [tensor objects]}`` as a body; returns ``(body, JSON length or None)``."""
    objs = []
    chunks: list[bytes] = []
    for meta, arr, binary in tensors:
        obj: dict[str, Any] = {"name": meta.name, "datatype": meta.datatype, "shape": list(meta.shape)}
        if binary:
            raw = to_raw(arr, meta.datatype)
            obj["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            obj["data"] = to_json_data(arr, meta.datatype, f"{key[:-1]} {meta.name!r}")
        objs.append(obj)
    head = {**head, key: objs}
    text = json.dumps(head, separators=(",", ":")).encode("utf-8")
    if not chunks:
        return text, None
    return b"".join([text, *chunks]), len(text)


def build_response(model_name: str, model_version: str, request_id: str | None,
                   outputs: list[tuple[TensorMeta, np.ndarray, bool]]) -> tuple[bytes, int | None]:
    """An ``$inference_response`` body (server side)."""
    head: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id is not None:
        head["id"] = request_id
    return encode_tensors("outputs", outputs, head)


def build_request(inputs: list[tuple[TensorMeta, np.ndarray, bool]], outputs: list[str] | None,
                  binary_outputs: bool, request_id: str | None = None) -> tuple[bytes, int | None]:
    """An ``$inference_request`` body (client side); ``outputs`` None asks for the model's defaults."""
    head: dict[str, Any] = {}
    if request_id is not None:
        head["id"] = request_id
    if outputs:
        head["outputs"] = [{"name": n, **({"parameters": {"binary_data": True}} if binary_outputs else {})}
                           for n in outputs]
    elif binary_outputs:
        head["parameters"] = {"binary_data_output": True}
    return encode_tensors("inputs", inputs, head)


def parse_response(body: bytes, header_length: str | None) -> dict[str, np.ndarray]:
    """The output arrays of an ``$inference_response`` body (client side)."""
    obj, rest = split_body(body, header_length)
    raw = obj.get("outputs")
    if not isinstance(raw, list):
        raise ProtocolError("response: outputs must be a JSON array")
    headers = [_tensor_header(t, f"output {i}") for i, t in enumerate(raw)]
    expected = sum(t.binary_size or 0 for t in headers)
    if expected != len(rest):
        raise ProtocolError(f"response: binary_data_size adds up to {expected} bytes, the binary part has "
                            f"{len(rest)}")
    for t in headers:
        if t.binary_size is None and element_count(t.shape) and t.data is None:
            raise ProtocolError(f"output {t.name!r}: no data")
    return decode_tensors(headers, rest, kind="output")


def error_body(message: str) -> bytes:
    """The protocol's error object, ``{"error": message}``."""
    return json.dumps({"error": message}).encode("utf-8")
