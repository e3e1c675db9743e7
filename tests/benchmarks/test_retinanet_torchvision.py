"""The random-weight RetinaNet graph detects what torchvision's RetinaNet detects with the same weights.

Runs only where torchvision imports (not beside the torch pinned for podium's own builds). torchvision's
RetinaNet with a ResNeXt50-32x4d body, frozen batch norms, an FPN with P6/P7 from P5 and 264 classes is the
MLPerf model's architecture; the graph's weights are copied into it layer by layer (which checks every
shape), both see the same 800x800 photo, and their detections (anchors, decoding, top-k, NMS) must agree.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from podium.benchmarks.retinanet import model
from podium.benchmarks.vision.preprocess import retinanet_image
from tests.benchmarks import vision_fixtures as vf

if importlib.util.find_spec("torchvision") is None:  # checked first: importing torch alone takes seconds
    pytest.skip("torchvision is not installed", allow_module_level=True)
try:  # torchvision fails with other errors than ImportError beside a mismatched torch
    import torch
    import torchvision  # noqa: F401
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.models.detection.retinanet import RetinaNet
    from torchvision.ops import misc as misc_nn_ops
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7
except Exception:  # noqa: BLE001
    pytest.skip("torchvision is not importable here", allow_module_level=True)

pytestmark = pytest.mark.slow


def _torchvision_retinanet() -> torch.nn.Module:
    body = torchvision.models.resnext50_32x4d(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(body, 5, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
    return RetinaNet(backbone, num_classes=model.NUM_CLASSES, min_size=800, max_size=1333).eval()


def _torch_layers(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """torchvision's layers in the order podium's builder creates them."""
    b = net.backbone.body
    seq: list[tuple[str, torch.nn.Module]] = [("conv", b.conv1), ("fbn", b.bn1)]
    for layer in (b.layer1, b.layer2, b.layer3, b.layer4):
        for blk in layer:
            seq += [("conv", blk.conv1), ("fbn", blk.bn1), ("conv", blk.conv2), ("fbn", blk.bn2),
                    ("conv", blk.conv3), ("fbn", blk.bn3)]
            if blk.downsample is not None:
                seq += [("conv", blk.downsample[0]), ("fbn", blk.downsample[1])]
    fpn = net.backbone.fpn
    for i in (2, 1, 0):  # podium builds top-down: C5's lateral and output first
        seq += [("conv", fpn.inner_blocks[i][0]), ("conv", fpn.layer_blocks[i][0])]
    seq += [("conv", fpn.extra_blocks.p6), ("conv", fpn.extra_blocks.p7)]
    cls, reg = net.head.classification_head, net.head.regression_head
    seq += [("conv", c[0]) for c in cls.conv] + [("conv", cls.cls_logits)]
    return seq + [("conv", c[0]) for c in reg.conv] + [("conv", reg.bbox_reg)]


def _graph_layers(graph: object) -> list[tuple[str, list[np.ndarray]]]:
    """Conv weights (+ bias) and frozen-BN (scale, bias) of the graph in node order, shared heads once."""
    from onnx import numpy_helper

    inits = {t.name: numpy_helper.to_array(t) for t in graph.graph.initializer}  # type: ignore[attr-defined]
    seen: set[str] = set()
    out: list[tuple[str, list[np.ndarray]]] = []
    nodes = list(graph.graph.node)  # type: ignore[attr-defined]
    for i, node in enumerate(nodes):
        if node.op_type == "Conv" and node.input[1] not in seen:
            seen.add(node.input[1])
            out.append(("conv", [inits[n] for n in node.input[1:]]))
        elif node.op_type == "Mul" and node.name.startswith("fbn_mul"):
            add = nodes[i + 1]
            out.append(("fbn", [inits[node.input[1]].reshape(-1), inits[add.input[1]].reshape(-1)]))
    return out


def test_graph_matches_torchvision_retinanet() -> None:
    import onnxruntime as ort

    graph = model.build_retinanet(seed=0)[0]
    net = _torchvision_retinanet()
    ours, theirs = _graph_layers(graph), _torch_layers(net)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    with torch.no_grad():
        for (kind, arrays), (_, mod) in zip(ours, theirs):
            if kind == "conv":
                for p, a in zip([mod.weight, mod.bias][: len(arrays)], arrays):
                    assert tuple(p.shape) == a.shape
                    p.copy_(torch.from_numpy(np.array(a)))
            else:  # FrozenBatchNorm2d: scale = weight / sqrt(var + eps); var = 1 - eps makes it the weight
                scale, bias = arrays
                assert tuple(mod.weight.shape) == scale.shape
                mod.weight.copy_(torch.from_numpy(np.array(scale)))
                mod.bias.copy_(torch.from_numpy(np.array(bias)))
                mod.running_mean.zero_()
                mod.running_var.fill_(1.0 - mod.eps)
    bgr = np.ascontiguousarray(vf.photos()["coffee"][:, :, ::-1])
    x = retinanet_image(bgr).transpose(2, 0, 1)
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    boxes, scores, labels = session.run(None, {"images": np.ascontiguousarray(x[None])})
    with torch.no_grad():
        ref = net([torch.from_numpy(np.ascontiguousarray(x))])[0]
    rb, rs, rl = ref["boxes"].numpy(), ref["scores"].numpy(), ref["labels"].numpy()
    assert len(rs) == len(scores) and len(scores) > 50  # the random heads are scaled to give real NMS work
    np.testing.assert_allclose(scores[:50], rs[:50], rtol=1e-3)
    matched = 0
    for b, s, lab in zip(boxes, scores, labels):
        same = (rl == lab) & (np.abs(rs - s) < 1e-3) & (np.abs(rb - b).max(axis=1) < 0.5)
        matched += bool(same.any())
    assert matched >= 0.97 * len(scores)  # near-equal scores may swap at the 300-detection cut
