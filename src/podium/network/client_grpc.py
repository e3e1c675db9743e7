"""The gRPC transport of the client: one HTTP/2 channel per endpoint, calls issued as futures.

``submit`` starts the call and returns; grpcio reports the outcome on its own thread, where the SUT completes
the samples. Retries are off (``grpc.enable_retries`` 0) and calls do not wait for a connection to come up
(``wait_for_ready`` False): a dead or refusing server fails the call at once.

At most ``concurrency`` calls are in flight per endpoint (``--sut-concurrency``, as for REST); later jobs wait
here, in order, and their deadline starts when they are sent. Without that window, Offline sent every request
at once, and a server's queue limits (grpc core cancels calls beyond 1,000 waiting to be picked up) failed
requests with CANCELLED after a pause, or even without one, although the pause was shorter than the timeout.
Keepalive pings keep the connection known alive; their time-out is never shorter than the request timeout, so
a server that pauses for less than ``--sut-timeout`` costs no request.
"""

from __future__ import annotations

import collections
import threading
from pathlib import Path
from typing import Any

import grpc

from podium.network import grpc_codec
from podium.network import grpc_messages as pb
from podium.network.endpoints import CANCELLED, Endpoint, EndpointAddress, InferJob
from podium.network.errors import EndpointError, ProtocolError


#: Seconds between keepalive pings while calls are in flight (servers refuse pings more often than they allow).
KEEPALIVE_S = 30.0


