"""RetinaNet anchors and feature-map sizes, as the MLPerf model (torchvision's AnchorGenerator) makes them.

Per level P3..P7 three sizes ``(s, int(s * 2^(1/3)), int(s * 2^(2/3)))`` for s = 32, 64, 128, 256, 512 and
three aspect ratios (0.5, 1, 2) (ratio = height / width): 9 anchors per location, ordered ratio-major.
A cell anchor is ``round([-w, -h, w, h] / 2)`` with ``h = sqrt(ratio) * size`` and ``w = size / sqrt(ratio)``,
in float32; anchors sit at ``(x, y) * stride`` for every grid cell, row-major, with the integer stride
``image size // grid size`` (800 // 13 = 61 for P6, not 64). All of it in float32, as the model computes it.
"""

from __future__ import annotations

import numpy as np

ANCHOR_SIZES: tuple[tuple[int, int, int], ...] = tuple(
    (s, int(s * 2 ** (1.0 / 3)), int(s * 2 ** (2.0 / 3))) for s in (32, 64, 128, 256, 512))
ASPECT_RATIOS: tuple[float, ...] = (0.5, 1.0, 2.0)
ANCHORS_PER_LOCATION = len(ASPECT_RATIOS) * 3


def cell_anchors(sizes: tuple[int, ...], ratios: tuple[float, ...] = ASPECT_RATIOS) -> np.ndarray:
    """Zero-centred anchors of one level, (len(ratios) * len(sizes), 4) float32 ``x1, y1, x2, y2``."""
    scales = np.asarray(sizes, dtype=np.float32)
    h_ratios = np.sqrt(np.asarray(ratios, dtype=np.float32))
    w_ratios = np.float32(1.0) / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    return np.round(np.stack([-ws, -hs, ws, hs], axis=1) / np.float32(2.0))  # round half to even, like torch


def _conv_out(n: int, k: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - k) // stride + 1


def feature_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """Grid sizes of P3..P7 for an input of ``height`` × ``width`` (800 → 100, 50, 25, 13, 7)."""
    sizes = []
    for n in (height, width):
        n = _conv_out(n, 7, 2, 3)          # stem convolution
        n = _conv_out(n, 3, 2, 1)          # max pool
        levels = []
        for _ in range(3):                 # C3, C4, C5: the first 3x3 of a stage has stride 2
            n = _conv_out(n, 3, 2, 1)
            levels.append(n)
        for _ in range(2):                 # P6, P7: 3x3 stride-2 convolutions
            n = _conv_out(n, 3, 2, 1)
            levels.append(n)
        sizes.append(levels)
    return list(zip(sizes[0], sizes[1]))


def grid_anchors(height: int, width: int) -> list[np.ndarray]:
    """Anchors of every level for an input of ``height`` × ``width``: (H*W*9, 4) float32 each."""
    out = []
    for (gh, gw), sizes in zip(feature_sizes(height, width), ANCHOR_SIZES):
        base = cell_anchors(sizes)
        sx = np.arange(gw, dtype=np.float32) * np.float32(width // gw)
        sy = np.arange(gh, dtype=np.float32) * np.float32(height // gh)
        shift_y, shift_x = np.meshgrid(sy, sx, indexing="ij")
        shifts = np.stack([shift_x.ravel(), shift_y.ravel(), shift_x.ravel(), shift_y.ravel()], axis=1)
        out.append((shifts[:, None, :] + base[None, :, :]).reshape(-1, 4))
    return out


def centre_size(anchors: np.ndarray) -> np.ndarray:
    """``(ctr_x, ctr_y, w, h)`` per anchor, computed in float32 the way the box decoder does."""
    w = anchors[:, 2] - anchors[:, 0]
    h = anchors[:, 3] - anchors[:, 1]
    return np.stack([anchors[:, 0] + np.float32(0.5) * w, anchors[:, 1] + np.float32(0.5) * h, w, h], axis=1)
