"""Property-based fuzzing of the server: any body gets a protocol answer (2xx or 4xx with {"error"}), never a
crash, a 5xx or a hang; any bytes sent to gRPC ModelInfer get a gRPC status, and the server stays up."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.network import grpc_messages as pb
from podium.network.rest_codec import HEADER_LENGTH
from podium.network.tensors import DATATYPES

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                      st.text(max_size=8))
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=6) | st.dictionaries(st.text(max_size=8), c,
                                                                                         max_size=5), max_leaves=30)
shape = st.lists(st.integers(-2, 9), min_size=0, max_size=5)
tensor = st.fixed_dictionaries(
    {"name": st.sampled_from(["input", "raw_image", "x", ""]),
     "datatype": st.sampled_from([*DATATYPES, "FP8", "fp32"]),
     "shape": st.one_of(shape, json_value)},
    optional={"data": st.one_of(st.lists(st.one_of(st.floats(allow_nan=False), st.integers(-300, 300),
                                                   st.booleans(), st.text(max_size=3)), max_size=200), json_value),
              "parameters": st.one_of(st.fixed_dictionaries({"binary_data_size": st.integers(-5, 600)}),
                                      json_value)})
request = st.fixed_dictionaries({"inputs": st.one_of(st.lists(tensor, max_size=3), json_value)},
                                optional={"id": json_value, "outputs": st.one_of(
                                    st.lists(st.fixed_dictionaries({"name": st.sampled_from(
                                        ["logits", "mlperf_response", "zz"])},
                                        optional={"parameters": json_value}), max_size=3), json_value),
                                    "parameters": json_value})


@pytest.fixture(scope="module")
def http(server: Any) -> Any:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", server.http_port, retries=False, timeout=10)
    yield pool
    pool.close()


def _check(r: Any) -> None:
    assert r.status == 200 or 400 <= r.status < 500, (r.status, r.data[:300])
    if r.status != 200:
        body = json.loads(r.data)
        assert set(body) == {"error"} and isinstance(body["error"], str) and "\n" not in body["error"]


@FUZZ
@given(req=request, binary=st.binary(max_size=600), model=st.sampled_from(["digits", "digits-raw"]),
       header=st.one_of(st.none(), st.integers(-3, 5000).map(str), st.just("abc")))
def test_structured_requests_get_protocol_answers(http: Any, req: dict[str, Any], binary: bytes, model: str,
                                                  header: str | None) -> None:
    text = json.dumps(req).encode()
    headers = {} if header is None else {HEADER_LENGTH: header if header != "0" else str(len(text))}
    r = http.urlopen("POST", f"/v2/models/{model}/infer", body=text + (binary if header else b""), headers=headers)
    _check(r)


@FUZZ
@given(body=st.binary(max_size=2000))
def test_arbitrary_bytes_get_protocol_answers(http: Any, body: bytes) -> None:
    _check(http.urlopen("POST", "/v2/models/digits/infer", body=body))


@FUZZ
@given(body=st.binary(max_size=2000), message=st.one_of(st.none(), st.builds(
    lambda name, dt, shp, raw: _message(name, dt, shp, raw), st.sampled_from(["input", "x"]),
    st.sampled_from(list(DATATYPES)), st.lists(st.integers(0, 9), max_size=5), st.binary(max_size=600))))
def test_grpc_model_infer_survives_anything(server: Any, body: bytes, message: Any) -> None:
    payload = message.SerializeToString() if message is not None else body
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as ch:
        call = ch.unary_unary(pb.method_path("ModelInfer"), request_serializer=lambda b: b,
                              response_deserializer=pb.ModelInferResponse.FromString)
        try:
            call(payload, timeout=10)
        except grpc.RpcError as exc:
            assert exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                                  grpc.StatusCode.INTERNAL), exc  # INTERNAL: bytes that are not a message
            if exc.code() is grpc.StatusCode.INTERNAL:
                assert message is None
        live = ch.unary_unary(pb.method_path("ServerLive"), request_serializer=pb.ServerLiveRequest.SerializeToString,
                              response_deserializer=pb.ServerLiveResponse.FromString)
        assert live(pb.ServerLiveRequest(), timeout=10).live


def _message(name: str, datatype: str, shape: list[int], raw: bytes) -> Any:
    m = pb.ModelInferRequest(model_name="digits")
    m.inputs.add(name=name, datatype=datatype, shape=shape)
    m.raw_input_contents.append(raw)
    return m
