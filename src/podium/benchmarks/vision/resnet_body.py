"""The ResNet / ResNeXt body (stem and four stages of bottlenecks) as ONNX nodes, shared by both models.

Facts carried over from the architectures (torchvision and the TensorFlow official ResNet, as the MLPerf
models use them): stem 7×7/2 convolution with 64 filters, normalisation, ReLU, 3×3/2 max pool; stages of
(3, 4, 6, 3) bottlenecks with 64, 128, 256, 512 "planes" and expansion 4; the "v1.5" stride on the 3×3
convolution of a bottleneck (not on its first 1×1); a 1×1 projection shortcut with normalisation on the first
block of each stage. ResNeXt-50 32×4d uses 32 groups on the 3×3 and a bottleneck width of
``planes * 4 / 64 * 32`` (twice ResNet's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from podium.benchmarks.vision.graph import GraphBuilder

#: ``norm(builder, x, channels, gamma) -> y``: BatchNormalization or torchvision's frozen variant.
Norm = Callable[[GraphBuilder, str, int, float], str]

#: Scale of the last normalisation in each residual branch. With random weights every block would double
#: the activation variance (branch + shortcut), 2^16 over ResNet50; 0.25 keeps the output within ~2x of the
#: input, so random-weight runs compute on ordinary magnitudes (no overflow, no denormals).
RESIDUAL_GAMMA = 0.25


def batch_norm(g: GraphBuilder, x: str, c: int, gamma: float = 1.0) -> str:
    """``Norm`` using ONNX BatchNormalization (the TensorFlow-exported ResNet50 keeps it)."""
    return g.batch_norm(x, c, gamma)


def frozen_batch_norm(g: GraphBuilder, x: str, c: int, gamma: float = 1.0) -> str:
    """``Norm`` using Mul + Add constants (torchvision detection backbones freeze their batch norms)."""
    return g.frozen_batch_norm(x, c, gamma)


@dataclass(frozen=True)
class ResNetSpec:
    """Depth and width of a ResNet-family body."""

    layers: tuple[int, ...] = (3, 4, 6, 3)
    groups: int = 1
    width_per_group: int = 64
    base_planes: int = 64  # planes of the first stage; later stages double it (tests shrink it)

    def planes(self, stage: int) -> int:
        """The ``planes`` of a stage (its output has ``4 * planes`` channels)."""
        return self.base_planes * 2 ** stage

    def width(self, stage: int) -> int:
        """Channels inside the bottlenecks of a stage (torchvision's ``width``)."""
        return int(self.planes(stage) * (self.width_per_group / 64.0)) * self.groups

    def out_channels(self, stage: int) -> int:
        """Output channels of a stage (expansion 4)."""
        return self.planes(stage) * 4


RESNET50 = ResNetSpec()
RESNEXT50_32X4D = ResNetSpec(groups=32, width_per_group=4)


def stem(g: GraphBuilder, x: str, spec: ResNetSpec, norm: Norm, pool_pads: Sequence[int],
         input_std: float = 1.0) -> str:
    """7×7/2 convolution, norm, ReLU, 3×3/2 max pool (``pool_pads`` differ: TF SAME vs. torchvision).

    ``input_std``: typical spread of the input values; the random stem weights are divided by it so that
    features start near unit scale (ResNet50 takes mean-subtracted pixels, spread ~60, not unit-scale ones).
    """
    c = spec.base_planes
    std = (2.0 / (3 * 7 * 7)) ** 0.5 / input_std
    y = g.relu(norm(g, g.conv(x, 3, c, 7, stride=2, pads=[3, 3, 3, 3], std=std, prefix="stem_conv"), c, 1.0))
    return g.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=list(pool_pads))


def bottleneck(g: GraphBuilder, x: str, cin: int, spec: ResNetSpec, stage: int, stride: int, norm: Norm) -> str:
    """One bottleneck: 1×1 → 3×3 (stride, groups) → 1×1, plus the shortcut, then ReLU."""
    width, cout = spec.width(stage), spec.out_channels(stage)
    y = g.relu(norm(g, g.conv(x, cin, width, 1, pads=[0, 0, 0, 0]), width, 1.0))
    y = g.relu(norm(g, g.conv(y, width, width, 3, stride=stride, groups=spec.groups), width, 1.0))
    y = norm(g, g.conv(y, width, cout, 1, pads=[0, 0, 0, 0]), cout, RESIDUAL_GAMMA)
    if stride != 1 or cin != cout:
        shortcut = norm(g, g.conv(x, cin, cout, 1, stride=stride, pads=[0, 0, 0, 0], prefix="proj"), cout, 1.0)
    else:
        shortcut = x
    return g.relu(g.op("Add", [y, shortcut], prefix="residual"))


def stages(g: GraphBuilder, x: str, spec: ResNetSpec, norm: Norm) -> list[tuple[str, int]]:
    """The four stages after the stem; returns ``(output, channels)`` of each (C2, C3, C4, C5)."""
    outs: list[tuple[str, int]] = []
    cin = spec.base_planes
    for stage, blocks in enumerate(spec.layers):
        for b in range(blocks):
            stride = 2 if (b == 0 and stage > 0) else 1
            x = bottleneck(g, x, cin, spec, stage, stride, norm)
            cin = spec.out_channels(stage)
        outs.append((x, cin))
    return outs
