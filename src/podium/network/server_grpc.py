"""The gRPC side of ``podium serve``: ``inference.GRPCInferenceService`` on a grpcio server.

Handlers are registered through grpcio's generic handler with podium's own message classes (see
``grpc_messages``), so no protoc-generated service module is needed. Errors abort the call with a gRPC status
(INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, INTERNAL) and a one-line message; grpcio itself enforces the
message size limit (RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import concurrent.futures
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import grpc

import podium
from podium.network import grpc_codec
from podium.network import grpc_messages as pb
from podium.network.errors import ProtocolError, ServeError
from podium.network.model import ServedModel
from podium.network.server_rest import EXTENSIONS


#: Calls grpc core may hold before the Python server picks them up (see ``create_grpc_server``).
PENDING_REQUESTS = 65536


class GrpcFrontend:
    """The service's handlers over a model repository; ``handler()`` gives grpcio's generic handler."""

    def __init__(self, models: Mapping[str, ServedModel], token: str | None = None) -> None:
        self.models = models
        self.expected = f"Bearer {token}" if token is not None else None

    def handler(self) -> grpc.GenericRpcHandler:
        impl: dict[str, Callable[[Any, grpc.ServicerContext], Any]] = {
            "ServerLive": self.server_live, "ServerReady": self.server_ready, "ModelReady": self.model_ready,
            "ServerMetadata": self.server_metadata, "ModelMetadata": self.model_metadata,
            "ModelInfer": self.model_infer,
        }
        handlers = {name: grpc.unary_unary_rpc_method_handler(
            self._guard(fn, open_=name in ("ServerLive", "ServerReady")),
            request_deserializer=pb.METHODS[name][0].FromString,
            response_serializer=pb.METHODS[name][1].SerializeToString) for name, fn in impl.items()}
        return grpc.method_handlers_generic_handler(pb.SERVICE, handlers)

    def _guard(self, fn: Callable[[Any, grpc.ServicerContext], Any], open_: bool) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            if self.expected is not None and not open_:
                given = dict(context.invocation_metadata()).get("authorization", "")
                if not hmac.compare_digest(str(given).encode(), self.expected.encode()):
                    context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                  "missing or wrong bearer token (metadata authorization: Bearer <token>)")
            try:
                return fn(request, context)
            except ProtocolError as exc:
                context.abort(getattr(grpc.StatusCode, exc.grpc_code, grpc.StatusCode.INVALID_ARGUMENT), str(exc))
        return call

    def _model(self, name: str, version: str) -> ServedModel:
        model = self.models.get(name)
        if model is None:
            raise ProtocolError(f"model {name!r}: not served here; models: {', '.join(self.models)}",
                                status=404, grpc_code="NOT_FOUND")
        if version and version != model.version:
            raise ProtocolError(f"model {name!r}: no version {version!r}; versions: {model.version}",
                                status=404, grpc_code="NOT_FOUND")
        return model

    def server_live(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ServerLiveResponse(live=True)

    def server_ready(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ServerReadyResponse(ready=True)

    def model_ready(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._model(request.name, request.version)
        return pb.ModelReadyResponse(ready=True)

    def server_metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ServerMetadataResponse(name="podium", version=podium.__version__, extensions=EXTENSIONS)

    def model_metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        return grpc_codec.metadata_to_message(self._model(request.name, request.version).metadata())

    def model_infer(self, request: Any, context: grpc.ServicerContext) -> Any:
        model = self._model(request.model_name, request.model_version)
        model.check_request(grpc_codec.tensor_headers(request.inputs, "input"))
        names = model.check_outputs([o.name for o in request.outputs])
        inputs = grpc_codec.decode(request.inputs, request.raw_input_contents, "input")
        results = model.infer(inputs, names)
        return grpc_codec.build_response(model.name, model.version, request.id, results)


def create_grpc_server(models: Mapping[str, ServedModel], address: str, *, token: str | None = None,
                       max_request_bytes: int = 64 << 20, threads: int = 8,
                       credentials: grpc.ServerCredentials | None = None,
                       handshake_timeout_s: float = 10.0) -> tuple[grpc.Server, int]:
    """A grpcio server bound to ``address`` (not yet started); returns it and the bound port.

    ``handshake_timeout_s``: a connection that has not completed its TLS / HTTP/2 preface by then is closed
    (grpc's default is 120 s).
    """
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="podium-grpc")
    server = grpc.server(executor, handlers=[GrpcFrontend(models, token).handler()], options=[
        ("grpc.max_receive_message_length", max_request_bytes),
        ("grpc.max_send_message_length", -1),
        ("grpc.so_reuseport", 0),  # a second server on the same port must fail, not share it silently
        ("grpc.server_handshake_timeout_ms", max(1, int(handshake_timeout_s * 1000))),
        # grpc core cancels (status CANCELLED) calls beyond 1,000 waiting to be picked up (3,000 hard). After
        # a pause (a stopped process, a GC or swap stall), a burst of queued calls arrives at once and the
        # Python server takes them one by one, so those limits cancelled requests that would have been
        # answered well within their deadline. Calls wait in the executor's queue instead.
        ("grpc.server.max_pending_requests", PENDING_REQUESTS),
        ("grpc.server.max_pending_requests_hard_limit", 2 * PENDING_REQUESTS),
        # Accept client keepalive pings every second (grpc's default, 5 min, answers faster pings with
        # GOAWAY "too_many_pings", which fails every call in flight on that connection).
        ("grpc.http2.min_ping_interval_without_data_ms", 1000),
        ("grpc.keepalive_permit_without_calls", 1),
    ])
    try:
        port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    except RuntimeError:
        port = 0
    if port == 0:  # older grpcio returns 0, newer raises
        executor.shutdown(wait=False)
        raise ServeError(f"--grpc-port: cannot bind {address} (in use, or not an address of this machine)")
    return server, port
