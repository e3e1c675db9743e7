"""Network mode: the system under test behind an Open Inference Protocol (KServe v2) endpoint.

Server side (``podium serve``): ``ServedModel`` / ``serve_backend`` wrap a loaded backend with protocol metadata,
``InferenceServer`` serves them over REST (uvicorn + Starlette) and gRPC (grpcio). Client side (``podium run
--sut-url``): ``make_client_sut`` returns a ``NetworkSUT`` that LoadGen drives like any SUT. Names are imported
lazily so that ``import podium.network`` costs nothing when the ``[serve]`` extra is not installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EndpointError": "podium.network.errors",
    "ProtocolError": "podium.network.errors",
    "ServeError": "podium.network.errors",
    "TensorMeta": "podium.network.tensors",
    "RESPONSE_OUTPUT": "podium.network.model",
    "RawForm": "podium.network.model",
    "ServedModel": "podium.network.model",
    "serve_backend": "podium.network.model",
    "InferenceServer": "podium.network.server",
    "ServeOptions": "podium.network.server",
    "NetworkSUT": "podium.network.client",
    "make_client_sut": "podium.network.client",
    "NetworkRecorder": "podium.network.report",
    "calibrate_remote": "podium.network.calibrate",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podium.network' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
