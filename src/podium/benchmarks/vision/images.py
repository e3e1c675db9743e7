"""Decoding image files as the reference does, and pre-processing many of them on a thread pool.

The reference reads every image with ``cv2.imread(path)`` (default flags: 8-bit, 3-channel BGR, grayscale
files expanded to three channels), so podium does too: another decoder (Pillow, libjpeg-turbo through
another path) can round differently and move the accuracy. OpenCV releases the GIL while decoding and
resizing, so a thread pool scales over cores without extra processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from podium.benchmarks.vision import deps
from podium.errors import PodiumError


def read_bgr(path: str | Path) -> np.ndarray:
    """The image as an (H, W, 3) uint8 BGR array, exactly what ``cv2.imread(path)`` returns."""
    cv2 = deps.cv2()
    img = cv2.imread(str(path))
    if img is None:  # imread reports neither a missing nor a corrupt file: it returns None for both
        why = "file not found" if not Path(path).is_file() else "not a readable image"
        raise PodiumError(f"{path}: {why}")
    return img


def default_workers() -> int:
    """Threads for pre-processing: every core, at most 16 (decoding is the bottleneck, not the pool)."""
    return max(1, min(16, os.cpu_count() or 1))


def fill_rows(out: np.ndarray, items: Sequence[object], make_row: Callable[[object], np.ndarray],
              workers: int | None = None) -> np.ndarray:
    """``out[i] = make_row(items[i])`` for every item, on a thread pool; returns ``out``.

    Rows are written in place into one preallocated array, so a batch of N images never exists twice in
    memory (a list of rows followed by ``np.stack`` would double the peak).
    """
    def one(i: int) -> None:
        out[i] = make_row(items[i])

    n = len(items)
    workers = min(workers or default_workers(), n) if n else 1
    if workers <= 1:
        for i in range(n):
            one(i)
        return out
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="podium-preprocess") as pool:
        for _ in pool.map(one, range(n)):  # iterating re-raises the first error a worker hit
            pass
    return out
