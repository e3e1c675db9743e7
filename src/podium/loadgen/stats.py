"""Latency statistics computed the way the official LoadGen v2.1 computes them (spec loadgen.md §2.5).

Percentiles are not interpolated: the official sorts and indexes ``v[size * p]``, the product taken in
double and truncated to an index. Means use integer division. Matching both keeps every reported number
identical to an official run on the same latencies.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["PERCENTILES", "mean_int", "percentile", "percentile_index", "percentile_label"]

#: The fixed percentile table of the summary and detail logs.
PERCENTILES: tuple[float, ...] = (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)


def percentile_index(count: int, p: float) -> int:
    """Index of the ``p`` percentile in ``count`` ascending values: ``int(count * p)`` in double.

    For ``0 <= p < 1`` (the official asserts that) the index is always below ``count``; the clamp only
    guards out-of-contract input, where the official would read past the end.
    """
    if count <= 0:
        raise ValueError("percentile of an empty set")
    return min(int(float(count) * float(p)), count - 1)


def percentile(sorted_values: np.ndarray | Sequence[int], p: float) -> int:
    """The ``p`` percentile of ascending ``sorted_values``, as an int (no interpolation)."""
    return int(sorted_values[percentile_index(len(sorted_values), p)])


def mean_int(values: np.ndarray | Sequence[int]) -> int:
    """Mean latency as the official reports it: the integer sum divided by the count, truncated."""
    arr = np.asarray(values, dtype=np.int64)
    if arr.size == 0:
        raise ValueError("mean of an empty set")
    # Summing int64 is exact in any order (no overflow below ~9.2e18 ns in total).
    return int(arr.sum()) // int(arr.size)


def percentile_label(p: float) -> str:
    """``DoubleToString(p * 100)`` (fixed, 2 decimals): "50.00" ... "99.90", the summary/detail labels."""
    return f"{p * 100:.2f}"
