"""Errors of the network mode: a request the server rejects, an endpoint the client cannot use."""

from __future__ import annotations

from podium.errors import PodiumError


class ProtocolError(PodiumError):
    """A request that breaks the Open Inference Protocol or the model's metadata.

    ``status`` is the HTTP status the REST server answers with; ``grpc_code`` the name of the gRPC status code
    (``grpc.StatusCode`` member) the gRPC server aborts with. The message is the one-line ``error`` text.
    """

    def __init__(self, message: str, status: int = 400, grpc_code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status = status
        self.grpc_code = grpc_code


class EndpointError(PodiumError):
    """An inference endpoint that cannot be used: bad URL, refused, not ready, or serving another model."""


class ServeError(PodiumError):
    """``podium serve`` cannot start: a port in use, an unreadable certificate, an unsafe setting."""
