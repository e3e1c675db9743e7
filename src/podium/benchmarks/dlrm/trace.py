"""The sample-aggregation trace: which consecutive test rows (user-item pairs) form each LoadGen sample.

In the DLRM reference one LoadGen sample is one user with a varying number of items. The split into users
is drawn once: numpy's legacy global RNG seeded with 123, one ``randint(0, 20)`` per sample picking a size
from ``dist_quantile.txt`` (100..700 pairs), consecutive rows, the last sample cut at the end of the split.
The reference writes the result to ``dlrm_trace_of_aggregated_samples.txt``, one ``start, end, count`` line
per sample; that file (also published on Zenodo) is what the official accuracy script reads.

A trace is held as ``offsets``: int64 of length samples + 1, sample ``i`` = rows ``offsets[i]:offsets[i+1]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podium.benchmarks.dlrm.reference import QUANTILE, TRACE_SEED
from podium.errors import PodiumError


class TraceError(PodiumError):
    """An aggregation trace file is malformed or does not fit the data."""


def generate_offsets(n_rows: int, quantile: tuple[int, ...] | np.ndarray = QUANTILE,
                     seed: int = TRACE_SEED) -> np.ndarray:
    """The reference's trace for ``n_rows`` test rows, drawn exactly as ``criteo.py`` draws it.

    ``RandomState(seed).randint(0, len(q), size=k)`` yields the same numbers as ``k`` scalar calls after
    ``np.random.seed(seed)`` (the reference's form), so the draws are made in one vectorised call.
    """
    if n_rows <= 0:
        raise TraceError(f"aggregation trace: expected a positive number of rows, got {n_rows}")
    q = np.asarray(quantile, dtype=np.int64)
    if q.ndim != 1 or q.size == 0 or q.min() <= 0:
        raise TraceError("aggregation trace: the quantile must be a non-empty list of positive sizes")
    draws = -(-n_rows // int(q.min()))  # enough draws even if every sample took the smallest size
    sizes = q[np.random.RandomState(seed).randint(low=0, high=q.size, size=draws)]
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n_rows, side="left")) + 1  # first sample reaching the end
    offsets = np.empty(count + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.minimum(ends[:count], n_rows)
    return offsets


def fixed_offsets(n_rows: int, size: int) -> np.ndarray:
    """Samples of ``size`` rows each, the last one shorter (``--samples-to-aggregate-fix``)."""
    if size <= 0 or n_rows <= 0:
        raise TraceError(f"aggregation trace: expected positive rows and size, got {n_rows} and {size}")
    return np.minimum(np.arange(0, n_rows + size, size, dtype=np.int64)[: -(-n_rows // size) + 1], n_rows)


def read_trace(path: str | Path) -> np.ndarray:
    """Offsets from a ``start, end, count`` trace file; samples must be contiguous from row 0."""
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"{p}: cannot read the aggregation trace ({exc})") from None
    lines = text.splitlines()
    offsets = np.empty(len(lines) + 1, dtype=np.int64)
    offsets[0] = 0
    for n, line in enumerate(lines):
        parts = line.split(", ")
        try:
            start, end, count = (int(v) for v in parts)
        except ValueError:
            raise TraceError(f"{p}: line {n + 1} is {line!r}, expected 'start, end, count'") from None
        if start != offsets[n] or end - start != count or count <= 0:
            raise TraceError(f"{p}: line {n + 1} ({line}) does not continue the previous sample at row "
                             f"{offsets[n]} with a positive count equal to end - start")
        offsets[n + 1] = end
    if len(lines) == 0:
        raise TraceError(f"{p}: empty aggregation trace")
    return offsets


def format_trace(offsets: np.ndarray) -> str:
    """The reference's trace text: one ``start, end, count`` line per sample."""
    o = np.asarray(offsets, dtype=np.int64)
    return "".join(f"{s}, {e}, {e - s}\n" for s, e in zip(o[:-1].tolist(), o[1:].tolist()))


def write_trace(offsets: np.ndarray, path: str | Path) -> Path:
    """Write the trace file the official accuracy script's ``--aggregation-trace-file`` reads."""
    p = Path(path)
    p.write_text(format_trace(offsets), encoding="ascii")
    return p
