"""The backend registry: name → backend class, imported lazily so a missing optional library costs nothing.

``available_backends()`` reports, for each known backend, "ok" or how to install what it needs.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podium.backends.base import Backend, BackendError


@dataclass(frozen=True)
class BackendEntry:
    """How to make one backend: its factory (``"module:Class"`` or a callable) and what it needs installed."""

    name: str
    factory: str | Callable[..., Backend]
    requires: str  # top-level module the backend needs, checked without importing it
    extra: str | None = None  # pip extra that installs it, for the "not installed" hint


_REGISTRY: dict[str, BackendEntry] = {}
_ALIASES = {"ort": "onnxruntime", "onnx": "onnxruntime", "ov": "openvino", "pytorch": "torch"}


def register_backend(entry: BackendEntry) -> None:
    """Add (or replace) a backend; a later module per engine (OpenVINO, PyTorch) calls this."""
    _REGISTRY[entry.name] = entry


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def available_backends() -> dict[str, str]:
    """``{name: "ok" | "not installed: pip install podium[extra]"}`` for every registered backend."""
    status: dict[str, str] = {}
    for name, entry in sorted(_REGISTRY.items()):
        if _installed(entry.requires):
            status[name] = "ok"
        else:
            hint = f"podium[{entry.extra}]" if entry.extra else entry.requires
            status[name] = f"not installed: pip install {hint}"
    return status


def get_backend(name: str, **options: Any) -> Backend:
    """A new, unloaded backend called ``name`` built with ``options``; call ``.load(path)`` next."""
    key = _ALIASES.get(name.lower(), name.lower())
    entry = _REGISTRY.get(key)
    if entry is None:
        raise BackendError(f"backend {name!r}: unknown; expected one of {', '.join(sorted(_REGISTRY))}")
    if not _installed(entry.requires):
        raise BackendError(f"backend {name!r}: {available_backends()[key]}")
    factory = entry.factory
    if isinstance(factory, str):
        module_name, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
    try:
        return factory(**options)
    except TypeError as exc:  # an option name the backend does not take
        raise BackendError(f"backend {key!r}: bad option ({exc})") from None


register_backend(BackendEntry("onnxruntime", "podium.backends.onnxruntime_backend:OnnxRuntimeBackend",
                              requires="onnxruntime"))
register_backend(BackendEntry("openvino", "podium.backends.openvino_backend:OpenVinoBackend", requires="openvino",
                              extra="openvino"))
register_backend(BackendEntry("torch", "podium.backends.torch_backend:TorchBackend", requires="torch",
                              extra="torch"))
