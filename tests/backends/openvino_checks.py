"""The OpenVINO backend's checks, run in a child process by ``test_torch_openvino.py``: OpenVINO's runtime
threads, once loaded into the pytest process, made a later in-process SIGINT test (the LoadGen's Ctrl-C
test) crash the interpreter, so OpenVINO is only ever loaded here.

    python tests/backends/openvino_checks.py CHECK MODEL_DIR      (exit 0: passed; else the failure)
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from podium.backends import get_backend
from podium.backends.base import BackendError

TOL = 1e-4


def _inputs() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((5, 1, 8, 8), dtype=np.float32)


def _ort(models: Path, x: np.ndarray) -> np.ndarray:
    return get_backend("onnxruntime").load(str(models / "m.onnx")).run(x)[0]


def onnx_and_ir(models: Path) -> None:
    import openvino as ov

    x = _inputs()
    be = get_backend("openvino").load(str(models / "m.onnx"))
    np.testing.assert_allclose(be.run(x)[0], _ort(models, x), atol=TOL, rtol=TOL)
    # IR files keep float32 weights only when asked: save_model compresses them to fp16 by default
    ov.save_model(ov.convert_model(str(models / "m.onnx")), str(models / "m.xml"), compress_to_fp16=False)
    ir = get_backend("openvino", hint="latency", num_requests="3").load(str(models / "m.xml"))
    np.testing.assert_allclose(ir.run(x)[0], _ort(models, x), atol=TOL, rtol=TOL)
    cfg = ir.config()
    assert cfg["device"] == "CPU" and cfg["hint"] == "latency" and cfg["requests"] == 3, cfg
    assert "f32" in cfg["inference_precision_hint"] or "float32" in cfg["inference_precision_hint"], cfg


def threads(models: Path) -> None:
    x = _inputs()
    be = get_backend("openvino", num_requests="2").load(str(models / "m.onnx"))
    want = _ort(models, x)
    with ThreadPoolExecutor(6) as pool:
        outs = list(pool.map(lambda _: be.run(x)[0], range(24)))
    for o in outs:
        np.testing.assert_allclose(o, want, atol=TOL, rtol=TOL)


def errors(models: Path) -> None:
    cases = [(lambda: get_backend("openvino", device="NPU"), "'NPU' is not available here (OpenVINO sees: CPU"),
             (lambda: get_backend("openvino").load(str(models / "x.txt")), "reads ONNX (.onnx) and OpenVINO IR (.xml)"),
             (lambda: get_backend("openvino", hint="fast"), "hint: expected one of latency")]
    (models / "x.txt").write_text("x")
    for make, text in cases:
        try:
            make()
        except BackendError as exc:
            assert text in str(exc) and "\n" not in str(exc), str(exc)
        else:
            raise AssertionError(f"no error for the case expecting {text!r}")


if __name__ == "__main__":
    {"onnx_and_ir": onnx_and_ir, "threads": threads, "errors": errors}[sys.argv[1]](Path(sys.argv[2]))
    print("ok")
