"""Inference backends: load a model file and run batches on it (ONNX Runtime today; OpenVINO, PyTorch later).

Backends know nothing of MLPerf or podium's scheduling. Get one with ``get_backend(name, **options)`` and
``.load(model_path)``; see which are usable with ``available_backends()``.
"""

from podium.backends.base import Backend, BackendError, Batch, TensorSpec
from podium.backends.registry import BackendEntry, available_backends, get_backend, register_backend

__all__ = [
    "Backend",
    "BackendEntry",
    "BackendError",
    "Batch",
    "TensorSpec",
    "available_backends",
    "get_backend",
    "register_backend",
]
