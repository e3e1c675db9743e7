"""podium's server speaks the protocol: endpoints, JSON and binary tensors, and protocol errors for bad requests."""

from __future__ import annotations

import json
from typing import Any

import grpc
import numpy as np
import pytest
import urllib3

from podium.network import InferenceServer, ServeOptions, grpc_codec
from podium.network import grpc_messages as pb
from podium.network.rest_codec import HEADER_LENGTH

X = (np.arange(2 * 64, dtype=np.float32).reshape(2, 1, 8, 8) % 17) / 16


@pytest.fixture(scope="module")
def http(server: Any) -> urllib3.HTTPConnectionPool:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", server.http_port, retries=False, timeout=10)
    yield pool
    pool.close()


def _req(http: urllib3.HTTPConnectionPool, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    r = http.urlopen(method, path, body=data, headers=headers or {})
    try:
        parsed = json.loads(r.data) if r.data else None
    except ValueError:
        parsed = r.data
    return r.status, parsed, r


def _infer_json(data: Any = None, **changes: Any) -> dict[str, Any]:
    tensor = {"name": "input", "datatype": "FP32", "shape": [2, 1, 8, 8],
              "data": X.ravel().tolist() if data is None else data}
    tensor.update(changes)
    return {"id": "r1", "inputs": [tensor]}


def test_health_and_metadata(http: Any) -> None:
    assert _req(http, "GET", "/v2/health/live")[:2] == (200, {"live": True})
    assert _req(http, "GET", "/v2/health/ready")[:2] == (200, {"ready": True})
    status, meta, _ = _req(http, "GET", "/v2")
    assert status == 200 and meta["name"] == "podium" and "binary_tensor_data" in meta["extensions"]
    status, meta, _ = _req(http, "GET", "/v2/models/digits")
    assert status == 200
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}]
    assert [o["name"] for o in meta["outputs"]] == ["logits", "mlperf_response"]
    assert _req(http, "GET", "/v2/models/digits/versions/1")[0] == 200
    assert _req(http, "GET", "/v2/models/digits/ready")[:2] == (200, {"name": "digits", "ready": True})
    raw = _req(http, "GET", "/v2/models/digits-raw")[1]
    assert raw["inputs"] == [{"name": "raw_image", "datatype": "FP64", "shape": [-1, 8, 8]}]


def test_json_inference_matches_the_backend(http: Any, backend: Any) -> None:
    status, body, _ = _req(http, "POST", "/v2/models/digits/infer", _infer_json())
    assert status == 200 and body["id"] == "r1" and body["model_name"] == "digits"
    (out,) = body["outputs"]
    assert out["name"] == "logits" and out["shape"] == [2, 10] and out["datatype"] == "FP32"
    np.testing.assert_allclose(np.array(out["data"]).reshape(2, 10), backend.run(X)[0], rtol=1e-6)
    nested = _infer_json(data=X.tolist())  # the protocol allows nested row-major data too
    assert _req(http, "POST", "/v2/models/digits/infer", nested)[1]["outputs"] == body["outputs"]


def test_binary_extension_both_ways(http: Any, backend: Any) -> None:
    head = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 1, 8, 8],
                        "parameters": {"binary_data_size": X.nbytes}}],
            "outputs": [{"name": "logits", "parameters": {"binary_data": True}}, {"name": "mlperf_response"}],
            "parameters": {"binary_data_output": True}}
    text = json.dumps(head).encode()
    status, _, r = _req(http, "POST", "/v2/models/digits/infer", text + X.tobytes(),
                        {HEADER_LENGTH: str(len(text)), "Content-Type": "application/octet-stream"})
    assert status == 200
    n = int(r.headers[HEADER_LENGTH])
    meta = json.loads(r.data[:n])
    sizes = [o["parameters"]["binary_data_size"] for o in meta["outputs"]]
    assert sizes == [80, 2 * (4 + 4)]
    logits = np.frombuffer(r.data[n:n + 80], "<f4").reshape(2, 10)
    np.testing.assert_allclose(logits, backend.run(X)[0], rtol=1e-6)
    labels = logits.argmax(1)
    resp = r.data[n + 80:]
    assert [int.from_bytes(resp[4:8], "little"), int.from_bytes(resp[12:16], "little")] == labels.tolist()


