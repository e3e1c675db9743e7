"""The gRPC transport of the client: one HTTP/2 channel per endpoint, calls issued as futures.

``submit`` starts the call and returns; grpcio reports the outcome on its own thread, where the SUT completes
the samples. Retries are off (``grpc.enable_retries`` 0) and calls do not wait for a connection to come up
(``wait_for_ready`` False): a dead or refusing server fails the call at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from podium.network import grpc_codec
from podium.network import grpc_messages as pb
from podium.network.endpoints import Endpoint, EndpointAddress, InferJob
from podium.network.errors import EndpointError, ProtocolError


class GrpcEndpoint(Endpoint):
    """A KServe v2 gRPC server reached through one channel (connection reused by every call)."""

    def __init__(self, address: EndpointAddress, timeout_s: float, token: str | None, *,
                 ca_cert: str | None = None) -> None:
        super().__init__(address, timeout_s, token)
        options = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", -1),
                   ("grpc.max_send_message_length", -1)]
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

    def submit(self, job: InferJob) -> None:
        try:
            request = grpc_codec.build_request(job.model, job.inputs, job.outputs)
            future = self._calls["ModelInfer"].future(request, timeout=self.timeout_s, metadata=self.metadata)
        except (ProtocolError, ValueError, grpc.RpcError) as exc:
            job.done(None, self.fail(f"cannot send the request ({exc})"))
            return
        future.add_done_callback(lambda f: self._finished(f, job))

    def _finished(self, future: Any, job: InferJob) -> None:
        try:
            response = future.result()
        except grpc.RpcError as exc:
            job.done(None, self.fail(describe(exc, self.timeout_s)))
            return
        except grpc.FutureCancelledError:
            job.done(None, self.fail("request cancelled (endpoint closed)"))
            return
        try:
            outputs = grpc_codec.decode(response.outputs, response.raw_output_contents, "output")
        except ProtocolError as exc:
            job.done(None, self.fail(f"unreadable response ({exc})"))
            return
        job.done(outputs, None)

    def close(self) -> None:
        self.channel.close()  # cancels calls in flight: their callbacks report "cancelled"


def describe(exc: Any, timeout_s: float) -> str:
    """A short reason for a failed call, from its status code and details."""
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no response within {timeout_s:g} s (timed out)"
    if code is grpc.StatusCode.UNAVAILABLE:
        return f"unavailable: refused, unreachable or died ({details[:200]})"
    name = code.name if code is not None else "error"
    return f"{name}: {details[:300]}"