class GrpcEndpoint(Endpoint):
    """A KServe v2 gRPC server reached through one channel (connection reused by every call)."""

    def __init__(self, address: EndpointAddress, timeout_s: float, token: str | None, *,
                 ca_cert: str | None = None, concurrency: int = 8, keepalive_s: float = KEEPALIVE_S) -> None:
        super().__init__(address, timeout_s, token)
        if concurrency < 1:
            raise EndpointError(f"--sut-concurrency: expected >= 1, got {concurrency}")
        if not keepalive_s > 0:
            raise EndpointError(f"gRPC keepalive: expected a positive number of seconds, got {keepalive_s}")
        self.concurrency = concurrency
        options = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", -1),
                   ("grpc.max_send_message_length", -1),
                   ("grpc.keepalive_time_ms", int(keepalive_s * 1000)),
                   # Only a server silent for longer than the request timeout is declared dead: its calls
                   # would have timed out by then anyway.
                   ("grpc.keepalive_timeout_ms", int(max(timeout_s, 1.0) * 1000)),
                   ("grpc.keepalive_permit_without_calls", 0),  # no pings on an idle connection
                   ("grpc.http2.max_pings_without_data", 2)]  # grpc's default: servers count extra pings as abuse
        if address.tls:
            root = None
            if ca_cert is not None:
                try:
                    root = Path(ca_cert).read_bytes()
                except OSError as exc:
                    raise EndpointError(f"--sut-ca-cert {ca_cert}: cannot read it ({exc.strerror})") from None
            self.channel = grpc.secure_channel(address.netloc, grpc.ssl_channel_credentials(root), options)
        else:
            self.channel = grpc.insecure_channel(address.netloc, options)
        self.metadata = (("authorization", f"Bearer {token}"),) if token else None
        self._calls = {name: self.channel.unary_unary(pb.method_path(name), request_serializer=req.SerializeToString,
                                                      response_deserializer=resp.FromString)
                       for name, (req, resp) in pb.METHODS.items()}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiting: collections.deque[InferJob] = collections.deque()
        self._closed = False
        self._local = threading.local()  # see _pump

    def _call(self, method: str, request: Any) -> Any:
        try:
            return self._calls[method](request, timeout=self.timeout_s, metadata=self.metadata)
        except grpc.RpcError as exc:
            raise EndpointError(self.fail(f"{method}: {describe(exc, self.timeout_s)}")) from None

    def server_metadata(self) -> dict[str, Any]:
        if not self._call("ServerLive", pb.ServerLiveRequest()).live:
            raise EndpointError(self.fail("ServerLive answered live=false"))
        if not self._call("ServerReady", pb.ServerReadyRequest()).ready:
            raise EndpointError(self.fail("ServerReady answered ready=false"))
        meta = self._call("ServerMetadata", pb.ServerMetadataRequest())
        return {"name": meta.name, "version": meta.version, "extensions": list(meta.extensions)}

    def model_metadata(self, model: str) -> dict[str, Any]:
        if not self._call("ModelReady", pb.ModelReadyRequest(name=model)).ready:
            raise EndpointError(self.fail(f"model {model!r} is not ready"))
        return grpc_codec.metadata_from_message(self._call("ModelMetadata", pb.ModelMetadataRequest(name=model)))

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered (at most ``concurrency``)."""
        return self._in_flight

    def submit(self, job: InferJob) -> None:
        with self._lock:
            if self._closed:
                closed = True
            elif self._in_flight >= self.concurrency:
                self._waiting.append(job)  # sent when a call in flight finishes
                return
            else:
                closed = False
                self._in_flight += 1
        if closed:
            job.done(None, self.fail("endpoint closed"))
            return
        self._pump(job)

    def _next(self) -> InferJob | None:
        """The next waiting job, keeping its slot in the window; None frees the slot."""
        with self._lock:
            if self._waiting and not self._closed:
                return self._waiting.popleft()
            self._in_flight -= 1
            return None

    def _pump(self, job: InferJob) -> None:
        # A call can finish inside add_done_callback (on this thread) and hand its slot to the next job;
        # jobs handed over while this loop runs are queued on it rather than recursed into, so a long queue
        # of jobs that fail at once (a dead server, an aborted run) cannot exhaust the stack.
        local = self._local
        if getattr(local, "todo", None) is not None:
            local.todo.append(job)
            return
        local.todo = [job]
        try:
            while local.todo:
                self._send(local.todo.pop())
        finally:
            local.todo = None

    def _send(self, job: InferJob) -> None:
        if job.cancelled():  # the run was aborted while this job waited: drop it unsent
            nxt = self._next()
            job.done(None, CANCELLED)
            if nxt is not None:
                self._pump(nxt)
            return
        try:
            request = grpc_codec.build_request(job.model, job.inputs, job.outputs)
            future = self._calls["ModelInfer"].future(request, timeout=self.timeout_s, metadata=self.metadata)
        except (ProtocolError, ValueError, grpc.RpcError) as exc:
            nxt = self._next()
            job.done(None, self.fail(f"cannot send the request ({exc})"))
            if nxt is not None:
                self._pump(nxt)
            return
        future.add_done_callback(lambda f: self._finished(f, job))

    def _finished(self, future: Any, job: InferJob) -> None:
        outputs: dict[str, Any] | None = None
        try:
            response = future.result()
            try:
                outputs, error = grpc_codec.decode(response.outputs, response.raw_output_contents, "output"), None
            except ProtocolError as exc:
                error = self.fail(f"unreadable response ({exc})")
        except grpc.RpcError as exc:
            error = self.fail(describe(exc, self.timeout_s))
        except grpc.FutureCancelledError:
            error = self.fail("request cancelled (endpoint closed)")
        nxt = self._next()  # refill the window first: the next request goes out before this one completes
        if nxt is not None:
            self._pump(nxt)
        job.done(outputs, error)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = list(self._waiting)  # waiting jobs hold no slot of the window
            self._waiting.clear()
        for job in waiting:  # answer them rather than drop them: LoadGen waits for every sample
            job.done(None, self.fail("endpoint closed"))
        self.channel.close()  # cancels calls in flight: their callbacks report "cancelled"


def describe(exc: Any, timeout_s: float) -> str:
    """A short reason for a failed call, from its status code and details."""
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no response within {timeout_s:g} s (timed out)"
    if code is grpc.StatusCode.UNAVAILABLE:
        return f"unavailable: refused, unreachable or died ({details[:200]})"
    if code is grpc.StatusCode.CANCELLED:
        return (f"CANCELLED by the server or the connection, not by podium ({details[:200]}; a server may cancel "
                "calls when too many wait: lower --sut-concurrency)")
    name = code.name if code is not None else "error"
    return f"{name}: {details[:300]}"
