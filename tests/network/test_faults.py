"""Faults between the client SUT and its endpoints: refused, timed out, erroring, dying mid-run.

Each must give an error naming the endpoint, end the run INVALID with its logs and the count of failed
requests, never hang, and never retry a request.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podium.loadgen import TestMode
from podium.network import (
    EndpointError,
    InferenceServer,
    ServeOptions,
    NetworkRecorder,
    make_client_sut,
    serve_backend,
)
from tests.network.conftest import run


class FlakyBackend:
    """The real digits backend, made to sleep or fail on demand."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.inputs, self.outputs = real.inputs, real.outputs
        self.sleep_s = 0.0
        self.fail_after: int | None = None
        self.calls = 0
        self._lock = threading.Lock()

    def run(self, batch: Any) -> list[np.ndarray]:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.fail_after is not None and n > self.fail_after:
            raise RuntimeError("accelerator fell off the bus")
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self.real.run(batch)


@pytest.fixture
def flaky(bench: Any, backend: Any) -> Any:
    fb = FlakyBackend(backend)
    model = serve_backend("digits", fb, postprocess=bench.postprocess)
    srv = InferenceServer({"digits": model}, ServeOptions(http_port=0, grpc_port=0, inference_threads=2)).start()
    yield fb, model, srv
    srv.stop(grace_s=0.1)


def _url(srv: Any, protocol: str) -> str:
    return srv.urls()[0 if protocol == "rest" else 1]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_refused_endpoint_is_named_before_the_run(scheme: str, bench: Any, qsl: Any) -> None:
    url = f"{scheme}://127.0.0.1:{_closed_port()}"
    t = time.monotonic()
    with pytest.raises(EndpointError, match=f"endpoint {url}: .*(refused|unavailable)"):
        make_client_sut([url], bench, qsl, "Offline", timeout_s=5)
    assert time.monotonic() - t < 5


def test_unknown_model_is_named(rest_url: str, grpc_url: str, bench: Any, qsl: Any) -> None:
    for url in (rest_url, grpc_url):
        with pytest.raises(EndpointError, match=f"endpoint {url}: .*'nope'"):
            make_client_sut([url], bench, qsl, "Offline", model_name="nope")


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_timeout_ends_the_run_invalid(protocol: str, flaky: Any, bench: Any, qsl: Any, tmp_path: Path) -> None:
    fb, model, srv = flaky
    fb.sleep_s = 1.0
    url = _url(srv, protocol)
    with make_client_sut([url], bench, qsl, "Server", timeout_s=0.3) as sut:
        t = time.monotonic()
        recorder = NetworkRecorder(sut)
        result = run(sut, qsl, tmp_path, "Server", TestMode.PerformanceOnly, contributors=[recorder],
                     min_duration_ms=2000)
        elapsed = time.monotonic() - t
        notes = recorder.notes
    assert not result.valid
    assert elapsed < 5  # the abort stops issuing; outstanding requests end at their timeout
    assert sut.failed_requests >= 1
    assert sut.errors[0].startswith(f"endpoint {url}: ") and "timed out" in sut.errors[0]
    assert "Result is : INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()
    data = json.loads((tmp_path / "podium" / "podium_result.json").read_text())
    # Requests still in flight when the run ended fail later, at their timeout: the file has those seen by then.
    assert data["valid"] is False and 1 <= data["network"]["failed_requests"] <= sut.failed_requests
    assert data["network"]["aborted"] is True
    assert any("requests failed" in n for n in notes)


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_server_error_is_counted_and_never_retried(protocol: str, flaky: Any, bench: Any, qsl: Any,
                                                   tmp_path: Path) -> None:
    fb, model, srv = flaky
    fb.fail_after = 5
    url = _url(srv, protocol)
    with make_client_sut([url], bench, qsl, "SingleStream", abort_on_failure=False) as sut:
        result = run(sut, qsl, tmp_path, "SingleStream", TestMode.PerformanceOnly, min_query_count=50,
                     min_duration_ms=100, contributors=[NetworkRecorder(sut)])
        assert sut.failed_requests == sut.requests - 5
        assert model.requests == sut.requests  # one server request per client request: no retries
    assert "accelerator fell off the bus" in sut.errors[0] and url in sut.errors[0]
    # Without the abort every request still counts: the engine's summary names the count and first error.
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary and f"{sut.failed_requests} of {sut.requests} requests failed" in summary
    data = json.loads((tmp_path / "podium" / "podium_result.json").read_text())
    assert data["performance"]["valid"] is False


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_endpoint_dying_mid_run_ends_it_invalid(protocol: str, flaky: Any, bench: Any, qsl: Any,
                                                tmp_path: Path) -> None:
    fb, model, srv = flaky
    url = _url(srv, protocol)
    with make_client_sut([url], bench, qsl, "Server", timeout_s=2) as sut:
        killer = threading.Timer(0.4, srv.stop, kwargs={"grace_s": 0})
        killer.start()
        t = time.monotonic()
        result = run(sut, qsl, tmp_path, "Server", TestMode.PerformanceOnly, min_duration_ms=3000,
                     server_target_qps=200)
        elapsed = time.monotonic() - t
        killer.join()
    assert not result.valid
    assert sut.failed_requests >= 1
    assert 0 < sut.requests - sut.failed_requests < sut.requests
    assert all(e.startswith(f"endpoint {url}: ") for e in sut.errors)
    assert elapsed < 5
    assert (tmp_path / "mlperf_log_detail.txt").is_file()


def test_one_dead_endpoint_of_two_still_ends_the_run_invalid(flaky: Any, rest_url: str, bench: Any, qsl: Any,
                                                             tmp_path: Path) -> None:
    fb, model, srv = flaky
    dead = _url(srv, "grpc")
    with make_client_sut([rest_url, dead], bench, qsl, "Offline", timeout_s=2) as sut:
        srv.stop(grace_s=0)
        result = run(sut, qsl, tmp_path, "Offline", TestMode.PerformanceOnly)
        assert not result.valid
        assert sut.report()["failed_by_endpoint"][dead] >= 1
        assert sut.report()["failed_by_endpoint"][rest_url] == 0


def test_abort_does_not_outlive_its_test(flaky: Any, bench: Any, qsl: Any, tmp_path: Path) -> None:
    fb, model, srv = flaky
    fb.fail_after = 0
    with make_client_sut([_url(srv, "grpc")], bench, qsl, "Offline") as sut:
        assert not run(sut, qsl, tmp_path / "a", "Offline", TestMode.PerformanceOnly).valid
        assert sut.aborted
        fb.fail_after = None
        before, failed = model.requests, sut.failed_requests
        run(sut, qsl, tmp_path / "b", "Offline", TestMode.PerformanceOnly)
        assert model.requests - before > 1  # the next test sends its requests again
        assert sut.failed_requests == failed and not sut.aborted
