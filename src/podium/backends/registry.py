"""The backend registry: name → backend class, imported lazily so a missing optional library costs nothing.

``available_backends()`` reports, for each known backend, "ok" or how to install what it needs.

Plugins: an installed distribution adds backends through the entry-point group ``podium.backends``, each entry
``NAME = "package.module:Class"`` naming a ``podium.backends.Backend`` subclass (or a factory returning one)
that takes its options as keyword arguments; no change to podium is needed. Plugins are read once, on the first
use of the registry; one that cannot be loaded is listed with the reason, never breaks podium.
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
    #: the distribution (name and version) that added it through the ``podium.backends`` entry points
    plugin: str | None = None


_REGISTRY: dict[str, BackendEntry] = {}
_ALIASES = {"ort": "onnxruntime", "onnx": "onnxruntime", "ov": "openvino", "pytorch": "torch"}


def register_backend(entry: BackendEntry) -> None:
    """Add (or replace) a backend; a later module per engine (OpenVINO, PyTorch) calls this."""
    _REGISTRY[entry.name] = entry


PLUGIN_GROUP = "podium.backends"
_plugins_read = False


def _read_plugins() -> None:
    """Register the backends installed distributions declare (once)."""
    global _plugins_read
    if _plugins_read:
        return
    _plugins_read = True
    from importlib.metadata import entry_points

    try:
        eps = list(entry_points(group=PLUGIN_GROUP))
    except Exception:  # broken metadata of some installed distribution must not break podium
        return
    for ep in eps:
        name = ep.name.lower()
        if name in _REGISTRY and _REGISTRY[name].plugin is None:
            continue  # a plugin cannot replace a built-in backend
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else ep.value
        _REGISTRY[name] = BackendEntry(name, ep.value, requires=ep.value.split(":")[0].split(".")[0], plugin=label)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def available_backends() -> dict[str, str]:
    """``{name: "ok" | "not installed: pip install podium[extra]"}`` for every registered backend."""
    _read_plugins()
    status: dict[str, str] = {}
    for name, entry in sorted(_REGISTRY.items()):
        if _installed(entry.requires):
            status[name] = "ok" if entry.plugin is None else f"ok (plugin: {entry.plugin})"
        else:
            hint = f"podium[{entry.extra}]" if entry.extra else entry.requires
            status[name] = f"not installed: pip install {hint}"
    return status


def get_backend(name: str, **options: Any) -> Backend:
    """A new, unloaded backend called ``name`` built with ``options``; call ``.load(path)`` next."""
    _read_plugins()
    key = _ALIASES.get(name.lower(), name.lower())
    entry = _REGISTRY.get(key)
    if entry is None:
        raise BackendError(f"backend {name!r}: unknown; expected one of {', '.join(sorted(_REGISTRY))}")
    if not _installed(entry.requires):
        raise BackendError(f"backend {name!r}: {available_backends()[key]}")
    factory = entry.factory
    if isinstance(factory, str):
        module_name, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:
            if entry.plugin is None:
                raise
            raise BackendError(f"backend {key!r} (plugin {entry.plugin}): cannot load {entry.factory} "
                               f"({type(exc).__name__}: {exc})") from None
    try:
        backend = factory(**options)
    except TypeError as exc:  # an option name the backend does not take
        raise BackendError(f"backend {key!r}: bad option ({exc})") from None
    if not isinstance(backend, Backend):
        raise BackendError(f"backend {key!r}: {entry.factory} made a {type(backend).__name__}, not a "
                           "podium.backends.Backend")
    return backend


def backend_entries() -> list[BackendEntry]:
    """Every registered backend, built-in and plugin, by name."""
    _read_plugins()
    return [e for _, e in sorted(_REGISTRY.items())]


register_backend(BackendEntry("onnxruntime", "podium.backends.onnxruntime_backend:OnnxRuntimeBackend",
                              requires="onnxruntime"))
register_backend(BackendEntry("openvino", "podium.backends.openvino_backend:OpenVinoBackend", requires="openvino",
                              extra="openvino"))
register_backend(BackendEntry("torch", "podium.backends.torch_backend:TorchBackend", requires="torch",
                              extra="torch"))
