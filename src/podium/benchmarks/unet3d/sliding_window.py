"""Sliding-window inference over a whole pre-processed KiTS19 case, the way the 3D-UNet reference does it.

The case (``(1, D, H, W)`` float32, every edge a multiple of the stride and at least the patch size, as the
reference pre-processing leaves it) is covered by ``roi``-sized patches at a stride of ``roi * (1 -
overlap)`` (64 for 128³ patches and overlap 0.5), visited in ``i, j, k`` order. Each patch's 3-class logits
are weighted by a Gaussian importance map (1-D window of std ``0.125 * roi``, the cube root of its 3-D outer
product, scaled to a maximum of 1) and summed into the case's result; the weights are summed likewise;
result / weights is arg-maxed over the classes into a uint8 label volume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from podium.errors import PodiumError

ROI_SHAPE: tuple[int, int, int] = (128, 128, 128)
OVERLAP = 0.5
NUM_CLASSES = 3

#: ``infer(patches)``: ``(B, 1, *roi)`` float32 -> ``(B, 3, *roi)`` logits.
PatchInfer = Callable[[np.ndarray], np.ndarray]


def gaussian_kernel(n: int, std: float) -> np.ndarray:
    """The reference's importance map: cube root of the 3-D outer product of a Gaussian window, max 1."""
    from scipy.signal.windows import gaussian  # the same window the reference takes from scipy.signal

    g1 = gaussian(n, std)
    g3 = np.outer(np.outer(g1, g1), g1).reshape(n, n, n)
    g3 = np.cbrt(g3)
    g3 /= g3.max()
    return g3


def strides_for(roi: tuple[int, ...], overlap: float = OVERLAP) -> tuple[int, ...]:
    """Step between patches along each axis: ``int(roi * (1 - overlap))``."""
    if not 0.0 < overlap < 1.0:
        raise PodiumError(f"sliding window overlap: expected a value in (0, 1), got {overlap}")
    return tuple(int(r * (1 - overlap)) for r in roi)


def check_shape(shape: tuple[int, ...], roi: tuple[int, ...], overlap: float = OVERLAP, what: str = "case") -> None:
    """Raise unless every edge is ≥ the patch and a whole number of strides past it (full coverage)."""
    strides = strides_for(roi, overlap)
    for axis, (n, r, s) in enumerate(zip(shape, roi, strides)):
        if n < r or (n - r) % s:
            raise PodiumError(f"{what}: volume shape {tuple(shape)} axis {axis} is {n}; expected >= {r} and "
                              f"{r} + a multiple of {s} (pre-process it like the reference: pad/crop to 64s)")


def window_starts(shape: tuple[int, ...], roi: tuple[int, ...], overlap: float = OVERLAP) -> Iterator[tuple[int, int, int]]:
    """Patch corners in the reference's order (``i`` outermost, ``k`` innermost)."""
    strides = strides_for(roi, overlap)
    size = [(shape[a] - roi[a]) // strides[a] + 1 for a in range(3)]
    for i in range(0, strides[0] * size[0], strides[0]):
        for j in range(0, strides[1] * size[1], strides[1]):
            for k in range(0, strides[2] * size[2], strides[2]):
                yield i, j, k


def sliding_window_inference(image: np.ndarray, infer: PatchInfer, roi: tuple[int, int, int] = ROI_SHAPE,
                             overlap: float = OVERLAP, patch_batch: int = 1, what: str = "case") -> tuple[np.ndarray, int]:
    """``(labels, patches)``: the uint8 label volume ``(D, H, W)`` of ``image`` ``(1, D, H, W)`` and the
    number of patches run. ``patch_batch`` patches go to ``infer`` at a time (results are added in the same
    order as one at a time, so the output does not depend on it)."""
    if image.ndim != 4 or image.shape[0] != 1:
        raise PodiumError(f"{what}: expected a (1, D, H, W) volume, got shape {image.shape}")
    if tuple(roi[1:]) != tuple(roi[:-1]):
        raise PodiumError(f"sliding window: the reference's importance map needs a cubic patch, got {roi}")
    shape = image.shape[1:]
    check_shape(shape, roi, overlap, what)
    dtype = image.dtype
    result = np.zeros((NUM_CLASSES, *shape), dtype=dtype)
    # One weight map serves all classes: the reference keeps three identical copies.
    norm_map = np.zeros(shape, dtype=dtype)
    norm_patch = gaussian_kernel(roi[0], 0.125 * roi[0]).astype(dtype)
    starts = list(window_starts(shape, roi, overlap))
    for b in range(0, len(starts), max(1, patch_batch)):
        group = starts[b:b + max(1, patch_batch)]
        patches = np.stack([image[:, i:i + roi[0], j:j + roi[1], k:k + roi[2]] for i, j, k in group])
        logits = np.asarray(infer(patches))
        if logits.shape != (len(group), NUM_CLASSES, *roi):
            raise PodiumError(f"{what}: the model returned shape {logits.shape} for {len(group)} patches, "
                              f"expected {(len(group), NUM_CLASSES, *roi)}")
        for (i, j, k), out in zip(group, logits):
            result[:, i:i + roi[0], j:j + roi[1], k:k + roi[2]] += out * norm_patch
            norm_map[i:i + roi[0], j:j + roi[1], k:k + roi[2]] += norm_patch
    result /= norm_map[np.newaxis]
    return np.argmax(result, axis=0).astype(np.uint8), len(starts)
