"""What one request may cost ``podium serve``: a batch cap, bounded backend calls, value checks, read timeouts.

* A request's batch (first dimension) over the model's cap is refused before its data is decoded, with the
  limit named; one at the cap is answered, run on the backend in chunks of ``backend_batch``.
* JSON FP32 values must be finite numbers FP32 can hold (NaN, Infinity, 1e400, 1e39 are refused); binary data
  is taken as raw bytes.
* A client that sends nothing, part of its headers or part of its body is dropped after the read timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
from typing import Any

import grpc
import numpy as np
import pytest
import urllib3

from podium.errors import PodiumError
from podium.network import EndpointError, InferenceServer, ServeOptions, grpc_codec, make_client_sut, serve_backend
from podium.network import grpc_messages as pb
from podium.network.model import DEFAULT_MAX_BATCH
from podium.network.rest_codec import HEADER_LENGTH
from podium.network.tensors import TensorMeta, from_json_data
from tests.network.serve_process import listening_urls, start_serve, stop_serve

CAP = 64
CHUNK = 16


class RecordingBackend:
    """The real digits backend, recording the batch size of every call."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.inputs, self.outputs = real.inputs, real.outputs
        self.batches: list[int] = []
        self._lock = threading.Lock()

    def run(self, batch: Any) -> list[np.ndarray]:
        with self._lock:
            self.batches.append(len(batch))
        return self.real.run(batch)


@pytest.fixture(scope="module")
def capped(bench: Any, backend: Any) -> Any:
    rec = RecordingBackend(backend)
    model = serve_backend("digits", rec, postprocess=bench.postprocess, max_batch=CAP, backend_batch=CHUNK)
    srv = InferenceServer({"digits": model}, ServeOptions(http_port=0, grpc_port=0, inference_threads=1,
                                                          read_timeout_s=0.5)).start()
    yield srv, rec
    srv.stop(grace_s=0.1)


def _images(n: int) -> np.ndarray:
    return ((np.arange(n * 64, dtype=np.float32).reshape(n, 1, 8, 8) % 17) / 16).astype(np.float32)


def _binary_request(pool: urllib3.HTTPConnectionPool, x: np.ndarray) -> tuple[int, Any, Any]:
    head = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape),
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "outputs": [{"name": "logits"}, {"name": "mlperf_response"}]}).encode()
    r = pool.urlopen("POST", "/v2/models/digits/infer", body=head + x.tobytes(),
                     headers={HEADER_LENGTH: str(len(head)), "Content-Type": "application/octet-stream"})
    return r.status, json.loads(r.data), r


def _grpc_infer(port: int, x: np.ndarray) -> Any:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary(pb.method_path("ModelInfer"), request_serializer=pb.ModelInferRequest.SerializeToString,
                              response_deserializer=pb.ModelInferResponse.FromString)
        req = grpc_codec.build_request("digits", [(TensorMeta("input", "FP32", x.shape), x)], ["logits"])
        return call(req, timeout=10)


# -- 1. the batch cap and bounded backend calls ------------------------------------------------------------
def test_a_request_over_the_batch_cap_is_refused_naming_the_limit(capped: Any) -> None:
    srv, rec = capped
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    before = len(rec.batches)
    status, err, _ = _binary_request(pool, _images(CAP + 1))
    assert status == 413
    assert f"batch of {CAP + 1} samples exceeds the limit of {CAP} per request" in err["error"]
    assert "--max-batch" in err["error"]
    with pytest.raises(grpc.RpcError) as info:
        _grpc_infer(srv.grpc_port, _images(CAP + 1))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"exceeds the limit of {CAP}" in info.value.details()
    assert len(rec.batches) == before  # refused before the model ran
    pool.close()


