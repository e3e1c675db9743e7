"""Fixtures for the network tests: the digits model served by podium on loopback, and a LoadGen run helper."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("grpc")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from podium.backends import get_backend
from podium.benchmarks import get_benchmark
from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test
from podium.loadgen.run import TestResult
from podium.network import InferenceServer, RawForm, ServeOptions, serve_backend
from podium.network.tensors import TensorMeta


def digits_raw_form() -> RawForm:
    """The digits samples before pre-processing (8×8 float64, 0..16), as the lead's benchmark hook will give."""
    from podium.benchmarks.digits import data

    images = data.test_images()
    return RawForm(input=TensorMeta("raw_image", "FP64", (-1, 8, 8)),
                   load=lambda idx: images[idx], preprocess=data.preprocess)


class RawDigits(type(get_benchmark("digits"))):  # type: ignore[misc]
    """The digits benchmark with the raw-form hook (``raw_form``) that ``--send raw`` uses."""

    def raw_form(self) -> dict[str, Any]:
        # The mapping form a benchmark returns (benchmarks do not import podium.network).
        from podium.benchmarks.digits import data

        images = data.test_images()
        return {"name": "raw_image", "datatype": "FP64", "shape": [-1, 8, 8],
                "load": lambda idx: images[idx], "preprocess": data.preprocess}


@pytest.fixture(scope="session")
def bench() -> Any:
    return RawDigits()


@pytest.fixture(scope="session")
def backend(bench: Any) -> Any:
    return get_backend("onnxruntime", intra_op_threads=1).load(bench.resolve_model_path())


@pytest.fixture(scope="session")
def models(bench: Any, backend: Any) -> dict[str, Any]:
    return {"digits": serve_backend("digits", backend, postprocess=bench.postprocess),
            "digits-raw": serve_backend("digits-raw", backend, postprocess=bench.postprocess, raw=digits_raw_form())}


@pytest.fixture(scope="session")
def server(models: dict[str, Any]) -> Any:
    srv = InferenceServer(models, ServeOptions(http_port=0, grpc_port=0, inference_threads=2)).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def rest_url(server: Any) -> str:
    return f"http://127.0.0.1:{server.http_port}"


@pytest.fixture(scope="session")
def grpc_url(server: Any) -> str:
    return f"grpc://127.0.0.1:{server.grpc_port}"


@pytest.fixture
def qsl(bench: Any) -> Any:
    return bench.create_qsl()


def settings(scenario: str, mode: TestMode, **changes: Any) -> TestSettings:
    """Settings for quick runs: fast enough in accuracy mode, short in performance mode."""
    base = TestSettings(scenario=Scenario.parse(scenario), mode=mode, server_target_qps=400,
                        offline_expected_qps=20000, single_stream_expected_latency_ns=500_000,
                        multi_stream_expected_latency_ns=1_000_000, min_duration_ms=300, min_query_count=1)
    return dataclasses.replace(base, **changes)


def run(sut: Any, qsl: Any, outdir: Path, scenario: str, mode: TestMode = TestMode.AccuracyOnly,
        contributors: Any = (), **changes: Any) -> TestResult:
    """One LoadGen test of ``sut``; the completion timeout is short so that a hang fails the test quickly."""
    from podium.loadgen import RunOptions

    return start_test(sut, qsl, settings(scenario, mode, **changes), LogSettings(outdir=str(outdir)),
                      options=RunOptions(completion_timeout_s=20), audit_config=None, contributors=contributors)


def predicted_labels(outdir: Path) -> dict[int, int]:
    """``{qsl index: label}`` from the accuracy log of a run."""
    from podium.benchmarks.accuracy import read_accuracy_log

    return {i: int(np.frombuffer(b, "<i4")[0]) for i, b in read_accuracy_log(outdir).items()}