@pytest.mark.parametrize("path, body, headers, status, text", [
    ("/v2/models/nope/infer", _infer_json(), None, 404, "model 'nope': not served"),
    ("/v2/models/digits/versions/7/infer", _infer_json(), None, 404, "no version '7'"),
    ("/v2/models/digits/infer", _infer_json(datatype="FP64"), None, 400, "datatype FP64, expected FP32"),
    ("/v2/models/digits/infer", _infer_json(shape=[2, 64]), None, 400, "shape [2, 64], expected [-1, 1, 8, 8]"),
    ("/v2/models/digits/infer", _infer_json(name="image"), None, 400, "has no input 'image'"),
    ("/v2/models/digits/infer", _infer_json(data=[1.0, 2.0]), None, 400, "2 data elements, expected 128"),
    ("/v2/models/digits/infer", _infer_json(data=["a"] * 128), None, 400, "not FP32"),
    ("/v2/models/digits/infer", {"inputs": []}, None, 400, "inputs must be a non-empty"),
    ("/v2/models/digits/infer", b"{not json", None, 400, "not valid JSON"),
    ("/v2/models/digits/infer", b"[" * 100000, None, 400, "not valid JSON"),
    ("/v2/models/digits/infer", {**_infer_json(), "outputs": [{"name": "probs"}]}, None, 400, "no output 'probs'"),
    ("/v2/models/digits/infer", _infer_json(), {"Content-Encoding": "gzip"}, 415, "Content-Encoding"),
    ("/v2/models/digits/infer", _infer_json(), {HEADER_LENGTH: "99999999"}, 400, HEADER_LENGTH),
    ("/v2/nowhere", None, None, 404, "no such endpoint"),
])
def test_bad_requests_get_protocol_errors(http: Any, path: str, body: Any, headers: Any, status: int,
                                          text: str) -> None:
    got, err, r = _req(http, "POST" if body is not None else "GET", path, body, headers)
    assert got == status
    assert r.headers["content-type"].startswith("application/json")
    assert set(err) == {"error"} and text in err["error"]


def test_wrong_method_is_a_protocol_error(http: Any) -> None:
    status, err, _ = _req(http, "GET", "/v2/models/digits/infer")
    assert status == 405 and "method not allowed" in err["error"]


def test_binary_size_mismatch(http: Any) -> None:
    head = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 1, 8, 8],
                                   "parameters": {"binary_data_size": 100}}]}).encode()
    status, err, _ = _req(http, "POST", "/v2/models/digits/infer", head + b"\0" * 100,
                          {HEADER_LENGTH: str(len(head))})
    assert status == 400 and "100 bytes of data, expected 512" in err["error"]


@pytest.fixture(scope="module")
def guarded(models: dict[str, Any]) -> Any:
    srv = InferenceServer(models, ServeOptions(http_port=0, grpc_port=0, token="s3cret", max_request_bytes=4096))
    srv.start()
    yield srv
    srv.stop()


def test_token_and_size_limit_rest(guarded: Any) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", guarded.http_port, retries=False)
    ok = {"Authorization": "Bearer s3cret"}
    assert _req(pool, "GET", "/v2/health/live")[0] == 200  # probes stay open
    status, err, r = _req(pool, "GET", "/v2/models/digits")
    assert status == 401 and "bearer token" in err["error"] and r.headers["WWW-Authenticate"] == "Bearer"
    assert _req(pool, "GET", "/v2/models/digits", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert _req(pool, "GET", "/v2/models/digits", headers=ok)[0] == 200
    small = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 1, 8, 8], "data": [0.5] * 64}]}
    assert _req(pool, "POST", "/v2/models/digits/infer", small, ok)[0] == 200
    big = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [8, 1, 8, 8], "data": [0.123456] * 512}]}
    status, err, _ = _req(pool, "POST", "/v2/models/digits/infer", big, ok)
    assert status == 413 and "limit of 4096" in err["error"]
    # A chunked body declares no length: the limit is enforced while reading it.
    chunked = pool.urlopen("POST", "/v2/models/digits/infer", body=iter([b"x" * 3000] * 3), headers=ok,
                           chunked=True)
    assert chunked.status == 413
    pool.close()


def _grpc_call(port: int, method: str, request: Any, metadata: Any = None) -> Any:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        req_cls, resp_cls = pb.METHODS[method]
        call = ch.unary_unary(pb.method_path(method), request_serializer=req_cls.SerializeToString,
                              response_deserializer=resp_cls.FromString)
        return call(request, timeout=10, metadata=metadata)


