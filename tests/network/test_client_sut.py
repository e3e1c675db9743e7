"""The client SUT against podium's own server: every scenario over REST and gRPC, balancing, send modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podium.loadgen import TestMode
from podium.network import EndpointError, NetworkRecorder, make_client_sut
from podium.network.endpoints import parse_url
from tests.network.conftest import predicted_labels, run

SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]


@pytest.fixture(scope="module")
def reference(bench: Any, backend: Any) -> dict[int, int]:
    """Labels the model gives in-process, for every test sample."""
    qsl = bench.create_qsl()
    idx = list(range(qsl.total_sample_count))
    qsl.load_samples(idx)
    return dict(enumerate(backend.run(qsl.get_batch(idx))[0].argmax(axis=1).tolist()))


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_accuracy_run_over_the_network_matches_in_process(protocol: str, scenario: str, rest_url: str,
                                                           grpc_url: str, bench: Any, qsl: Any,
                                                           reference: dict[int, int], tmp_path: Path) -> None:
    url = rest_url if protocol == "rest" else grpc_url
    with make_client_sut([url], bench, qsl, scenario) as sut:
        result = run(sut, qsl, tmp_path, scenario)
        assert sut.failed_requests == 0, sut.errors
        assert sut.info["postprocessing_on"] == "SUT node (server)"
    assert predicted_labels(tmp_path) == reference
    assert "(Network SUT)" in (tmp_path / "mlperf_log_detail.txt").read_text()
    assert result.errors == []


def test_short_performance_run_is_valid_and_recorded(rest_url: str, bench: Any, qsl: Any,
                                                      tmp_path: Path) -> None:
    with make_client_sut([rest_url], bench, qsl, "SingleStream") as sut:
        recorder = NetworkRecorder(sut)
        result = run(sut, qsl, tmp_path, "SingleStream", TestMode.PerformanceOnly, min_duration_ms=500,
                     min_query_count=300, contributors=[recorder])
        notes = recorder.notes
    assert result.valid, result.performance.invalid_reasons
    data = json.loads((tmp_path / "podium" / "podium_result.json").read_text())
    assert data["valid"] is True
    assert data["network"]["failed_requests"] == 0
    assert data["network"]["requests"] == result.performance.query_count
    assert data["network"]["send"] == "preprocessed"
    assert "post-processing on the SUT node" in notes[0]


def test_offline_splits_the_query_into_requests(rest_url: str, bench: Any, qsl: Any, tmp_path: Path) -> None:
    with make_client_sut([rest_url], bench, qsl, "Offline", request_samples=100) as sut:
        run(sut, qsl, tmp_path, "Offline")
        assert sut.requests == 6  # 539 samples in one query → 5 × 100 + 39


def test_raw_inputs_are_preprocessed_on_the_server(grpc_url: str, rest_url: str, bench: Any, qsl: Any,
                                                    reference: dict[int, int], tmp_path: Path,
                                                    models: dict[str, Any]) -> None:
    before = models["digits-raw"].requests
    with make_client_sut([rest_url, grpc_url], bench, qsl, "Offline", send="raw") as sut:
        run(sut, qsl, tmp_path, "Offline")
        assert sut.info["model"] == "digits-raw"
        assert sut.info["preprocessing_on"] == "SUT node (server)"
        assert sut.failed_requests == 0
    assert models["digits-raw"].requests - before == 17
    assert predicted_labels(tmp_path) == reference


def test_raw_needs_a_benchmark_with_a_raw_form(rest_url: str, qsl: Any) -> None:
    from podium.benchmarks.digits import DigitsBenchmark

    class NoRaw(DigitsBenchmark):
        def raw_form(self) -> None:
            return None

    with pytest.raises(Exception, match="no raw"):
        make_client_sut([rest_url], NoRaw(), qsl, "Offline", send="raw")


def test_client_side_postprocessing_of_model_outputs(grpc_url: str, bench: Any, qsl: Any,
                                                     reference: dict[int, int], tmp_path: Path) -> None:
    with make_client_sut([grpc_url], bench, qsl, "MultiStream", postprocess="client") as sut:
        assert sut.outputs == ["logits"]
        assert sut.info["postprocessing_on"] == "LoadGen node (client)"
        run(sut, qsl, tmp_path, "MultiStream")
    assert predicted_labels(tmp_path) == reference


@pytest.mark.parametrize("policy", ["round_robin", "least_outstanding"])
def test_balancing_spreads_requests_over_endpoints(policy: str, rest_url: str, grpc_url: str, bench: Any,
                                                   qsl: Any, tmp_path: Path) -> None:
    urls = [rest_url, grpc_url, rest_url]
    with make_client_sut(urls, bench, qsl, "Server", policy=policy) as sut:
        run(sut, qsl, tmp_path, "Server", server_target_qps=1000)
        sent = sut.balancer.sent
        assert sum(sent) == 539
        if policy == "round_robin":
            assert sorted(sent) == [179, 180, 180]
        else:
            assert min(sent) > 0
        assert sut.report()["failed_requests"] == 0


def test_least_outstanding_prefers_the_idle_endpoint() -> None:
    from podium.network.balancing import Balancer

    b = Balancer(3, "least_outstanding")
    assert [b.acquire() for _ in range(3)] == [0, 1, 2]
    b.release(1)
    assert b.acquire() == 1  # the only endpoint with nothing outstanding
    b.release(0)
    b.release(2)
    assert b.acquire() in (0, 2)
    with pytest.raises(Exception, match="sut-policy"):
        Balancer(2, "random")


def test_rest_connections_are_reused(rest_url: str, bench: Any, qsl: Any, tmp_path: Path) -> None:
    with make_client_sut([rest_url], bench, qsl, "SingleStream", concurrency=2) as sut:
        run(sut, qsl, tmp_path, "SingleStream")
        pool = sut.endpoints[0].pool
        assert sut.requests == 539
        assert pool.num_connections <= 2  # 539 sequential requests over at most the pool's connections


def test_binary_and_json_encodings_agree(rest_url: str, bench: Any, qsl: Any, reference: dict[int, int],
                                         tmp_path: Path) -> None:
    with make_client_sut([rest_url], bench, qsl, "Offline", binary=False) as sut:
        assert sut.info["rest_encoding"] == ["json"]
        run(sut, qsl, tmp_path, "Offline")
        assert sut.failed_requests == 0
    assert predicted_labels(tmp_path) == reference


def test_mismatched_inputs_fail_with_the_shape_named(rest_url: str, bench: Any, tmp_path: Path) -> None:
    import numpy as np

    from podium.benchmarks import ArrayQSL

    flat = ArrayQSL("flat", 20, 20, lambda idx: np.zeros((idx.size, 64), np.float32))
    with make_client_sut([rest_url], bench, flat, "Offline", abort_on_failure=False) as sut:
        run(sut, flat, tmp_path, "Offline")
        assert sut.failed_requests == 1
        assert "shape [20, 64], expected [-1, 1, 8, 8]" in sut.errors[0]


@pytest.mark.parametrize("url, match", [
    ("ftp://host:1", "expected http://"), ("http://", "no host"), ("grpc://h:1/path", "takes no path"),
    ("http://u:p@h:1", "user part"), ("http://h:99999", "not a URL"),
])
def test_bad_urls_are_rejected(url: str, match: str) -> None:
    with pytest.raises(EndpointError, match=match):
        parse_url(url)


def test_url_forms() -> None:
    a = parse_url("https://node-1.example:8443/prefix/")
    assert (a.protocol, a.tls, a.host, a.port, a.prefix) == ("rest", True, "node-1.example", 8443, "/prefix")
    g = parse_url("grpc://[::1]:9000")
    assert (g.protocol, g.host, g.port, g.netloc) == ("grpc", "::1", 9000, "[::1]:9000")


def test_remote_calibration(rest_url: str, grpc_url: str, bench: Any, qsl: Any) -> None:
    from podium.network.calibrate import calibrate_remote

    with make_client_sut([rest_url, grpc_url], bench, qsl, "Offline") as sut:
        rate, latency, batch = calibrate_remote(sut, qsl, budget_s=0.3)
        assert rate > 100 and 0 < latency < 0.1 and batch == 32
        assert sut.requests == 0 and sut.failed_requests == 0  # counters reset for the real run
