"""The random-weight ResNet50-v1.5 graph computes what torchvision's resnet50 computes with the same weights.

Runs only where torchvision imports (not beside the torch pinned for podium's own builds); the graph's
weights are copied into torchvision's model layer by layer, which also checks every layer's shape, and both
classify the same images. The graph is built with torchvision's max-pool padding for this comparison (the
official TensorFlow export pads "SAME", one pixel after, which is what podium builds by default).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from podium.benchmarks.resnet import model

if importlib.util.find_spec("torchvision") is None:  # checked first: importing torch alone takes seconds
    pytest.skip("torchvision is not installed", allow_module_level=True)
try:  # torchvision fails with other errors than ImportError beside a mismatched torch
    import torch
    import torchvision
except Exception:  # noqa: BLE001
    pytest.skip("torchvision is not importable here", allow_module_level=True)

pytestmark = pytest.mark.slow


def _torch_layers(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """torchvision's layers in the order podium's builder creates them."""
    seq: list[tuple[str, torch.nn.Module]] = [("conv", net.conv1), ("bn", net.bn1)]
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for blk in layer:
            seq += [("conv", blk.conv1), ("bn", blk.bn1), ("conv", blk.conv2), ("bn", blk.bn2), ("conv", blk.conv3),
                    ("bn", blk.bn3)]
            if blk.downsample is not None:
                seq += [("conv", blk.downsample[0]), ("bn", blk.downsample[1])]
    return seq + [("fc", net.fc)]


def test_graph_matches_torchvision_resnet50() -> None:
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    graph = model.build_resnet50_v15(seed=5, num_classes=1000, pool_pads=(1, 1, 1, 1))[0]
    inits = {t.name: t for t in graph.graph.initializer}
    rng = np.random.default_rng(0)
    groups: list[tuple[str, list[np.ndarray]]] = []
    for node in graph.graph.node:
        if node.op_type == "Conv":
            groups.append(("conv", [numpy_helper.to_array(inits[node.input[1]])]))
        elif node.op_type == "BatchNormalization":  # random statistics, so that they are checked too
            c = numpy_helper.to_array(inits[node.input[1]]).shape[0]
            stats = [rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c), rng.uniform(0.5, 2, c)]
            for name, arr in zip(node.input[1:], stats):
                inits[name].CopyFrom(numpy_helper.from_array(arr.astype(np.float32), name))
            groups.append(("bn", [a.astype(np.float32) for a in stats]))
        elif node.op_type == "Gemm":
            groups.append(("fc", [numpy_helper.to_array(inits[n]) for n in node.input[1:]]))
    net = torchvision.models.resnet50(weights=None).eval()
    layers = _torch_layers(net)
    assert [k for k, _ in groups] == [k for k, _ in layers]
    with torch.no_grad():
        for (kind, arrays), (_, mod) in zip(groups, layers):
            params = [mod.weight] if kind == "conv" else (
                [mod.weight, mod.bias, mod.running_mean, mod.running_var] if kind == "bn" else [mod.weight, mod.bias])
            for p, a in zip(params, arrays):
                assert tuple(p.shape) == a.shape
                p.copy_(torch.from_numpy(np.array(a)))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    x = (np.random.default_rng(1).integers(0, 256, (4, 3, 224, 224)) - 120).astype(np.float32)
    argmax, probs = session.run(None, {model.INPUT_NAME: x})
    with torch.no_grad():
        expected = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-3, atol=1e-6)
    np.testing.assert_array_equal(argmax, expected.argmax(axis=1))
    onnx.checker.check_model(graph)
