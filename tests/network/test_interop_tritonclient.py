"""podium's server against a KServe v2 client podium did not write: tritonclient (HTTP and gRPC)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

httpclient = pytest.importorskip("tritonclient.http")
grpcclient = pytest.importorskip("tritonclient.grpc")
from tritonclient.utils import InferenceServerException

X = (np.arange(3 * 64, dtype=np.float32).reshape(3, 1, 8, 8) % 17) / 16


@pytest.fixture(scope="module")
def clients(server: Any) -> Any:
    h = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    g = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    yield h, g
    h.close()
    g.close()


def test_health_and_metadata(clients: Any) -> None:
    h, g = clients
    assert h.is_server_live() and h.is_server_ready() and h.is_model_ready("digits")
    assert g.is_server_live() and g.is_server_ready() and g.is_model_ready("digits")
    assert h.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    hm = h.get_model_metadata("digits")
    gm = g.get_model_metadata("digits", as_json=True)
    assert hm["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}]
    assert [i["name"] for i in gm["inputs"]] == ["input"] and [int(d) for d in gm["inputs"][0]["shape"]] == \
        [-1, 1, 8, 8]
    assert not h.is_model_ready("nope")


@pytest.mark.parametrize("binary", [True, False])
def test_http_inference(clients: Any, backend: Any, binary: bool) -> None:
    h, _ = clients
    inp = httpclient.InferInput("input", list(X.shape), "FP32")
    inp.set_data_from_numpy(X, binary_data=binary)
    outs = [httpclient.InferRequestedOutput("logits", binary_data=binary),
            httpclient.InferRequestedOutput("mlperf_response", binary_data=True)]
    res = h.infer("digits", [inp], outputs=outs, request_id="abc")
    logits = backend.run(X)[0]
    np.testing.assert_allclose(res.as_numpy("logits"), logits, rtol=1e-6)
    labels = [int.from_bytes(b, "little") for b in res.as_numpy("mlperf_response")]
    assert labels == logits.argmax(1).tolist()
    assert res.get_response()["id"] == "abc"


def test_http_default_outputs_are_binary(clients: Any, backend: Any) -> None:
    h, _ = clients
    inp = httpclient.InferInput("input", list(X.shape), "FP32")
    inp.set_data_from_numpy(X)
    res = h.infer("digits", [inp])  # no outputs: tritonclient asks for binary_data_output
    np.testing.assert_allclose(res.as_numpy("logits"), backend.run(X)[0], rtol=1e-6)
    assert res.as_numpy("mlperf_response") is None  # only the model's own outputs by default


def test_grpc_inference(clients: Any, backend: Any) -> None:
    _, g = clients
    inp = grpcclient.InferInput("input", list(X.shape), "FP32")
    inp.set_data_from_numpy(X)
    res = g.infer("digits", [inp], outputs=[grpcclient.InferRequestedOutput("logits"),
                                            grpcclient.InferRequestedOutput("mlperf_response")])
    logits = backend.run(X)[0]
    np.testing.assert_allclose(res.as_numpy("logits"), logits, rtol=1e-6)
    assert [int.from_bytes(b, "little") for b in res.as_numpy("mlperf_response")] == logits.argmax(1).tolist()


def test_raw_model_preprocesses_on_the_server(clients: Any, backend: Any) -> None:
    from podium.benchmarks.digits import data

    raw = data.test_images()[:4]
    _, g = clients
    inp = grpcclient.InferInput("raw_image", list(raw.shape), "FP64")
    inp.set_data_from_numpy(raw)
    res = g.infer("digits-raw", [inp])
    np.testing.assert_allclose(res.as_numpy("logits"), backend.run(data.preprocess(raw))[0], rtol=1e-6)


def test_errors_reach_the_client(clients: Any) -> None:
    h, g = clients
    bad = X.reshape(3, 64)
    hi = httpclient.InferInput("input", list(bad.shape), "FP32")
    hi.set_data_from_numpy(bad)
    with pytest.raises(InferenceServerException, match=r"shape \[3, 64\], expected") as info:
        h.infer("digits", [hi])
    assert info.value.status() == "400"
    gi = grpcclient.InferInput("input", list(bad.shape), "FP32")
    gi.set_data_from_numpy(bad)
    with pytest.raises(InferenceServerException, match=r"shape \[3, 64\], expected") as info:
        g.infer("digits", [gi])
    assert "INVALID_ARGUMENT" in info.value.status()
