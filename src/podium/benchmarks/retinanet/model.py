"""A random-weight RetinaNet ResNeXt50-32x4d FPN with the interface of the official MLPerf ONNX file.

The official ``resnext50_32x4d_fpn.onnx`` (zenodo 6617879, opset 13) is the MLPerf training model exported
from PyTorch for one 800×800 image: input ``images`` (1, 3, 800, 800) in 0..1, outputs ``boxes`` (N, 4;
x1, y1, x2, y2 in input pixels), ``scores`` (N) and ``labels`` (N, int64; 264 OpenImages classes). This graph
has the same interface and the same computation, layer for layer:

* normalisation by the ImageNet mean/std and the (identity at 800×800) bilinear resize of the transform;
* ResNeXt50 32×4d body with frozen batch norms (Mul + Add), C3..C5 into an FPN of 256 channels (1×1
  laterals, nearest 2× top-down, 3×3 outputs) plus P6/P7 (3×3 stride 2 on P5, then on ReLU(P6));
* classification and box heads shared over the levels: 4 × (3×3 conv 256 + ReLU), then 9×264 logits /
  9×4 deltas per location, reshaped to (anchors, classes), concatenated and split per level;
* detection post-processing inside the graph, as the export traces it: per level sigmoid, keep scores
  > 0.05, top min(1000, kept), decode against the anchors (box coder weights 1, dw/dh clipped at
  log(1000/16)), clip to the image; then class-aware NMS at IoU 0.5 (labels offset the boxes apart, as
  torchvision's batched NMS does) and the best 300.

Weights are random (He-normal, seeded), so the detections mean nothing; the classification bias keeps the
reference prior (-log(99)) and the last classification layer is scaled so that, like a trained model, a few
thousand candidates per image pass the 0.05 threshold and NMS has real work.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.retinanet.anchors import ANCHORS_PER_LOCATION, centre_size, feature_sizes, grid_anchors
from podium.benchmarks.vision.graph import GraphBuilder
from podium.benchmarks.vision.model_cache import cache_dir, cached_model
from podium.benchmarks.vision.resnet_body import RESNEXT50_32X4D, ResNetSpec, frozen_batch_norm, stages, stem

BUILDER_VERSION = 1
DEFAULT_SEED = 0
NUM_CLASSES = 264  # the MLPerf OpenImages subset
IMAGE_SIZE = 800
INPUT_NAME = "images"
OUTPUT_NAMES = ("boxes", "scores", "labels")
OPSET = 13
FPN_CHANNELS = 256
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
SCORE_THRESHOLD = 0.05
TOPK_CANDIDATES = 1000
NMS_IOU = 0.5
DETECTIONS_PER_IMAGE = 300
BBOX_XFORM_CLIP = math.log(1000.0 / 16)
PRIOR_PROBABILITY = 0.01
#: Standard deviation of the random last classification layer (see the module docstring).
CLS_LOGITS_STD = 0.003
#: Standard deviation of the random last box layer: deltas of a few tenths, boxes near their anchors.
BBOX_REG_STD = 0.002


def build_retinanet(seed: int = DEFAULT_SEED, num_classes: int = NUM_CLASSES, image_size: int = IMAGE_SIZE,
                    spec: ResNetSpec = RESNEXT50_32X4D, fpn_channels: int = FPN_CHANNELS,
                    head_convs: int = 4, cls_logits_std: float = CLS_LOGITS_STD) -> tuple[Any, GraphBuilder]:
    """The ``ModelProto`` and its builder (op and parameter counts); smaller settings serve tests."""
    g = GraphBuilder(seed)
    h = w = image_size
    x = g.op("Div", [g.op("Sub", [INPUT_NAME, g.float32(np.reshape(IMAGE_MEAN, (1, 3, 1, 1)), "mean")]),
                     g.float32(np.reshape(IMAGE_STD, (1, 3, 1, 1)), "std")], prefix="normalise")
    x = g.op("Resize", [x, "", "", g.int64([1, 3, h, w], "resize_sizes")], mode="linear",
             coordinate_transformation_mode="pytorch_half_pixel")
    body = stages(g, stem(g, x, spec, frozen_batch_norm, (1, 1, 1, 1)), spec, frozen_batch_norm)
    pyramid = _fpn(g, body[1:], fpn_channels)
    grids = feature_sizes(h, w)
    cls, reg = _heads(g, pyramid, grids, fpn_channels, num_classes, head_convs, cls_logits_std)
    boxes, scores, labels = _detect(g, cls, reg, grids, h, w, num_classes)
    _named(g, "Identity", [boxes], OUTPUT_NAMES[0])
    _named(g, "Identity", [scores], OUTPUT_NAMES[1])
    _named(g, "Identity", [labels], OUTPUT_NAMES[2])
    model = g.model(
        "retinanet_resnext50_32x4d_fpn_random",
        inputs=[g.value_info(INPUT_NAME, "float", [1, 3, h, w])],
        outputs=[g.value_info(OUTPUT_NAMES[0], "float", ["detections", 4]),
                 g.value_info(OUTPUT_NAMES[1], "float", ["detections"]),
                 g.value_info(OUTPUT_NAMES[2], "int64", ["detections"])],
        opset=OPSET,
        doc=f"RetinaNet ResNeXt50-32x4d FPN {h}x{w}, {num_classes} classes, with RANDOM weights (seed {seed}), "
            "built by podium for performance-only runs. Detections are meaningless.",
    )
    return model, g


def _named(g: GraphBuilder, op: str, inputs: list[str], output: str) -> None:
    g.nodes.append(g.onnx.helper.make_node(op, inputs, [output], name=output))


def _fpn(g: GraphBuilder, feats: list[tuple[str, int]], c: int) -> list[str]:
    """P3..P7 from C3..C5 (torchvision FeaturePyramidNetwork + LastLevelP6P7 on P5)."""
    std = 1.0  # kaiming_uniform(a=1): variance 1 / fan_in, no ReLU gain
    (c3, n3), (c4, n4), (c5, n5) = feats
    inner = g.conv(c5, n5, c, 1, pads=[0, 0, 0, 0], bias=True, std=math.sqrt(std / n5), prefix="fpn_inner")
    outs = [g.conv(inner, c, c, 3, bias=True, std=math.sqrt(std / (9 * c)), prefix="fpn_layer")]
    for feat, n in ((c4, n4), (c3, n3)):
        lateral = g.conv(feat, n, c, 1, pads=[0, 0, 0, 0], bias=True, std=math.sqrt(std / n), prefix="fpn_inner")
        size = g.op("Shape", [lateral])
        top_down = g.op("Resize", [inner, "", "", size], mode="nearest", coordinate_transformation_mode="asymmetric",
                        nearest_mode="floor")
        inner = g.op("Add", [lateral, top_down], prefix="fpn_merge")
        outs.insert(0, g.conv(inner, c, c, 3, bias=True, std=math.sqrt(std / (9 * c)), prefix="fpn_layer"))
    p6 = g.conv(outs[-1], c, c, 3, stride=2, bias=True, std=math.sqrt(std / (9 * c)), prefix="fpn_p6")
    p7 = g.conv(g.relu(p6), c, c, 3, stride=2, bias=True, std=math.sqrt(std / (9 * c)), prefix="fpn_p7")
    return outs + [p6, p7]


def _heads(g: GraphBuilder, pyramid: list[str], grids: list[tuple[int, int]], c: int, num_classes: int,
           head_convs: int, cls_logits_std: float) -> tuple[list[str], list[str]]:
    """Classification and regression heads (weights shared by all levels), split back per level."""
    a = ANCHORS_PER_LOCATION
    # Random hidden layers use He init (a trained head keeps its features alive; the reference's 0.01-std
    # training init would fade them to nothing over four layers).
    cls_tower = [g.conv_weights(c, c, 3, bias=True, prefix="cls_conv") for _ in range(head_convs)]
    cls_out = g.conv_weights(c, a * num_classes, 3, bias=True, std=cls_logits_std,
                             bias_value=-math.log((1 - PRIOR_PROBABILITY) / PRIOR_PROBABILITY), prefix="cls_logits")
    reg_tower = [g.conv_weights(c, c, 3, bias=True, prefix="reg_conv") for _ in range(head_convs)]
    reg_out = g.conv_weights(c, a * 4, 3, bias=True, std=BBOX_REG_STD, prefix="bbox_reg")
    per_level: dict[str, list[str]] = {"cls": [], "reg": []}
    for feat, (gh, gw) in zip(pyramid, grids):
        for key, tower, last, k in (("cls", cls_tower, cls_out, num_classes), ("reg", reg_tower, reg_out, 4)):
            y = feat
            for weights in tower:
                y = g.relu(g.conv_with(y, weights, 3, prefix=f"{key}_conv"))
            y = g.conv_with(y, last, 3, prefix=f"{key}_out")
            # (N, A*K, H, W) -> (N, A, K, H, W) -> (N, H, W, A, K) -> (N, H*W*A, K)
            y = g.op("Reshape", [y, g.int64([1, a, k, gh, gw], "shape")])
            y = g.op("Transpose", [y], perm=[0, 3, 4, 1, 2])
            per_level[key].append(g.op("Reshape", [y, g.int64([1, gh * gw * a, k], "shape")]))
    sizes = g.int64([gh * gw * a for gh, gw in grids], "split")
    n = len(grids)
    cls_all = g.op("Concat", per_level["cls"], axis=1, prefix="cls_logits_all")
    reg_all = g.op("Concat", per_level["reg"], axis=1, prefix="bbox_regression_all")
    return (g.op("Split", [cls_all, sizes], n_out=n, axis=1, prefix="cls_split"),
            g.op("Split", [reg_all, sizes], n_out=n, axis=1, prefix="reg_split"))


def _detect(g: GraphBuilder, cls: list[str], reg: list[str], grids: list[tuple[int, int]], h: int, w: int,
            num_classes: int) -> tuple[str, str, str]:
    """torchvision RetinaNet ``postprocess_detections`` for one image, as ONNX nodes."""
    boxes, scores, labels = [], [], []
    flat = g.int64([-1], "flat")
    box_max = g.float32([w, h, w, h], "image_size")
    for logits, deltas, anchors in zip(cls, reg, grid_anchors(h, w)):
        s = g.op("Sigmoid", [g.op("Reshape", [logits, flat])])
        kept = g.op("Reshape", [g.op("NonZero", [g.op("Greater", [s, g.float32(SCORE_THRESHOLD, "thr")])]), flat])
        kept_scores = g.op("Gather", [s, kept], axis=0)
        k = g.op("Min", [g.op("Shape", [kept_scores]), g.int64([TOPK_CANDIDATES], "topk")])
        top_scores, pos = g.op("TopK", [kept_scores, k], n_out=2, axis=0, largest=1, sorted=1)
        idx = g.op("Gather", [kept, pos], axis=0)
        anchor_idx = g.op("Div", [idx, g.int64(num_classes, "classes")])
        label = g.op("Mod", [idx, g.int64(num_classes, "classes")])
        rel = g.op("Gather", [g.op("Reshape", [deltas, g.int64([-1, 4], "shape")]), anchor_idx], axis=0)
        anc = g.op("Gather", [g.const(centre_size(anchors), "anchors"), anchor_idx], axis=0)
        d_xy, d_wh = _columns(g, rel)
        ctr, size = _columns(g, anc)
        pred_ctr = g.op("Add", [g.op("Mul", [d_xy, size]), ctr])
        clipped = g.op("Min", [d_wh, g.float32(BBOX_XFORM_CLIP, "xform_clip")])
        half = g.op("Mul", [g.op("Mul", [g.op("Exp", [clipped]), size]), g.float32(0.5, "half")])
        box = g.op("Concat", [g.op("Sub", [pred_ctr, half]), g.op("Add", [pred_ctr, half])], axis=1)
        box = g.op("Min", [g.op("Max", [box, g.float32(0.0, "zero")]), box_max], prefix="clip_boxes")
        boxes.append(box)
        scores.append(top_scores)
        labels.append(label)
    all_boxes = g.op("Concat", boxes, axis=0, prefix="candidate_boxes")
    all_scores = g.op("Concat", scores, axis=0, prefix="candidate_scores")
    all_labels = g.op("Concat", labels, axis=0, prefix="candidate_labels")
    # Class-aware NMS: shift each class's boxes by label * (image size + 1) so classes never overlap.
    offset = g.op("Mul", [g.op("Cast", [all_labels], to=g.onnx.TensorProto.FLOAT),
                          g.float32(max(h, w) + 1.0, "class_offset")])
    shifted = g.op("Add", [all_boxes, g.op("Unsqueeze", [offset, g.int64([1], "axis")])])
    selected = g.op("NonMaxSuppression", [
        g.op("Unsqueeze", [shifted, g.int64([0], "axis")]),
        g.op("Reshape", [all_scores, g.int64([1, 1, -1], "shape")]),
        g.int64([DETECTIONS_PER_IMAGE], "max_detections"), g.float32([NMS_IOU], "iou")])
    keep = g.op("Reshape", [g.op("Gather", [selected, g.int64([2], "box_column")], axis=1), flat])
    return (g.op("Gather", [all_boxes, keep], axis=0), g.op("Gather", [all_scores, keep], axis=0),
            g.op("Gather", [all_labels, keep], axis=0))


def _columns(g: GraphBuilder, x: str) -> tuple[str, str]:
    """Columns 0:2 and 2:4 of an (N, 4) tensor."""
    axes = g.int64([1], "axes")
    return (g.op("Slice", [x, g.int64([0], "start"), g.int64([2], "end"), axes]),
            g.op("Slice", [x, g.int64([2], "start"), g.int64([4], "end"), axes]))


def random_model_file(seed: int = DEFAULT_SEED) -> Path:
    """Where the random-weight model is cached (not built here)."""
    return cache_dir() / f"retinanet_resnext50_32x4d_fpn_random_seed{seed}.onnx"


def random_model_path(seed: int = DEFAULT_SEED) -> Path:
    """The cached random-weight model file (built on first use, a few seconds)."""
    identity = {"model": "retinanet_resnext50_32x4d_fpn", "builder_version": BUILDER_VERSION, "seed": seed,
                "num_classes": NUM_CLASSES, "image_size": IMAGE_SIZE}
    path = random_model_file(seed)
    return cached_model(path.name, identity, lambda: build_retinanet(seed)[0].SerializeToString(), path.parent)
