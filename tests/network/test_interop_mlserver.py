"""podium's client SUT against a KServe v2 server podium did not write: MLServer serving an sklearn digits model.

MLServer runs as a subprocess on loopback ports picked at random, with ``parallel_workers`` 0 (its worker pool
dies at start with the uvloop release PyPI gives today). Its REST endpoint takes JSON tensors only; podium's
client sees no ``binary_tensor_data`` extension in its metadata and sends JSON on its own.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import urllib3

# Looked up, not imported: MLServer registers the inference.* protobuf names in the default pool, which would
# stop tritonclient (used by another test module) from importing in the same process. It runs as a subprocess.
if importlib.util.find_spec("mlserver") is None or importlib.util.find_spec("mlserver_sklearn") is None:
    pytest.skip("mlserver and mlserver-sklearn are not installed", allow_module_level=True)

from podium.benchmarks import ArrayQSL
from podium.benchmarks.digits import data
from podium.network import make_client_sut
from tests.network.conftest import predicted_labels, run

pytestmark = pytest.mark.slow


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _features(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images, dtype=np.float64) / 16.0).reshape(len(images), 64)


@pytest.fixture(scope="module")
def mlserver(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import joblib
    from sklearn.linear_model import LogisticRegression

    images, labels = data.load_digits_arrays()
    train, _ = data.split_indices()
    clf = LogisticRegression(max_iter=2000).fit(_features(images[train]), labels[train])
    root = tmp_path_factory.mktemp("mlserver")
    model_dir = root / "digits"
    model_dir.mkdir()
    joblib.dump(clf, model_dir / "model.joblib")
    http_port, grpc_port, metrics_port = _free_ports(3)
    (root / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port,
        "parallel_workers": 0, "debug": False}))
    (model_dir / "model-settings.json").write_text(json.dumps({
        "name": "digits", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
        "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 64]}],
        "outputs": [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 10]}]}))
    log = open(root / "mlserver.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", "from mlserver.cli.main import main; main()", "start",
                             str(root)], stdout=log, stderr=subprocess.STDOUT, cwd=root)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", http_port, retries=False, timeout=2)
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlserver exited at start: {(root / 'mlserver.log').read_text()[-2000:]}")
            try:
                if pool.urlopen("GET", "/v2/models/digits/ready").status == 200:
                    break
            except (urllib3.exceptions.HTTPError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlserver not ready in 90 s: {(root / 'mlserver.log').read_text()[-2000:]}")
            time.sleep(0.2)
        expected = clf.predict(_features(data.test_images()))
        yield {"rest": f"http://127.0.0.1:{http_port}", "grpc": f"grpc://127.0.0.1:{grpc_port}",
               "expected": dict(enumerate(expected.tolist()))}
    finally:
        pool.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def flat_qsl() -> ArrayQSL:
    images = data.test_images()
    return ArrayQSL("digits-flat", len(images), len(images), lambda idx: _features(images[idx]))


@pytest.mark.parametrize("protocol, scenario", [("rest", "Offline"), ("grpc", "Offline"), ("grpc", "Server"),
                                                ("rest", "SingleStream")])
def test_digits_accuracy_through_mlserver(mlserver: dict[str, Any], protocol: str, scenario: str, bench: Any,
                                          flat_qsl: ArrayQSL, tmp_path: Path) -> None:
    url = mlserver[protocol]
    with make_client_sut([url], bench, flat_qsl, scenario, output_names=["predict_proba"]) as sut:
        assert sut.info["postprocessing_on"] == "LoadGen node (client)"
        assert sut.info["servers"][0].startswith("mlserver")
        if protocol == "rest":
            assert sut.info["rest_encoding"] == ["json"]  # MLServer lists no binary_tensor_data extension
        run(sut, flat_qsl, tmp_path, scenario, server_target_qps=300)
        assert sut.failed_requests == 0, sut.errors
    assert predicted_labels(tmp_path) == mlserver["expected"]
    acc = bench.score_accuracy(tmp_path)
    assert acc.value > 90.0


def test_mlserver_errors_are_named(mlserver: dict[str, Any], bench: Any, tmp_path: Path) -> None:
    wrong = ArrayQSL("wrong", 8, 8, lambda idx: np.zeros((idx.size, 1, 8, 8), np.float64))
    with make_client_sut([mlserver["grpc"]], bench, wrong, "Offline", output_names=["predict_proba"],
                         abort_on_failure=False) as sut:
        run(sut, wrong, tmp_path, "Offline")
        assert sut.failed_requests == 1
        assert "expected [-1, 64]" in sut.errors[0]  # checked against MLServer's metadata before sending