def test_a_request_at_the_cap_runs_in_backend_sized_chunks(capped: Any, backend: Any) -> None:
    srv, rec = capped
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    x = _images(CAP)
    expected = backend.run(x)[0]
    rec.batches.clear()
    status, body, _ = _binary_request(pool, x)
    assert status == 200, body
    assert rec.batches == [CHUNK] * (CAP // CHUNK)  # never more than backend_batch per backend call
    logits, response = body["outputs"]
    np.testing.assert_allclose(np.array(logits["data"]).reshape(CAP, 10), expected, rtol=1e-5)
    assert response["shape"] == [CAP] and len(response["data"]) == CAP  # one response per sample
    rec.batches.clear()
    out = grpc_codec.decode(*(lambda r: (r.outputs, r.raw_output_contents))(_grpc_infer(srv.grpc_port, x)), "output")
    np.testing.assert_allclose(out["logits"], expected, rtol=1e-5)
    assert max(rec.batches) <= CHUNK
    pool.close()


def test_the_cap_is_published_and_the_client_splits_queries_to_fit(capped: Any, bench: Any, qsl: Any,
                                                                    tmp_path: Any) -> None:
    from podium.loadgen import TestMode
    from tests.network.conftest import run

    srv, rec = capped
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    meta = json.loads(pool.urlopen("GET", "/v2/models/digits").data)
    assert meta["properties"]["max_batch_size"] == str(CAP)
    pool.close()
    for url in srv.urls():
        with pytest.raises(EndpointError, match=f"--sut-request-samples {CAP + 1}: .* at most {CAP} samples"):
            make_client_sut([url], bench, qsl, "Offline", request_samples=CAP + 1)
        # A MultiStream query larger than the cap becomes several requests (split, never merged).
        with make_client_sut([url], bench, qsl, "MultiStream") as sut:
            assert sut.max_request_samples == CAP
            result = run(sut, qsl, tmp_path / url.split(":")[0], "MultiStream", TestMode.PerformanceOnly,
                         multi_stream_samples_per_query=CAP + 36, min_query_count=2, min_duration_ms=0)
            assert sut.failed_requests == 0 and sut.requests >= 2 * 2, sut.errors
            assert result is not None


def test_default_cap_and_serve_options(bench: Any, backend: Any) -> None:
    model = serve_backend("digits", backend, postprocess=bench.postprocess)
    assert model.max_batch == DEFAULT_MAX_BATCH and model.backend_batch == 32
    assert model.metadata()["properties"]["max_batch_size"] == str(DEFAULT_MAX_BATCH)
    assert serve_backend("d", backend, max_batch=8).backend_batch == 8  # a chunk never exceeds the cap
    from podium.cli import cmd_serve

    ap = argparse.ArgumentParser()
    cmd_serve.add_parser(ap.add_subparsers())
    args = ap.parse_args(["serve", "--max-batch", "100", "--backend-batch", "10", "--read-timeout", "2"])
    assert (args.max_batch, args.backend_batch, args.read_timeout) == (100, 10, 2.0)
    models = cmd_serve.build_models(args)
    assert (models["digits"].max_batch, models["digits"].backend_batch) == (100, 10)
    with pytest.raises(PodiumError, match="--max-batch: expected a positive integer, got 0"):
        cmd_serve.build_models(ap.parse_args(["serve", "--max-batch", "0"]))
    with pytest.raises(PodiumError, match="--read-timeout"):
        cmd_serve.run(ap.parse_args(["serve", "--read-timeout", "0"]))


# -- 3. JSON values must be finite numbers of the datatype --------------------------------------------------
@pytest.mark.parametrize("literal, shown", [("NaN", "NaN"), ("-Infinity", "-Infinity"), ("1e400", "Infinity"),
                                            ("1e39", "1e+39")])
def test_json_nan_and_overflow_are_refused_naming_the_input_and_value(capped: Any, literal: str,
                                                                     shown: str) -> None:
    srv, _ = capped
    values = ["0.5"] * 64
    values[5] = literal
    body = ('{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,8,8],"data":[' + ",".join(values)
            + "]}]}").encode()
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    r = pool.urlopen("POST", "/v2/models/digits/infer", body=body, headers={"Content-Type": "application/json"})
    err = json.loads(r.data)["error"]
    assert r.status == 400
    assert err.startswith("input 'input': data element 5 is " + shown) and "not a finite FP32 value" in err
    pool.close()


def test_binary_nan_is_raw_bytes_and_passes(capped: Any) -> None:
    srv, _ = capped
    x = _images(1)
    x[0, 0, 0, 0] = np.nan
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    assert _binary_request(pool, x)[0] == 200
    pool.close()


def test_from_json_data_range_checks() -> None:
    assert from_json_data([1.5, 3e38], "FP32", (2,), "t", finite=True).dtype == np.float32
    with pytest.raises(PodiumError, match="element 0 is 70000.0, not a finite FP16"):
        from_json_data([70000], "FP16", (1,), "input 'x'", finite=True)
    # Outputs read from other servers are not checked: a model may answer NaN.
    assert np.isnan(from_json_data([float("nan")], "FP32", (1,), "t")[0])


# -- 2. read timeouts ---------------------------------------------------------------------------------------
def _closed_within(sock: socket.socket, bound_s: float) -> tuple[float, bytes]:
    """Read until the server closes the connection; returns (seconds it took, what it sent)."""
    sock.settimeout(bound_s)
    t = time.monotonic()
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pytest.fail(f"the server kept the connection open for over {bound_s} s (got {data[:100]!r})")
    except ConnectionResetError:
        pass
    return time.monotonic() - t, data


@pytest.mark.parametrize("sent", [b"", b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Le"])
def test_rest_headers_that_never_arrive_are_dropped(capped: Any, sent: bytes) -> None:
    srv, _ = capped
    with socket.create_connection(("127.0.0.1", srv.http_port)) as sock:
        sock.sendall(sent)
        took, data = _closed_within(sock, 5)
    assert took < 3
    assert data.startswith(b"HTTP/1.1 408") and b"--read-timeout" in data


def test_rest_body_that_stops_arriving_is_dropped(capped: Any) -> None:
    srv, _ = capped
    with socket.create_connection(("127.0.0.1", srv.http_port)) as sock:
        sock.sendall(b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"inputs\": [")
        took, data = _closed_within(sock, 5)
    assert took < 3
    assert data.startswith(b"HTTP/1.1 408") and b"request body: no data for 0.5 s" in data


def test_kept_alive_connection_then_partial_headers_is_dropped(capped: Any) -> None:
    srv, _ = capped
    with socket.create_connection(("127.0.0.1", srv.http_port)) as sock:
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHo")
        took, data = _closed_within(sock, 5)
    assert took < 3 and data.startswith(b"HTTP/1.1 408")


def test_a_slow_but_steady_request_is_answered(capped: Any) -> None:
    srv, _ = capped
    body = ('{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,8,8],"data":[' + ",".join(["0.5"] * 64)
            + "]}]}").encode()
    with socket.create_connection(("127.0.0.1", srv.http_port)) as sock:
        sock.sendall(b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        for i in range(0, len(body), len(body) // 3 + 1):  # pieces 0.3 s apart: each within the 0.5 s timeout
            time.sleep(0.3)
            sock.sendall(body[i:i + len(body) // 3 + 1])
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_grpc_connection_without_a_preface_is_dropped(capped: Any) -> None:
    srv, _ = capped
    with socket.create_connection(("127.0.0.1", srv.grpc_port)) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n")  # part of the HTTP/2 connection preface, then nothing
        took, _ = _closed_within(sock, 5)
    assert took < 3


# -- 1. memory: bounded while a big request runs, given back afterwards -------------------------------------
def test_big_requests_schedule_giving_memory_back(capped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.network import server_rest

    calls: list[int] = []
    monkeypatch.setattr(server_rest, "release_memory", lambda: calls.append(1))
    srv, _ = capped
    pool = urllib3.HTTPConnectionPool("127.0.0.1", srv.http_port, retries=False, timeout=10)
    assert _binary_request(pool, _images(1))[0] == 200
    assert calls == []  # small requests: nothing to give back
    n = server_rest.TRIM_AFTER_BYTES // (64 * 4) + 1
    assert _binary_request(pool, _images(n))[0] == 413  # over the cap, but its body was read
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == [1]
    pool.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the server's RSS from /proc")
def test_a_51_mb_request_costs_bounded_memory_and_gives_it_back(tmp_path: Any) -> None:
    """Issue 13: batch 200,000 (51 MB) took the server from ~200 MB to 3.9 GB RSS and kept it."""
    import subprocess
    import sys

    n = 200_000
    proc = start_serve("--no-grpc", "--http-port", "0", "--backend-option", "intra_op_threads=1",
                       "--max-batch", str(n))

    def rss_mb() -> int:
        with open(f"/proc/{proc.pid}/status") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))

    try:
        urls = listening_urls(proc)
        assert urls, "podium serve did not start"
        port = int(urls[0].rsplit(":", 1)[1])
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=False, timeout=60)
        assert pool.urlopen("GET", "/v2/health/ready").status == 200
        before = rss_mb()
        peak = [before]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        x = np.random.default_rng(0).random((n, 1, 8, 8), dtype=np.float32)
        head = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape),
                                       "parameters": {"binary_data_size": x.nbytes}}],
                           "outputs": [{"name": "mlperf_response", "parameters": {"binary_data": True}}]}).encode()
        r = pool.urlopen("POST", "/v2/models/digits/infer", body=head + x.tobytes(),
                         headers={HEADER_LENGTH: str(len(head))})
        assert r.status == 200
        time.sleep(0.5)  # the memory is given back once the response is sent
        done.set()
        watcher.join()
        after = rss_mb()
        pool.close()
    finally:
        stop_serve(proc)
    assert peak[0] - before < 800, (before, peak[0], after)  # was about +3,700 MB
    assert after - before < 100, (before, peak[0], after)  # was kept for good