def test_grpc_service(server: Any, backend: Any) -> None:
    port = server.grpc_port
    assert _grpc_call(port, "ServerLive", pb.ServerLiveRequest()).live
    assert _grpc_call(port, "ServerReady", pb.ServerReadyRequest()).ready
    assert _grpc_call(port, "ModelReady", pb.ModelReadyRequest(name="digits")).ready
    meta = _grpc_call(port, "ServerMetadata", pb.ServerMetadataRequest())
    assert meta.name == "podium" and "binary_tensor_data" in meta.extensions
    mm = grpc_codec.metadata_from_message(_grpc_call(port, "ModelMetadata", pb.ModelMetadataRequest(name="digits")))
    assert mm["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}]
    from podium.network.tensors import TensorMeta

    req = grpc_codec.build_request("digits", [(TensorMeta("input", "FP32", X.shape), X)], None)
    resp = _grpc_call(port, "ModelInfer", req)
    out = grpc_codec.decode(resp.outputs, resp.raw_output_contents, "output")
    np.testing.assert_allclose(out["logits"], backend.run(X)[0], rtol=1e-6)
    # typed contents instead of raw bytes
    typed = pb.ModelInferRequest(model_name="digits")
    t = typed.inputs.add(name="input", datatype="FP32", shape=[2, 1, 8, 8])
    t.contents.fp32_contents.extend(X.ravel().tolist())
    resp2 = _grpc_call(port, "ModelInfer", typed)
    assert resp2.raw_output_contents == resp.raw_output_contents


@pytest.mark.parametrize("mutate, code, text", [
    (lambda r: setattr(r, "model_name", "nope"), grpc.StatusCode.NOT_FOUND, "not served"),
    (lambda r: r.inputs[0].ClearField("shape") or r.inputs[0].shape.extend([2, 64]),
     grpc.StatusCode.INVALID_ARGUMENT, "expected [-1, 1, 8, 8]"),
    (lambda r: setattr(r.inputs[0], "datatype", "INT8"), grpc.StatusCode.INVALID_ARGUMENT, "datatype INT8"),
    (lambda r: r.raw_input_contents.__setitem__(0, b"\0" * 7), grpc.StatusCode.INVALID_ARGUMENT, "7 bytes"),
    (lambda r: r.raw_input_contents.append(b""), grpc.StatusCode.INVALID_ARGUMENT, "2 raw contents for 1"),
    (lambda r: r.outputs.add(name="probs"), grpc.StatusCode.INVALID_ARGUMENT, "no output 'probs'"),
])
def test_grpc_bad_requests(server: Any, mutate: Any, code: Any, text: str) -> None:
    from podium.network.tensors import TensorMeta

    req = grpc_codec.build_request("digits", [(TensorMeta("input", "FP32", X.shape), X)], None)
    mutate(req)
    with pytest.raises(grpc.RpcError) as info:
        _grpc_call(server.grpc_port, "ModelInfer", req)
    assert info.value.code() == code and text in info.value.details()


def test_grpc_token_and_size_limit(guarded: Any) -> None:
    port = guarded.grpc_port
    assert _grpc_call(port, "ServerLive", pb.ServerLiveRequest()).live
    with pytest.raises(grpc.RpcError) as info:
        _grpc_call(port, "ModelMetadata", pb.ModelMetadataRequest(name="digits"))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    ok = (("authorization", "Bearer s3cret"),)
    assert _grpc_call(port, "ModelMetadata", pb.ModelMetadataRequest(name="digits"), ok).name == "digits"
    from podium.network.tensors import TensorMeta

    big = np.zeros((64, 1, 8, 8), np.float32)
    with pytest.raises(grpc.RpcError) as info:
        _grpc_call(port, "ModelInfer", grpc_codec.build_request("digits", [(TensorMeta("input", "FP32", big.shape),
                                                                              big)], None), ok)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_server_binds_loopback_by_default_and_refuses_a_taken_port(models: dict[str, Any], server: Any) -> None:
    from podium.network import ServeError

    assert ServeOptions().host == "127.0.0.1"
    with pytest.raises(ServeError, match="--http-port: cannot bind"):
        InferenceServer(models, ServeOptions(http_port=server.http_port, grpc_port=None)).start()
    with pytest.raises(ServeError, match="--grpc-port: cannot bind"):
        InferenceServer(models, ServeOptions(http_port=None, grpc_port=server.grpc_port)).start()
