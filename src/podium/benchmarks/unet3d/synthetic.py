"""Synthetic KiTS19-like cases for performance-only 3D-UNet runs (no data set on the machine).

Each case is a volume already in the pre-processed form (normalised intensities, every edge a multiple of
64 and at least 128) with one ellipsoid "kidney" and a sphere "tumor" inside it, plus noise; its ground
truth marks them 1 and 2. Cases are generated on load from ``seed + index``, so nothing is stored.
"""

from __future__ import annotations

import numpy as np

from podium.benchmarks.unet3d.sliding_window import check_shape

#: Two cases of one 128³ patch each: a short run here takes a few patches (~20 s each on 2 cores).
DEFAULT_CASES = 2
DEFAULT_SHAPE: tuple[int, int, int] = (128, 128, 128)


class SyntheticCases:
    """``count`` synthetic cases of ``shape``, with the interface of ``KitsCases``."""

    def __init__(self, count: int = DEFAULT_CASES, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0,
                 roi: tuple[int, int, int] = (128, 128, 128)) -> None:
        if count <= 0:
            raise ValueError(f"synthetic 3D-UNet data: expected a positive number of cases, got {count}")
        check_shape(tuple(shape), roi, what="synthetic case")
        self.cases = [f"synthetic_{i:05d}" for i in range(count)]
        self.shape = tuple(int(s) for s in shape)
        self.seed = seed

    def __len__(self) -> int:
        return len(self.cases)

    def image_shape(self, index: int) -> tuple[int, int, int]:
        return self.shape  # type: ignore[return-value]

    def _label(self, index: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed + index)
        d, h, w = self.shape
        z, y, x = np.ogrid[:d, :h, :w]
        c = np.array([d, h, w]) * rng.uniform(0.4, 0.6, size=3)
        r = np.array([d, h, w]) * rng.uniform(0.15, 0.25, size=3)
        label = np.zeros(self.shape, dtype=np.uint8)
        label[((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1.0] = 1
        tr = r.min() * 0.4
        label[(z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2] - r[2] * 0.4) ** 2 <= tr ** 2] = 2
        return label

    def load_label(self, index: int) -> np.ndarray:
        return self._label(index)

    def load_image(self, index: int) -> np.ndarray:
        label = self._label(index)
        rng = np.random.default_rng(10_000 + self.seed + index)
        image = rng.normal(-0.5, 0.3, size=self.shape).astype(np.float32)
        image[label == 1] += 1.5
        image[label == 2] += 2.5
        return image[np.newaxis]

    def describe(self) -> str:
        return f"synthetic KiTS19-like cases: {len(self)} of shape {self.shape}"
