"""3D-UNet sliding-window inference on tiny volumes and patches (never the 128³ network itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.unet3d.sliding_window import (
    check_shape,
    gaussian_kernel,
    sliding_window_inference,
    window_starts,
)
from podium.errors import PodiumError

ROI = (8, 8, 8)


def test_gaussian_importance_map() -> None:
    n, std = 8, 1.0
    g = gaussian_kernel(n, std)
    # cbrt of g(i) g(j) g(k) is the product of the cube-rooted 1-D windows; then scaled to a maximum of 1.
    c = np.cbrt(np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / std) ** 2))
    want = np.einsum("i,j,k->ijk", c, c, c)
    np.testing.assert_allclose(g, want / want.max(), rtol=1e-12)
    assert g.max() == 1.0 and np.allclose(g, g[::-1, ::-1, ::-1]) and g.shape == (8, 8, 8)


def test_window_positions_follow_the_reference_order() -> None:
    starts = list(window_starts((32, 16, 24), ROI))
    assert len(starts) == 7 * 3 * 5  # (32-8)/4+1, (16-8)/4+1, (24-8)/4+1 with a stride of 4
    assert starts[:6] == [(0, 0, 0), (0, 0, 4), (0, 0, 8), (0, 0, 12), (0, 0, 16), (0, 4, 0)]
    assert starts[-1] == (24, 8, 16)
    assert len(list(window_starts((256, 320, 320), (128, 128, 128)))) == 3 * 4 * 4


def test_shape_must_be_covered_exactly() -> None:
    check_shape((16, 8, 12), ROI)
    with pytest.raises(PodiumError, match=r"axis 2 is 10; expected >= 8 and 8 \+ a multiple of 4"):
        check_shape((16, 8, 10), ROI, what="case_00001")
    with pytest.raises(PodiumError, match="axis 0 is 4"):
        check_shape((4, 8, 8), ROI)


def test_constant_model_gives_its_class_everywhere() -> None:
    calls = []

    def constant(patches: np.ndarray) -> np.ndarray:
        calls.append(patches.shape[0])
        out = np.empty((patches.shape[0], 3, *ROI), dtype=np.float32)
        out[:, 0], out[:, 1], out[:, 2] = 0.1, 0.7, 0.2
        return out

    image = np.random.default_rng(0).random((1, 16, 12, 8), dtype=np.float32)
    labels, n = sliding_window_inference(image, constant, ROI)
    assert n == 3 * 2 * 1 and sum(calls) == 6 and labels.shape == (16, 12, 8) and labels.dtype == np.uint8
    assert np.all(labels == 1)


def _passthrough(patches: np.ndarray) -> np.ndarray:
    """Class 2 logit = the voxel value, class 1 = 0.5, class 0 = 0: label 2 exactly where the input > 0.5."""
    b = patches.shape[0]
    return np.concatenate([np.zeros((b, 1, *ROI), np.float32), np.full((b, 1, *ROI), 0.5, np.float32),
                           patches], axis=1)


def test_overlapping_patches_put_each_voxel_back_in_place() -> None:
    rng = np.random.default_rng(1)
    image = (rng.random((1, 20, 12, 16)) < 0.3).astype(np.float32)  # 0 or 1: far from the 0.5 boundary
    labels, n = sliding_window_inference(image, _passthrough, ROI)
    assert n == 4 * 2 * 3
    assert np.array_equal(labels, np.where(image[0] > 0.5, 2, 1).astype(np.uint8))
    batched, _ = sliding_window_inference(image, _passthrough, ROI, patch_batch=5)
    assert np.array_equal(batched, labels)


def test_model_output_shape_is_checked() -> None:
    with pytest.raises(PodiumError, match=r"returned shape \(1, 2, 8, 8, 8\)"):
        sliding_window_inference(np.zeros((1, 8, 8, 8), np.float32),
                                 lambda p: np.zeros((p.shape[0], 2, *ROI), np.float32), ROI)


def _passthrough_onnx(path: Path, batch: str | int = "N") -> Path:
    """The passthrough model as an ONNX graph with a fixed 8³ patch."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Mul", ["input", "zero"], ["c0"]),
             helper.make_node("Add", ["c0", "half"], ["c1"]),
             helper.make_node("Concat", ["c0", "c1", "input"], ["output"], axis=1)]
    graph = helper.make_graph(
        nodes, "passthrough",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 1, *ROI])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, *ROI])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
         numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save_model(m, str(path))
    return path


def test_runner_over_onnx_runtime(tmp_path: Path) -> None:
    from podium.backends import get_backend
    from podium.benchmarks.unet3d.responses import UNet3DModelRunner, responses

    image = (np.random.default_rng(2).random((1, 12, 8, 16)) < 0.5).astype(np.float32)
    for batch_dim, patch_batch, expect_batch in (("N", 4, 4), (1, 4, 1)):
        path = _passthrough_onnx(tmp_path / f"p{batch_dim}.onnx", batch_dim)
        runner = UNet3DModelRunner(get_backend("onnxruntime", intra_op_threads=1).load(path), patch_batch=patch_batch)
        assert runner.roi == ROI and runner.patch_batch == expect_batch
        (labels,) = runner.run([image])
        assert runner.patches_run == 2 * 1 * 3
        assert np.array_equal(labels, np.where(image[0] > 0.5, 2, 1))
        assert responses([labels])[0] == labels.astype(np.uint8).tobytes()


def test_tiny_random_unet_graph(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from podium.backends import get_backend
    from podium.benchmarks.unet3d import model

    path = model.build_random_model(tmp_path, filters=(2, 4), roi=8, seed=1)
    backend = get_backend("onnxruntime", intra_op_threads=1).load(path)
    assert [s.shape for s in backend.inputs] == [("N", 1, 8, 8, 8)]
    out = backend.run(np.random.default_rng(0).random((2, 1, 8, 8, 8), dtype=np.float32))[0]
    assert out.shape == (2, 3, 8, 8, 8) and np.isfinite(out).all() and out.std() > 0
    assert path.with_suffix(".json").read_text().count('"random_weights": true') == 1
    with pytest.raises(PodiumError, match="divisible by 2\\*\\*2"):
        model.build_graph((2, 4), roi=6)
