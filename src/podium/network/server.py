"""``InferenceServer``: the REST (uvicorn + Starlette) and gRPC (grpcio) frontends over one set of models.

Safe by default: binds 127.0.0.1; another address needs ``host`` set explicitly, and without a token it logs a
warning that anyone who can reach the port can run the model. Used by ``podium serve`` (``serve_forever``) and
by tests and benchmarks (``start`` / ``stop``, ports 0 = any free port).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.network.errors import ServeError
from podium.network.model import ServedModel

log = logging.getLogger("podium.network")


@dataclass
class ServeOptions:
    """How to serve: addresses, protocols, limits, security and threads.

    ``http_port`` / ``grpc_port``: 0 picks a free port, None turns that protocol off. ``inference_threads``:
    REST requests run the model on a pool of this many threads (0: inline in the event loop).
    ``read_timeout_s``: a REST client must send a request's headers within this time of connecting (or of
    its first byte, on a kept-alive connection), and each piece of the body within this time of the last;
    otherwise the connection is dropped (408). On gRPC it bounds the connection handshake.
    """

    host: str = "127.0.0.1"
    http_port: int | None = 8000
    grpc_port: int | None = 8001
    token: str | None = None
    max_request_bytes: int = 64 << 20
    inference_threads: int = 4
    grpc_threads: int = 8
    tls_cert: str | None = None
    tls_key: str | None = None
    read_timeout_s: float = 10.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class InferenceServer:
    """Both frontends, each on its own thread(s); ``start()`` returns once both accept connections."""

    def __init__(self, models: Mapping[str, ServedModel], options: ServeOptions | None = None) -> None:
        self.models = dict(models)
        self.options = options or ServeOptions()
        if not self.models:
            raise ServeError("podium serve: no model to serve")
        if self.options.max_request_bytes < 1024:
            raise ServeError(f"--max-request-bytes: expected at least 1024, got {self.options.max_request_bytes}")
        if not self.options.read_timeout_s > 0:
            raise ServeError("--read-timeout: expected a positive number of seconds, got "
                             f"{self.options.read_timeout_s}")
        if (self.options.tls_cert is None) != (self.options.tls_key is None):
            raise ServeError("--tls-cert and --tls-key: give both or neither")
        self.http_port: int | None = None
        self.grpc_port: int | None = None
        self._uvicorn: Any = None
        self._http_thread: threading.Thread | None = None
        self._grpc: Any = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._stopped = threading.Event()

    @property
    def tls(self) -> bool:
        return self.options.tls_cert is not None

    def urls(self) -> list[str]:
        """The endpoint URLs to give ``podium run --sut-url`` (with this host as bound)."""
        host = self.options.host if ":" not in self.options.host else f"[{self.options.host}]"
        out = []
        if self.http_port is not None:
            out.append(f"{'https' if self.tls else 'http'}://{host}:{self.http_port}")
        if self.grpc_port is not None:
            out.append(f"{'grpcs' if self.tls else 'grpc'}://{host}:{self.grpc_port}")
        return out

    def start(self, timeout_s: float = 30.0) -> InferenceServer:
        opts = self.options
        if not is_loopback(opts.host) and opts.token is None:
            log.warning("serving on %s without --token: anyone who can reach these ports can run the model",
                        opts.host)
        try:
            if opts.grpc_port is not None:
                self._start_grpc()
            if opts.http_port is not None:
                self._start_http(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_grpc(self) -> None:
        import grpc

        from podium.network.server_grpc import create_grpc_server

        opts = self.options
        creds = None
        if self.tls:
            creds = grpc.ssl_server_credentials([(_read(opts.tls_key, "--tls-key"), _read(opts.tls_cert, "--tls-cert"))])
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        self._grpc, self.grpc_port = create_grpc_server(self.models, f"{host}:{opts.grpc_port}", token=opts.token,
                                                        max_request_bytes=opts.max_request_bytes,
                                                        threads=opts.grpc_threads, credentials=creds,
                                                        handshake_timeout_s=opts.read_timeout_s)
        self._grpc.start()

    def _start_http(self, timeout_s: float) -> None:
        import uvicorn

        from podium.network.server_rest import RestFrontend

        opts = self.options
        family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((opts.host, opts.http_port))
        except OSError as exc:
            sock.close()
            raise ServeError(f"--http-port: cannot bind {opts.host}:{opts.http_port} ({exc.strerror})") from None
        sock.listen(1024)
        self.http_port = sock.getsockname()[1]
        if opts.inference_threads > 0:
            self._executor = concurrent.futures.ThreadPoolExecutor(opts.inference_threads,
                                                                   thread_name_prefix="podium-infer")
        frontend = RestFrontend(self.models, token=opts.token, max_request_bytes=opts.max_request_bytes,
                                executor=self._executor, read_timeout_s=opts.read_timeout_s)
        config = uvicorn.Config(frontend.app, log_level="warning", access_log=False, lifespan="off",
                                http=_protocol_with_deadline(opts.read_timeout_s), timeout_keep_alive=75,
                                ssl_certfile=opts.tls_cert, ssl_keyfile=opts.tls_key)
        if self.tls:
            for path, flag in ((opts.tls_cert, "--tls-cert"), (opts.tls_key, "--tls-key")):
                _read(path, flag)
        self._uvicorn = uvicorn.Server(config)
        self._http_thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [sock]},
                                             name="podium-http", daemon=True)
        self._http_thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._uvicorn.started:
            if not self._http_thread.is_alive():
                raise ServeError(f"REST server on {opts.host}:{self.http_port} stopped while starting "
                                 "(see the log above)")
            if time.monotonic() > deadline:
                raise ServeError(f"REST server on {opts.host}:{self.http_port} did not start in {timeout_s:g} s")
            time.sleep(0.01)

    def stop(self, grace_s: float = 2.0) -> None:
        """Stop both frontends (idempotent); in-flight requests get ``grace_s`` to finish."""
        if self._uvicorn is not None:
            self._uvicorn.config.timeout_graceful_shutdown = grace_s
            self._uvicorn.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(grace_s + 5)
            self._uvicorn = None
        if self._grpc is not None:
            self._grpc.stop(grace_s).wait(grace_s + 5)
            self._grpc = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._stopped.set()

    def serve_forever(self) -> None:
        """Start, then block until ``stop()`` or Ctrl-C."""
        if self._uvicorn is None and self._grpc is None:
            self.start()
        try:
            while not self._stopped.wait(0.5):
                if self._http_thread is not None and not self._http_thread.is_alive():
                    raise ServeError("REST server thread ended unexpectedly")
        finally:
            self.stop()

    def __enter__(self) -> InferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _http_impl() -> str:
    try:
        import httptools  # noqa: F401  (C parser: ~2x less CPU per request than the pure-Python h11)

        return "httptools"
    except ImportError:
        return "h11"


class _HeaderDeadline:
    """Mixin for uvicorn's HTTP protocol classes: a request's headers must arrive within ``read_timeout_s``.

    uvicorn times out only idle kept-alive connections; a client that connects and sends nothing, or part of
    the headers, would hold a connection (and a file descriptor) for ever. The timer starts when the
    connection is made, or at the first byte of a request on a kept-alive connection, and stops when the
    headers are complete (uvicorn then has a request cycle); when it fires, the client gets a 408 and the
    connection is closed. The body's own deadline is in ``RestFrontend._read_body``.
    """

    read_timeout_s: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    _seen_cycle: Any = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not self._seen_cycle:  # headers complete: a new request cycle
            self._seen_cycle = cycle
            self._disarm()
        elif self._header_timer is None and (cycle is None or cycle.response_complete):
            self._arm()  # the first bytes of another request on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = asyncio.get_running_loop().call_later(self.read_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        transport = getattr(self, "transport", None)
        if transport is None or transport.is_closing():
            return
        body = (b'{"error":"request headers did not arrive within the read timeout of '
                + f"{self.read_timeout_s:g}".encode() + b' s (podium serve --read-timeout)"}')
        transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                        b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        transport.close()


def _protocol_with_deadline(read_timeout_s: float) -> type:
    """uvicorn's HTTP protocol class (httptools, else h11) with the header deadline of ``_HeaderDeadline``."""
    if _http_impl() == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol as base  # type: ignore[assignment]
    return type(f"Podium{base.__name__}", (_HeaderDeadline, base), {"read_timeout_s": float(read_timeout_s)})


def _read(path: str | None, flag: str) -> bytes:
    try:
        data = Path(str(path)).read_bytes()
    except OSError as exc:
        raise ServeError(f"{flag} {path}: cannot read it ({exc.strerror})") from None
    if b"-----BEGIN " not in data:
        raise ServeError(f"{flag} {path}: not a PEM file (no -----BEGIN line)")
    return data
