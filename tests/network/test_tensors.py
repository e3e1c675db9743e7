"""Datatypes, the raw and JSON tensor layouts, and the committed gRPC descriptor."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from podium.network import grpc_messages as pb
from podium.network.errors import ProtocolError
from podium.network.tensors import (
    DATATYPES,
    TensorMeta,
    check_against,
    datatype_of,
    from_json_data,
    from_raw,
    to_json_data,
    to_raw,
)

NUMERIC = [d for d in DATATYPES if d != "BYTES"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data(), datatype=st.sampled_from(NUMERIC))
def test_raw_round_trip_is_exact(data: st.DataObject, datatype: str) -> None:
    arr = data.draw(hnp.arrays(DATATYPES[datatype], hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
    back = from_raw(to_raw(arr, datatype), datatype, arr.shape, "t")
    assert back.dtype == DATATYPES[datatype] and back.shape == arr.shape
    assert back.tobytes() == np.ascontiguousarray(arr).tobytes()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(items=st.lists(st.binary(max_size=20), max_size=10))
def test_bytes_round_trip(items: list[bytes]) -> None:
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    assert from_raw(to_raw(arr, "BYTES"), "BYTES", (len(items),), "t").tolist() == items


@pytest.mark.parametrize("buf, text", [(b"\x05\0\0\0ab", "claims 5 bytes"), (b"\x01\0", "ends after 0"),
                                       (b"\x01\0\0\0a\x00", "left over")])
def test_malformed_bytes_are_rejected(buf: bytes, text: str) -> None:
    with pytest.raises(ProtocolError, match=text):
        from_raw(buf, "BYTES", (1,), "t")


def test_json_layout() -> None:
    assert from_json_data([[1, 2], [3, 4]], "INT8", (2, 2), "t").tolist() == [[1, 2], [3, 4]]
    assert to_json_data(np.array([[1.5, 2]], np.float32), "FP32", "t") == [1.5, 2.0]
    for data, dt, text in [([300], "INT8", "outside the range"), ([1.5], "INT32", "not INT32"),
                           ([True, 1], "BOOL", "not BOOL"), ([1, 2], "FP16", "2 data elements"),
                           ([[1], [2, 3]], "FP32", "rectangular"), ([2**70], "INT64", "not INT64"),
                           ([1], "BF16", "unknown datatype")]:
        with pytest.raises(ProtocolError, match=text):
            from_json_data(data, dt, (1,), "t")
    with pytest.raises(ProtocolError, match="not UTF-8"):
        to_json_data(np.array([b"\xff"], dtype=object), "BYTES", "t")


def test_metadata_checks_and_datatype_names() -> None:
    meta = TensorMeta("x", "FP32", (-1, 3))
    check_against(meta, "FP32", (7, 3))
    with pytest.raises(ProtocolError, match="shape"):
        check_against(meta, "FP32", (7, 4))
    assert datatype_of(np.float16) == "FP16" and datatype_of(np.dtype("U3")) == "BYTES"
    assert datatype_of(">i8") == "INT64"


def test_service_descriptor_matches_the_protocol() -> None:
    assert pb.service_methods() == list(pb.METHODS)
    req = pb.ModelInferRequest.DESCRIPTOR
    assert {f.name: f.number for f in req.fields} == {"model_name": 1, "model_version": 2, "id": 3,
                                                      "parameters": 4, "inputs": 5, "outputs": 6,
                                                      "raw_input_contents": 7}
    assert pb.InferTensorContents.DESCRIPTOR.fields_by_name["bytes_contents"].number == 8


def test_committed_descriptor_is_up_to_date() -> None:
    pytest.importorskip("grpc_tools")
    from podium.network.proto import descriptor, generate

    assert descriptor.PROTO_SHA256 == generate.proto_sha256()
    assert descriptor.SERIALIZED == generate.compile_descriptor()


def test_podium_messages_coexist_with_tritonclient_stubs() -> None:
    service_pb2 = pytest.importorskip("tritonclient.grpc.service_pb2")
    ours = pb.ModelInferRequest(model_name="m", raw_input_contents=[b"abcd"])
    ours.inputs.add(name="x", datatype="FP32", shape=[1])
    theirs = service_pb2.ModelInferRequest.FromString(ours.SerializeToString())
    assert theirs.inputs[0].name == "x" and theirs.raw_input_contents == [b"abcd"]
