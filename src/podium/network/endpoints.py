"""Inference endpoints as the client sees them: URL parsing and what every transport implements.

``--sut-url`` forms: ``http://host:port``, ``https://host:port`` (REST, optionally under a path prefix) and
``grpc://host:port``, ``grpcs://host:port`` (gRPC, TLS for the ``s`` forms). A transport sends one request at a
time per call of ``submit`` without blocking the caller and reports the outcome from its own I/O thread.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from podium.network.errors import EndpointError
from podium.network.tensors import TensorMeta

SCHEMES = {"http": ("rest", False), "https": ("rest", True), "grpc": ("grpc", False), "grpcs": ("grpc", True)}
DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 8001, "grpcs": 8001}


@dataclass(frozen=True)
class EndpointAddress:
    """A parsed ``--sut-url``: protocol ("rest" | "grpc"), TLS, host, port and REST path prefix."""

    url: str
    protocol: str
    tls: bool
    host: str
    port: int
    prefix: str = ""

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_url(url: str) -> EndpointAddress:
    """Parse one ``--sut-url``; an ``EndpointError`` naming it when the form is not one podium speaks."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"--sut-url {url!r}: not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise EndpointError(f"--sut-url {url!r}: expected http://, https://, grpc:// or grpcs://")
    if not parts.hostname:
        raise EndpointError(f"--sut-url {url!r}: no host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise EndpointError(f"--sut-url {url!r}: no query, fragment or user part allowed "
                            "(give a token with --sut-token)")
    protocol, tls = SCHEMES[scheme]
    prefix = parts.path.rstrip("/")
    if protocol == "grpc" and prefix:
        raise EndpointError(f"--sut-url {url!r}: a gRPC URL takes no path")
    return EndpointAddress(url=url.strip(), protocol=protocol, tls=tls, host=parts.hostname,
                           port=port or DEFAULT_PORTS[scheme], prefix=prefix)


#: ``done(outputs, error)``: outputs by name on success (error None), or an endpoint-named error message.
DoneFn = Callable[[dict[str, np.ndarray] | None, str | None], None]
#: The ``error`` of a job dropped before it was sent because the run was already aborted (not a failure).
CANCELLED = "not sent: the run was aborted after an earlier failure"


def _never() -> bool:
    return False


@dataclass
class InferJob:
    """One request: the model, its input tensors, the outputs wanted and where to report.

    ``cancelled()`` is asked just before sending a queued job; True drops it with ``CANCELLED``.
    """

    model: str
    inputs: list[tuple[TensorMeta, np.ndarray]]
    outputs: list[str] | None
    done: DoneFn
    cancelled: Callable[[], bool] = _never


class Endpoint(abc.ABC):
    """One server: readiness and metadata (blocking, before a run) and non-blocking inference."""

    def __init__(self, address: EndpointAddress, timeout_s: float, token: str | None) -> None:
        self.address = address
        self.url = address.url
        self.timeout_s = timeout_s
        self.token = token

    def fail(self, what: str) -> str:
        """An error message naming this endpoint."""
        return f"endpoint {self.url}: {what}"

    @abc.abstractmethod
    def server_metadata(self) -> dict[str, Any]:
        """``{name, version, extensions}``; raises ``EndpointError`` if the server is not live and ready."""

    @abc.abstractmethod
    def model_metadata(self, model: str) -> dict[str, Any]:
        """The model's metadata; raises ``EndpointError`` if it is not served or not ready."""

    @abc.abstractmethod
    def submit(self, job: InferJob) -> None:
        """Send ``job`` without blocking; ``job.done`` is called exactly once, from an I/O thread."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and threads; jobs still queued complete with an error."""


def connect(url: str, timeout_s: float, token: str | None = None, *, concurrency: int = 8,
            ca_cert: str | None = None, binary: bool | None = None, keepalive_s: float | None = None) -> Endpoint:
    """An endpoint for ``url`` (REST or gRPC by scheme); nothing is sent until it is used.

    ``concurrency``: requests in flight at once (REST: I/O threads; gRPC: calls outstanding on the channel).
    ``keepalive_s``: gRPC keepalive ping interval (None: ``client_grpc.KEEPALIVE_S``).
    """
    address = parse_url(url)
    if timeout_s <= 0:
        raise EndpointError(f"--sut-timeout: expected a positive number of seconds, got {timeout_s:g}")
    if address.protocol == "grpc":
        from podium.network.client_grpc import GrpcEndpoint

        extra = {} if keepalive_s is None else {"keepalive_s": keepalive_s}
        return GrpcEndpoint(address, timeout_s, token, ca_cert=ca_cert, concurrency=concurrency, **extra)
    from podium.network.client_rest import RestEndpoint

    return RestEndpoint(address, timeout_s, token, concurrency=concurrency, ca_cert=ca_cert, binary=binary)
