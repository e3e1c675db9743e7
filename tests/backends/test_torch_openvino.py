"""The PyTorch and OpenVINO backends against ONNX Runtime: the same small model, the same inputs, outputs
within a stated tolerance; their one-line errors for a missing extra, a wrong file and a missing device."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from podium.backends import get_backend
from podium.backends.base import BackendError

TOL = 1e-4  # float32 kernels of different libraries: the same maths in another order


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from tests.backends.torch_net import Net

    torch.manual_seed(0)
    net = Net().eval()
    d = tmp_path_factory.mktemp("models")
    x = torch.zeros(2, 1, 8, 8)
    torch.onnx.export(net, (x,), str(d / "m.onnx"), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    torch.jit.trace(net, x).save(str(d / "m.pt"))
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.export.save(torch.export.export(net, (x,), dynamic_shapes={"input": {0: batch}}), str(d / "m.pt2"))
    torch.save(net, d / "eager.pth")
    return d


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(0).standard_normal((5, 1, 8, 8), dtype=np.float32)


def _ort(models, x):
    return get_backend("onnxruntime").load(str(models / "m.onnx")).run(x)[0]


@pytest.mark.parametrize("file,options", [("m.pt", {}), ("m.pt2", {}), ("eager.pth", {"allow_pickle": "true"}),
                                          ("m.pt", {"channels_last": "true", "threads": "1"})])
def test_torch_formats_match_onnxruntime(models, inputs, file, options):
    be = get_backend("torch", **options).load(str(models / file))
    got = be.run(inputs)[0]
    assert got.shape == (5, 10)
    np.testing.assert_allclose(got, _ort(models, inputs), atol=TOL, rtol=TOL)
    cfg = be.config()
    assert cfg["backend"] == "torch" and cfg["device"] == "cpu" and cfg["precision"] == "float32"
    assert be.inputs[0].name == "input"


def test_torch_bf16_autocast_is_close_and_labelled(models, inputs):
    be = get_backend("torch", autocast="bf16").load(str(models / "m.pt"))
    got = be.run(inputs)[0]
    assert got.dtype == np.float32 and be.config()["precision"] == "bfloat16"
    np.testing.assert_allclose(got, _ort(models, inputs), atol=0.1, rtol=0.05)  # bf16 keeps 8 bits of mantissa


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("PODIUM_TEST_TORCH_COMPILE"),
                    reason="inductor's first compile takes ~20 s on 2 cores, more than the suite's time allows; "
                           "set PODIUM_TEST_TORCH_COMPILE=1")
def test_torch_compile_matches_onnxruntime(models, inputs):
    be = get_backend("torch", compile="default").load(str(models / "m.pt2"))
    np.testing.assert_allclose(be.run(inputs)[0], _ort(models, inputs), atol=TOL, rtol=TOL)
    assert be.config()["compile"] == "default"


def test_torch_errors_are_one_line(models, tmp_path):
    with pytest.raises(BackendError, match=r"not ONNX; run ONNX models with --backend onnxruntime or openvino"):
        get_backend("torch").load(str(models / "m.onnx"))
    with pytest.raises(BackendError, match=r"loads only with --backend-option allow_pickle=true"):
        get_backend("torch").load(str(models / "eager.pth"))
    with pytest.raises(BackendError, match=r"no CUDA device"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        get_backend("torch", device="cuda")
    with pytest.raises(BackendError, match="fp16 autocast needs a CUDA device"):
        get_backend("torch", autocast="fp16")


def _openvino(check: str, models) -> None:
    """Run one check of ``openvino_checks.py`` in a child process (see there why)."""
    pytest.importorskip("openvino")
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("openvino_checks.py")), check, str(models)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr


def test_openvino_reads_onnx_and_ir_and_matches(models):
    _openvino("onnx_and_ir", models)


def test_openvino_runs_from_many_threads_at_once(models):
    _openvino("threads", models)


def test_openvino_errors_are_one_line(models):
    _openvino("errors", models)


def test_a_missing_extra_names_what_to_install(monkeypatch):
    from podium.backends import registry

    real = importlib.util.find_spec
    monkeypatch.setattr(registry.importlib.util, "find_spec",
                        lambda name, *a: None if name == "openvino" else real(name, *a))
    assert registry.available_backends()["openvino"] == "not installed: pip install podium[openvino]"
    with pytest.raises(BackendError, match=r"backend 'openvino': not installed: pip install podium\[openvino\]"):
        get_backend("openvino")
