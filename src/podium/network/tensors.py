"""Tensors of the Open Inference Protocol: datatypes, metadata, checks and the binary element layout.

Everything here is shared by the REST and gRPC codecs of both the server and the client. Data arriving from
the wire is only ever parsed as numbers, booleans or byte strings (``numpy.frombuffer``, JSON numbers): no
object on the wire is unpickled or evaluated.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from podium.network.errors import ProtocolError

#: Protocol datatype → numpy dtype (little-endian: the wire order of the raw and binary forms).
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}
_BY_KIND_SIZE = {(dt.kind, dt.itemsize): name for name, dt in DATATYPES.items() if name != "BYTES"}
_LENGTH = struct.Struct("<I")


def datatype_of(dtype: Any) -> str:
    """The protocol datatype of a numpy dtype (object and byte/str dtypes are BYTES)."""
    dt = np.dtype(dtype)
    if dt.kind in "OSU":
        return "BYTES"
    try:
        return _BY_KIND_SIZE[(dt.kind, dt.itemsize)]
    except KeyError:
        raise ProtocolError(f"numpy dtype {dt} has no Open Inference Protocol datatype") from None


def dtype_of(datatype: str, where: str = "tensor") -> np.dtype:
    """The numpy dtype of a protocol datatype; a ``ProtocolError`` naming ``where`` if it is unknown."""
    try:
        return DATATYPES[datatype]
    except (KeyError, TypeError):
        raise ProtocolError(f"{where}: unknown datatype {datatype!r}, expected one of "
                            f"{', '.join(DATATYPES)}") from None


@dataclass(frozen=True)
class TensorMeta:
    """Name, datatype and shape of a model input or output as the protocol's metadata shows it (-1: any)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> TensorMeta:
        """A ``$metadata_tensor`` object; ``where`` names it in errors."""
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            raise ProtocolError(f"{where}: expected an object with name, datatype and shape")
        shape = obj.get("shape", [])
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise ProtocolError(f"{where}: shape must be a list of integers, got {shape!r}")
        return cls(obj["name"], str(obj.get("datatype", "")), tuple(shape))


def check_shape(shape: Any, where: str) -> tuple[int, ...]:
    """A request tensor's shape as a tuple of non-negative ints (it must be concrete, unlike metadata)."""
    if not isinstance(shape, (list, tuple)):
        raise ProtocolError(f"{where}: shape must be a list of integers, got {type(shape).__name__}")
    out = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 or d >= 2**63:
            raise ProtocolError(f"{where}: shape {list(shape)!r} must hold non-negative integers")
        out.append(int(d))
    return tuple(out)


def element_count(shape: tuple[int, ...]) -> int:
    """Number of elements of a concrete shape (Python ints: no overflow on absurd shapes)."""
    return math.prod(shape)


def check_against(meta: TensorMeta, datatype: str, shape: tuple[int, ...], kind: str = "input") -> None:
    """Raise a ``ProtocolError`` unless ``datatype``/``shape`` fit the metadata (-1 matches any size)."""
    if datatype != meta.datatype:
        raise ProtocolError(f"{kind} {meta.name!r}: datatype {datatype}, expected {meta.datatype}")
    if len(shape) != len(meta.shape) or any(m != -1 and m != d for m, d in zip(meta.shape, shape)):
        raise ProtocolError(f"{kind} {meta.name!r}: shape {list(shape)}, expected {list(meta.shape)} "
                            "(-1: any size)")


# -- the raw/binary layout --------------------------------------------------------------------------------
def to_raw(array: np.ndarray, datatype: str) -> bytes:
    """The raw (binary-extension / ``raw_*_contents``) bytes of a tensor: little-endian, row-major."""
    if datatype == "BYTES":
        parts = []
        for item in np.asarray(array, dtype=object).ravel().tolist():
            b = item if isinstance(item, bytes) else str(item).encode("utf-8")
            parts.append(_LENGTH.pack(len(b)))
            parts.append(b)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=DATATYPES[datatype]).tobytes()


def from_raw(buf: bytes | memoryview, datatype: str, shape: tuple[int, ...], where: str) -> np.ndarray:
    """A tensor from its raw bytes; the byte count must match the shape exactly."""
    n = element_count(shape)
    if datatype == "BYTES":
        return _unpack_bytes(buf, n, where).reshape(shape)
    dt = dtype_of(datatype, where)
    if len(buf) != n * dt.itemsize:
        raise ProtocolError(f"{where}: {len(buf)} bytes of data, expected {n * dt.itemsize} "
                            f"for {datatype} {list(shape)}")
    arr = np.frombuffer(buf, dtype=dt).reshape(shape)
    if datatype == "BOOL" and arr.size and np.frombuffer(buf, dtype=np.uint8).max() > 1:
        raise ProtocolError(f"{where}: BOOL data holds bytes other than 0 and 1")
    return arr


