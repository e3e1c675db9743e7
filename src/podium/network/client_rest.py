"""The REST transport of the client: a pool of I/O threads over one urllib3 connection pool per endpoint.

Connections are kept alive and reused; urllib3 drops a pooled connection the server has closed before reusing
it. Retries are off (``retries=False``): a failed request is reported, never silently sent again. Requests use
the binary-data extension when the server lists ``binary_tensor_data`` among its extensions, else JSON.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from podium.network import rest_codec
from podium.network.endpoints import CANCELLED, Endpoint, EndpointAddress, InferJob
from podium.network.errors import EndpointError, ProtocolError


class RestEndpoint(Endpoint):
    """``submit`` puts the job on a queue; ``concurrency`` threads each send one request at a time."""

    def __init__(self, address: EndpointAddress, timeout_s: float, token: str | None, *, concurrency: int = 8,
                 ca_cert: str | None = None, binary: bool | None = None) -> None:
        super().__init__(address, timeout_s, token)
        if concurrency < 1:
            raise EndpointError(f"--sut-concurrency: expected >= 1, got {concurrency}")
        timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        common: dict[str, Any] = dict(port=address.port, maxsize=concurrency, block=True, timeout=timeout,
                                      retries=False)
        if address.tls:
            self.pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                address.host, cert_reqs="CERT_REQUIRED", ca_certs=ca_cert, **common)
        else:
            self.pool = urllib3.HTTPConnectionPool(address.host, **common)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.binary = binary  # None: decided from the server's extensions
        self._jobs: queue.SimpleQueue[InferJob | None] = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._worker, name=f"podium-rest-{i}", daemon=True)
                         for i in range(concurrency)]
        for t in self._threads:
            t.start()

    # -- blocking calls (before a run) ---------------------------------------------------------------------
    def _get(self, path: str) -> tuple[int, Any]:
        try:
            resp = self.pool.urlopen("GET", self.address.prefix + path, headers=self.headers, retries=False)
        except (HTTPError, OSError) as exc:
            raise EndpointError(self.fail(describe(exc, self.timeout_s))) from None
        try:
            body = json.loads(resp.data) if resp.data else {}
        except ValueError:
            body = {}
        return resp.status, body

    def server_metadata(self) -> dict[str, Any]:
        for path in ("/v2/health/live", "/v2/health/ready"):
            status, body = self._get(path)
            if status != 200:
                raise EndpointError(self.fail(f"GET {path} answered HTTP {status} {_error_text(body)}".rstrip()))
        status, body = self._get("/v2")
        if status != 200 or not isinstance(body, dict):
            raise EndpointError(self.fail(f"GET /v2 (server metadata) answered HTTP {status} "
                                          f"{_error_text(body)}".rstrip()))
        if self.binary is None:
            self.binary = "binary_tensor_data" in (body.get("extensions") or [])
        return body

    def model_metadata(self, model: str) -> dict[str, Any]:
        status, body = self._get(f"/v2/models/{model}/ready")
        if status != 200:
            raise EndpointError(self.fail(f"model {model!r} is not ready (HTTP {status} {_error_text(body)})"))
        status, body = self._get(f"/v2/models/{model}")
        if status != 200 or not isinstance(body, dict):
            raise EndpointError(self.fail(f"model {model!r}: metadata request answered HTTP {status} "
                                          f"{_error_text(body)}".rstrip()))
        return body

    # -- inference -----------------------------------------------------------------------------------------
    def submit(self, job: InferJob) -> None:
        if self._closed:
            job.done(None, self.fail("endpoint closed"))
            return
        self._jobs.put(job)

    def _worker(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled():
                job.done(None, CANCELLED)
                continue
            try:
                outputs, error = self._send(job), None
            except _Failure as exc:
                outputs, error = None, self.fail(str(exc))
            job.done(outputs, error)

    def _send(self, job: InferJob) -> dict[str, Any]:
        binary = bool(self.binary)
        try:
            body, header_len = rest_codec.build_request([(m, a, binary) for m, a in job.inputs], job.outputs, binary)
        except ProtocolError as exc:
            raise _Failure(f"cannot encode the request ({exc})") from None
        headers = dict(self.headers)
        if header_len is not None:
            headers[rest_codec.HEADER_LENGTH] = str(header_len)
            headers["Content-Type"] = rest_codec.BINARY_TYPE
        else:
            headers["Content-Type"] = rest_codec.JSON_TYPE
        path = f"{self.address.prefix}/v2/models/{job.model}/infer"
        try:
            resp = self.pool.urlopen("POST", path, body=body, headers=headers, retries=False)
        except (HTTPError, OSError) as exc:
            raise _Failure(describe(exc, self.timeout_s)) from None
        if resp.status != 200:
            try:
                text = _error_text(json.loads(resp.data))
            except ValueError:
                text = repr(resp.data[:200])
            raise _Failure(f"HTTP {resp.status} {text}".rstrip())
        try:
            return rest_codec.parse_response(resp.data, resp.headers.get(rest_codec.HEADER_LENGTH))
        except ProtocolError as exc:
            raise _Failure(f"unreadable response ({exc})") from None

    def close(self) -> None:
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join(self.timeout_s + 1)
        while True:  # anything submitted concurrently with close: answer it rather than drop it
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.done(None, self.fail("endpoint closed"))
        self.pool.close()


class _Failure(Exception):
    """A request that failed; the message is completed with the endpoint's URL by the worker."""


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"][:300]
    return ""


def describe(exc: BaseException, timeout_s: float) -> str:
    """A short reason for a transport exception (refused, timed out, connection lost, TLS)."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # NewConnectionError derives from ConnectTimeoutError in urllib3: test it first.
    if isinstance(exc, NameResolutionError):
        return "host name does not resolve"
    if isinstance(exc, (NewConnectionError, ConnectionRefusedError)):
        return "connection refused (is the server running and listening on this port?)"
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)):
        return f"no response within {timeout_s:g} s (timed out)"
    if isinstance(exc, SSLError):
        return f"TLS failed ({exc})"
    if isinstance(exc, Urllib3ProtocolError):
        return "connection lost before the response (server died or closed the connection)"
    return f"{type(exc).__name__}: {exc}"
