"""Synthetic inputs for performance-only runs without the data set: random pixels, clearly labelled.

A performance run needs input tensors of the right shape and value range, not real photos. Each synthetic
sample is an image of uniform random 8-bit pixels at the model's input size (seeded by its QSL index, so a
sample reloads identically), passed through the benchmark's own normalisation and layout. Results from such
a run say so in every output; accuracy cannot be scored on them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from podium.benchmarks.qsl import SampleLoader
from podium.benchmarks.vision.images import fill_rows
from podium.benchmarks.vision.preprocess import InputFormat, to_input_format

SYNTHETIC_SEED = 20221


def synthetic_label(count: int, fmt: InputFormat) -> str:
    """The line every output of a synthetic-data run carries."""
    return (f"synthetic data: {count} images of random pixels at {fmt.height}x{fmt.width} - performance only, "
            "no accuracy")


def synthetic_loader(fmt: InputFormat, normalise: Callable[[np.ndarray], np.ndarray],
                     seed: int = SYNTHETIC_SEED) -> SampleLoader:
    """A QSL loader: index ``i`` → ``normalise(random uint8 HxWx3 image seeded by (seed, i))`` in ``fmt``."""
    def make_row(index: object) -> np.ndarray:
        rng = np.random.default_rng([seed, int(index)])  # type: ignore[call-overload]
        pixels = rng.integers(0, 256, size=(fmt.height, fmt.width, 3), dtype=np.uint8)
        return to_input_format(normalise(pixels), fmt)

    def load(indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices),) + fmt.sample_shape, dtype=fmt.dtype)
        return fill_rows(out, list(indices), make_row)

    return load
