"""The KServe v2 gRPC message classes and method paths, built in a private protobuf descriptor pool.

tritonclient, MLServer and KServe each register the ``inference.*`` messages in protobuf's default pool, and a
second registration of the same names fails ("duplicate symbol"). Building podium's copy in its own pool lets
podium's client or server share a process with any of them. The messages are wire-identical.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from podium.network.proto.descriptor import SERIALIZED

SERVICE = "inference.GRPCInferenceService"

_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(descriptor_pb2.FileDescriptorProto.FromString(SERIALIZED))


def _message(name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"inference.{name}"))


ServerLiveRequest = _message("ServerLiveRequest")
ServerLiveResponse = _message("ServerLiveResponse")
ServerReadyRequest = _message("ServerReadyRequest")
ServerReadyResponse = _message("ServerReadyResponse")
ModelReadyRequest = _message("ModelReadyRequest")
ModelReadyResponse = _message("ModelReadyResponse")
ServerMetadataRequest = _message("ServerMetadataRequest")
ServerMetadataResponse = _message("ServerMetadataResponse")
ModelMetadataRequest = _message("ModelMetadataRequest")
ModelMetadataResponse = _message("ModelMetadataResponse")
ModelInferRequest = _message("ModelInferRequest")
ModelInferResponse = _message("ModelInferResponse")
InferParameter = _message("InferParameter")
InferTensorContents = _message("InferTensorContents")

#: method name → (request class, response class), in the order of the service definition.
METHODS: dict[str, tuple[Any, Any]] = {
    "ServerLive": (ServerLiveRequest, ServerLiveResponse),
    "ServerReady": (ServerReadyRequest, ServerReadyResponse),
    "ModelReady": (ModelReadyRequest, ModelReadyResponse),
    "ServerMetadata": (ServerMetadataRequest, ServerMetadataResponse),
    "ModelMetadata": (ModelMetadataRequest, ModelMetadataResponse),
    "ModelInfer": (ModelInferRequest, ModelInferResponse),
}


def method_path(method: str) -> str:
    """The HTTP/2 path of a service method, e.g. ``/inference.GRPCInferenceService/ModelInfer``."""
    return f"/{SERVICE}/{method}"


def service_methods() -> list[str]:
    """Method names as the compiled service declares them (checked against ``METHODS`` by the tests)."""
    return [m.name for m in _POOL.FindServiceByName(SERVICE).methods]
