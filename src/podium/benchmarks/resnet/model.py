"""A random-weight ResNet50-v1.5 with the interface of the official MLPerf ONNX file, for timing only.

The official ``resnet50_v1.onnx`` (zenodo 2592612, opset 8; 4735647, opset 11) is the TensorFlow official
ResNet50 v1.5 converted with tf2onnx: input ``input_tensor:0`` float32 NCHW (N, 3, 224, 224) after the
reference pre-processing, 1001 classes with background at index 0, outputs ``ArgMax:0`` (int64, N) and
``softmax_tensor:0`` (float32, N×1001). This graph has the same input, outputs, layer shapes and op mix
(53 convolutions each followed by BatchNormalization, the TF "SAME" max pool padding, global average
pool, a 2048→1001 dense layer), with He-initialised random weights: its predictions mean nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.vision.graph import GraphBuilder
from podium.benchmarks.vision.model_cache import cache_dir, cached_model
from podium.benchmarks.vision.resnet_body import RESNET50, ResNetSpec, batch_norm, stages, stem

#: Bump when the graph changes: cached builds with another version are rebuilt.
BUILDER_VERSION = 1
DEFAULT_SEED = 0
NUM_CLASSES = 1001  # ImageNet's 1000 plus background at 0, like the official file
INPUT_NAME = "input_tensor:0"
ARGMAX_NAME = "ArgMax:0"
SOFTMAX_NAME = "softmax_tensor:0"
OPSET = 13
#: Spread of mean-subtracted ImageNet pixels (roughly their standard deviation): scales the random stem.
PIXEL_STD = 58.0
#: TensorFlow's "SAME" padding for the 3×3/2 max pool of a 112×112 map: nothing before, one after.
TF_SAME_POOL_PADS = (0, 0, 1, 1)


def build_resnet50_v15(seed: int = DEFAULT_SEED, num_classes: int = NUM_CLASSES, image_size: int = 224,
                       spec: ResNetSpec = RESNET50, pool_pads: tuple[int, ...] = TF_SAME_POOL_PADS
                       ) -> tuple[Any, GraphBuilder]:
    """The ``ModelProto`` and its builder (for op/parameter counts); ``spec`` shrinks it for tests,
    ``pool_pads=(1, 1, 1, 1)`` gives torchvision's max pool (to compare with torchvision's ResNet50)."""
    g = GraphBuilder(seed)
    x = stem(g, INPUT_NAME, spec, batch_norm, pool_pads, input_std=PIXEL_STD)
    c5, channels = stages(g, x, spec, batch_norm)[-1]
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [c5])], axis=1)
    w = g.rng.standard_normal((num_classes, channels), dtype=np.float32) * np.float32(channels ** -0.5)
    logits = g.op("Gemm", [pooled, g.const(w, "fc_w", param=True),
                           g.const(np.zeros(num_classes, np.float32), "fc_b", param=True)],
                  transB=1, prefix="logits")
    g.nodes.append(g.onnx.helper.make_node("Softmax", [logits], [SOFTMAX_NAME], name="softmax", axis=1))
    g.nodes.append(g.onnx.helper.make_node("ArgMax", [logits], [ARGMAX_NAME], name="argmax", axis=1,
                                           keepdims=0))
    model = g.model(
        "resnet50_v1.5_random",
        inputs=[g.value_info(INPUT_NAME, "float", ["batch", 3, image_size, image_size])],
        outputs=[g.value_info(ARGMAX_NAME, "int64", ["batch"]),
                 g.value_info(SOFTMAX_NAME, "float", ["batch", num_classes])],
        opset=OPSET,
        doc=f"ResNet50-v1.5 with RANDOM weights (seed {seed}), built by podium for performance-only runs. "
            "Predictions are meaningless.",
    )
    return model, g


def random_model_file(seed: int = DEFAULT_SEED) -> Path:
    """Where the random-weight model is cached (not built here)."""
    return cache_dir() / f"resnet50_v1.5_random_seed{seed}.onnx"


def random_model_path(seed: int = DEFAULT_SEED) -> Path:
    """The cached random-weight model file (built on first use, a few seconds)."""
    identity = {"model": "resnet50_v1.5", "builder_version": BUILDER_VERSION, "seed": seed,
                "num_classes": NUM_CLASSES, "image_size": 224}
    path = random_model_file(seed)
    return cached_model(path.name, identity, lambda: build_resnet50_v15(seed)[0].SerializeToString(), path.parent)