def _unpack_bytes(buf: bytes | memoryview, n: int, where: str) -> np.ndarray:
    view = memoryview(buf)
    out = np.empty(n, dtype=object)
    pos = 0
    for i in range(n):
        if pos + 4 > len(view):
            raise ProtocolError(f"{where}: BYTES data ends after {i} of {n} elements")
        (size,) = _LENGTH.unpack_from(view, pos)
        pos += 4
        if pos + size > len(view):
            raise ProtocolError(f"{where}: BYTES element {i} claims {size} bytes, only {len(view) - pos} remain")
        out[i] = bytes(view[pos:pos + size])
        pos += size
    if pos != len(view):
        raise ProtocolError(f"{where}: {len(view) - pos} bytes left over after {n} BYTES elements")
    return out


# -- the JSON layout ---------------------------------------------------------------------------------------
_JSON_KINDS = {"BOOL": "b", "UINT8": "iu", "UINT16": "iu", "UINT32": "iu", "UINT64": "iu", "INT8": "iu",
               "INT16": "iu", "INT32": "iu", "INT64": "iu", "FP16": "iuf", "FP32": "iuf", "FP64": "iuf"}


def from_json_data(data: Any, datatype: str, shape: tuple[int, ...], where: str, *,
                   finite: bool = False) -> np.ndarray:
    """A tensor from JSON ``data`` (flat or nested row-major); values must be of the datatype's kind.

    ``finite``: floating-point values must also be finite numbers the datatype can hold: ``NaN``,
    ``Infinity`` (which Python's JSON parser accepts) and numbers that overflow it (``1e400``, or ``1e39`` for
    FP32) are refused with the element named. The server checks requests this way; the client reads other
    servers' outputs without it (a model may answer NaN).
    """
    dtype_of(datatype, where)
    n = element_count(shape)
    if not isinstance(data, list):
        raise ProtocolError(f"{where}: data must be a JSON array")
    if datatype == "BYTES":
        flat = _flatten(data, n, where)
        if not all(isinstance(v, str) for v in flat):
            raise ProtocolError(f"{where}: BYTES data must be strings")
        out = np.empty(n, dtype=object)
        out[:] = [v.encode("utf-8") for v in flat]
        return out.reshape(shape)
    kinds = _JSON_KINDS.get(datatype)
    if kinds is None:
        raise ProtocolError(f"{where}: datatype {datatype} cannot travel as JSON data; use binary data")
    try:
        arr = np.array(data)
    except (ValueError, TypeError, RecursionError):
        raise ProtocolError(f"{where}: data is not a rectangular array of numbers") from None
    if arr.size == 0 and n == 0:
        return np.zeros(shape, dtype=DATATYPES[datatype])
    if arr.dtype.kind not in kinds:
        raise ProtocolError(f"{where}: data holds values that are not {datatype} (JSON gave {arr.dtype.kind!r} "
                            "elements)")
    if arr.size != n:
        raise ProtocolError(f"{where}: {arr.size} data elements, expected {n} for shape {list(shape)}")
    target = DATATYPES[datatype]
    if target.kind in "iu":
        info = np.iinfo(target)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ProtocolError(f"{where}: data outside the range of {datatype}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, not warned about
        out = arr.astype(target, copy=False)
    if finite and target.kind == "f" and out.size:
        bad = ~np.isfinite(out)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            value = float(arr.ravel()[i])
            raise ProtocolError(f"{where}: data element {i} is {_json_number(value)}, not a finite {datatype} "
                                f"value (NaN, Infinity and numbers beyond ±{float(np.finfo(target).max):.6g} are "
                                "refused)")
    return out.reshape(shape)


def _json_number(value: float) -> str:
    """A refused value as JSON would spell it (an overflowing literal such as 1e400 parses to Infinity)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return ("-" if value < 0 else "") + "Infinity (or a number too large for any float)"
    return repr(value)


def _flatten(data: list[Any], n: int, where: str) -> list[Any]:
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:  # iterative: a deeply nested payload cannot exhaust the interpreter's stack
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            flat.append(v)
            if len(flat) > n:
                raise ProtocolError(f"{where}: more data elements than the {n} of its shape")
        else:
            stack.pop()
    if len(flat) != n:
        raise ProtocolError(f"{where}: {len(flat)} data elements, expected {n}")
    return flat


def to_json_data(array: np.ndarray, datatype: str, where: str) -> list[Any]:
    """A tensor as a flat JSON array; BYTES elements must be UTF-8 text (else binary data is needed)."""
    if datatype == "BYTES":
        out = []
        for item in np.asarray(array, dtype=object).ravel().tolist():
            try:
                out.append(item.decode("utf-8") if isinstance(item, bytes) else str(item))
            except UnicodeDecodeError:
                raise ProtocolError(f"{where}: BYTES output is not UTF-8 text; request it with "
                                    "binary_data", status=400) from None
        return out
    return np.asarray(array).ravel().tolist()
