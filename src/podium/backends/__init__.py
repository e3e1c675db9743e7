"""Inference backends: load a model file and run batches on it — ONNX Runtime, OpenVINO, PyTorch, and any an
installed plugin adds (entry-point group ``podium.backends``).

Backends know nothing of MLPerf or podium's scheduling. Get one with ``get_backend(name, **options)`` and
``.load(model_path)``; see which are usable with ``available_backends()``.
"""

from podium.backends.base import Backend, BackendError, Batch, TensorSpec
from podium.backends.registry import (PLUGIN_GROUP, BackendEntry, available_backends, backend_entries, get_backend,
                                      register_backend)

__all__ = [
    "Backend",
    "BackendEntry",
    "BackendError",
    "PLUGIN_GROUP",
    "Batch",
    "TensorSpec",
    "available_backends",
    "backend_entries",
    "get_backend",
    "register_backend",
]
