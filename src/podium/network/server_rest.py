"""The REST side of ``podium serve``: a Starlette (ASGI) app speaking the Open Inference Protocol over HTTP.

Endpoints: ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``, ``/v2/models/{name}[/versions/{v}]``,
``/v2/models/{name}[/versions/{v}]/ready`` and ``POST /v2/models/{name}[/versions/{v}]/infer`` (JSON tensors
and the binary-data extension). Every error is the protocol's ``{"error": "..."}`` with a 4xx/5xx status.
Safety: an optional bearer token (health probes stay open so that orchestrators can probe), a limit on the
request body checked before and while reading it, and compressed bodies refused rather than inflated.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import functools
import hmac
import json
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import podium
from podium.network import rest_codec
from podium.network.errors import ProtocolError
from podium.network.model import ServedModel

EXTENSIONS = ["binary_tensor_data"]
_OPEN_PATHS = ("/v2/health/live", "/v2/health/ready")


def _json(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(obj, separators=(",", ":")), status_code=status, media_type=rest_codec.JSON_TYPE)


def _error(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(rest_codec.error_body(message), status_code=status, media_type=rest_codec.JSON_TYPE,
                    headers=dict(headers or {}))


class RestFrontend:
    """Handlers bound to a model repository and the server's limits; ``app`` is the ASGI application.

    ``executor`` runs inference off the event loop (None: run it inline in the loop, the lowest latency for
    tiny models but one request at a time).
    """

    def __init__(self, models: Mapping[str, ServedModel], *, token: str | None = None,
                 max_request_bytes: int = 64 << 20,
                 executor: concurrent.futures.Executor | None = None,
                 read_timeout_s: float | None = None) -> None:
        self.models = models
        self.token = token
        self.max_request_bytes = max_request_bytes
        self.executor = executor
        self.read_timeout_s = read_timeout_s
        routes = [
            Route("/v2", self.server_metadata, methods=["GET"]),
            Route("/v2/health/live", self.live, methods=["GET"]),
            Route("/v2/health/ready", self.ready, methods=["GET"]),
            Route("/v2/models/{name}", self.model_metadata, methods=["GET"]),
            Route("/v2/models/{name}/versions/{version}", self.model_metadata, methods=["GET"]),
            Route("/v2/models/{name}/ready", self.model_ready, methods=["GET"]),
            Route("/v2/models/{name}/versions/{version}/ready", self.model_ready, methods=["GET"]),
            Route("/v2/models/{name}/infer", self.infer, methods=["POST"]),
            Route("/v2/models/{name}/versions/{version}/infer", self.infer, methods=["POST"]),
        ]
        self.app = Starlette(routes=routes, exception_handlers={HTTPException: self._http_error,
                                                                 Exception: self._internal_error})
        if token is not None:
            # a pure ASGI middleware class; starlette's stub wants its own factory protocol
            self.app.add_middleware(_BearerAuth, token=token)  # type: ignore[arg-type]

    # -- health and metadata ------------------------------------------------------------------------------
    async def server_metadata(self, request: Request) -> Response:
        return _json({"name": "podium", "version": podium.__version__, "extensions": EXTENSIONS})

    async def live(self, request: Request) -> Response:
        return _json({"live": True})

    async def ready(self, request: Request) -> Response:
        return _json({"ready": True})

    async def model_metadata(self, request: Request) -> Response:
        try:
            model = self._model(request)
        except ProtocolError as exc:
            return _error(str(exc), exc.status)
        return _json(model.metadata())

    async def model_ready(self, request: Request) -> Response:
        try:
            model = self._model(request)
        except ProtocolError as exc:
            return _error(str(exc), exc.status)
        return _json({"name": model.name, "ready": True})

    def _model(self, request: Request) -> ServedModel:
        name = request.path_params["name"]
        model = self.models.get(name)
        if model is None:
            raise ProtocolError(f"model {name!r}: not served here; models: {', '.join(self.models)}", status=404)
        version = request.path_params.get("version")
        if version is not None and version != model.version:
            raise ProtocolError(f"model {name!r}: no version {version!r}; versions: {model.version}", status=404)
        return model

    # -- inference -----------------------------------------------------------------------------------------
    async def infer(self, request: Request) -> Response:
        response = await self._infer(request)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) >= TRIM_AFTER_BYTES:
            # Once the response is sent (and the request's buffers are gone), hand freed memory back to the
            # system: the allocator would otherwise keep a big request's peak for the life of the process.
            response.background = BackgroundTask(release_memory)
        return response

    async def _infer(self, request: Request) -> Response:
        try:
            model = self._model(request)
            body = await self._read_body(request)
            parsed = rest_codec.parse_request(body, request.headers.get(rest_codec.HEADER_LENGTH))
            model.check_request({t.name: (t.datatype, t.shape) for t in parsed.inputs})
            if parsed.outputs is None:
                wanted = [(n, parsed.binary_default) for n in model.check_outputs(None)]
            else:
                model.check_outputs([n for n, _ in parsed.outputs])
                wanted = parsed.outputs
            inputs = rest_codec.decode_tensors(parsed.inputs, parsed.binary)
            names = [n for n, _ in wanted]
            if self.executor is None:
                results = model.infer(inputs, names)
            else:
                results = await asyncio.get_running_loop().run_in_executor(self.executor, model.infer, inputs, names)
            flags = dict(wanted)
            out, header_len = rest_codec.build_response(model.name, model.version, parsed.id,
                                                        [(m, a, flags[m.name]) for m, a in results])
        except ProtocolError as exc:
            # A body that stopped arriving: answer and close, or the rest of it would be read as a request.
            return _error(str(exc), exc.status, {"Connection": "close"} if exc.status == 408 else None)
        if header_len is None:
            return Response(out, media_type=rest_codec.JSON_TYPE)
        return Response(out, media_type=rest_codec.BINARY_TYPE,
                        headers={rest_codec.HEADER_LENGTH: str(header_len)})

    async def _read_body(self, request: Request) -> bytes | bytearray:
        encoding = request.headers.get("content-encoding", "identity").lower()
        if encoding != "identity":
            # Inflating a small compressed body into gigabytes is the classic way around a size limit.
            raise ProtocolError(f"Content-Encoding {encoding!r}: not accepted, send the body uncompressed",
                                status=415)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_request_bytes:
            raise ProtocolError(f"request body of {declared} bytes exceeds the limit of {self.max_request_bytes}",
                                status=413)
        # With a declared length, the body goes straight into one buffer of that size: one large allocation,
        # given back to the system when the request ends, instead of hundreds of small chunks that fragment
        # the heap (and keep the process's memory high) after a big request.
        buffer = bytearray(int(declared)) if declared is not None and declared.isdigit() else None
        chunks: list[bytes] = []
        size = 0
        stream = request.stream().__aiter__()
        while True:
            try:
                # Each piece of the body must come within the read timeout of the last: a client that
                # stops sending would otherwise hold the connection until it goes away.
                chunk = await asyncio.wait_for(stream.__anext__(), self.read_timeout_s)
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                raise ProtocolError(f"request body: no data for {self.read_timeout_s:g} s after {size} bytes "
                                    "(podium serve --read-timeout)", status=408) from None
            if size + len(chunk) > self.max_request_bytes:
                raise ProtocolError(f"request body exceeds the limit of {self.max_request_bytes} bytes", status=413)
            if buffer is not None and size + len(chunk) > len(buffer):
                raise ProtocolError(f"request body: longer than its Content-Length of {len(buffer)} bytes")
            if buffer is not None:
                buffer[size:size + len(chunk)] = chunk
            else:
                chunks.append(chunk)
            size += len(chunk)
        if buffer is not None:
            return buffer if size == len(buffer) else buffer[:size]
        return b"".join(chunks)

    # -- errors --------------------------------------------------------------------------------------------
    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        text = {404: f"{request.url.path}: no such endpoint", 405: f"{request.method} {request.url.path}: "
                "method not allowed"}.get(exc.status_code, str(exc.detail))
        return _error(text, exc.status_code, exc.headers)

    async def _internal_error(self, request: Request, exc: Exception) -> Response:
        return _error(f"internal error ({type(exc).__name__})", 500)


#: Requests with bodies at least this large give freed memory back to the system once answered.
TRIM_AFTER_BYTES = 4 << 20


def release_memory() -> None:
    """Return the C allocator's free memory to the system (glibc ``malloc_trim``; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    try:
        libc = ctypes.CDLL(None)
        return getattr(libc, "malloc_trim", None)  # glibc only; musl and macOS have none
    except (OSError, AttributeError):
        return None


class _BearerAuth:
    """ASGI middleware: every request but the health probes must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") not in _OPEN_PATHS:
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):  # constant time: no token guessing by timing
                response = _error("missing or wrong bearer token (Authorization: Bearer <token>)", 401,
                                  {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
