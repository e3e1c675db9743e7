"""``DlrmQSL``: a QSL whose sample is a user, i.e. a range of consecutive Criteo rows (user-item pairs).

QSL index ``i`` is the ``i``-th sample of the aggregation trace, rows ``offsets[i]:offsets[i+1]`` of the test
split. ``load_samples`` pre-processes the rows of the requested users once (dense ``log(x+1)`` in float32,
categorical ids reduced modulo ``max_ind_range``) into one compact cache; ``get_batch`` gathers the rows of
a batch of users with a single fancy-index per array and says how many rows each user has, so the model
runs once over all items of the batch and the responses can be cut back into one per user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podium.benchmarks.dlrm.criteo import CriteoRows, dense_features
from podium.benchmarks.dlrm.reference import MAX_IND_RANGE, NUM_SPARSE
from podium.errors import PodiumError

_UNLOADED = np.iinfo(np.int64).max


@dataclass
class DlrmBatch:
    """The items of a batch of users, concatenated in user order.

    ``dense`` float32 ``(M, 13)``, ``sparse`` int64 ``(26, M)`` (one row id per table and item, the layout of
    the reference's ONNX inputs), ``labels`` float32 ``(M,)``, ``lengths`` int64 items per user.
    """

    dense: np.ndarray
    sparse: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)


class DlrmQSL:
    """The QSL over users of the aggregation trace (``podium.loadgen.types.QuerySampleLibrary``)."""

    def __init__(self, name: str, rows: CriteoRows, offsets: np.ndarray, performance_sample_count: int,
                 max_ind_range: int = MAX_IND_RANGE) -> None:
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.ndim != 1 or offsets.size < 2 or offsets[0] != 0 or np.any(np.diff(offsets) <= 0):
            raise PodiumError(f"QSL {name}: the aggregation trace must start at row 0 and give every sample "
                              "at least one row")
        if offsets[-1] > len(rows):
            raise PodiumError(f"QSL {name}: the aggregation trace covers {offsets[-1]:,} rows but "
                              f"{rows.describe} has {len(rows):,}")
        self.name = name
        self.rows = rows
        self.offsets = offsets
        self.counts = np.diff(offsets)
        self.total_sample_count = int(self.counts.size)
        self.performance_sample_count = int(min(performance_sample_count, self.total_sample_count))
        self.max_ind_range = int(max_ind_range)
        self._slot_start = np.full(self.total_sample_count, _UNLOADED, dtype=np.int64)  # cache row of sample
        self._loaded = np.empty(0, dtype=np.int64)
        self._dense = np.empty((0, rows.x_int.shape[1]), dtype=np.float32)
        self._sparse = np.empty((NUM_SPARSE, 0), dtype=np.int32)
        self._labels = np.empty(0, dtype=np.float32)

    @property
    def total_rows(self) -> int:
        """User-item pairs over all samples."""
        return int(self.offsets[-1])

    # -- QuerySampleLibrary protocol ---------------------------------------------------------------
    def load_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Pre-process and cache the rows of these users (users already cached are kept)."""
        idx = self._check(indices, "load_samples")
        new = np.unique(idx[self._slot_start[idx] == _UNLOADED])
        if new.size == 0:
            return
        rows = _ranges(self.offsets[new], self.counts[new])
        dense, sparse, labels = self._preprocess(rows)
        base = self._labels.size
        starts = base + np.concatenate([[0], np.cumsum(self.counts[new])[:-1]])
        if base == 0:  # the usual single load of a series: no second copy of the cache
            self._dense, self._sparse, self._labels = dense, sparse, labels
        else:
            self._dense = np.concatenate([self._dense, dense])
            self._sparse = np.concatenate([self._sparse, sparse], axis=1)
            self._labels = np.concatenate([self._labels, labels])
        self._loaded = np.concatenate([self._loaded, new])
        self._slot_start[new] = starts

    def unload_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Drop these users from the cache (the remaining ones are compacted)."""
        idx = self._check(indices, "unload_samples")
        self._slot_start[idx] = _UNLOADED
        keep = self._loaded[self._slot_start[self._loaded] != _UNLOADED]
        if keep.size == self._loaded.size:
            return
        if keep.size == 0:
            self._loaded = np.empty(0, dtype=np.int64)
            self._dense = self._dense[:0].copy()
            self._sparse = self._sparse[:, :0].copy()
            self._labels = self._labels[:0].copy()
            return
        rows = _ranges(self._slot_start[keep], self.counts[keep])
        self._dense, self._sparse, self._labels = self._dense[rows], self._sparse[:, rows], self._labels[rows]
        self._loaded = keep
        self._slot_start[keep] = np.concatenate([[0], np.cumsum(self.counts[keep])[:-1]])

    def _preprocess(self, rows: np.ndarray, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model-ready arrays for these data rows, filled a chunk at a time: 204,800 users are ~55 M rows,
        and whole-array temporaries (int64 ids, float copies) would double the peak memory."""
        n = rows.size
        dense = np.empty((n, self.rows.x_int.shape[1]), dtype=np.float32)
        # int32 halves the cache; ids < max_ind_range = 4e7 fit.
        sparse = np.empty((NUM_SPARSE, n), dtype=np.int32)
        labels = np.empty(n, dtype=np.float32)
        for a in range(0, n, chunk):
            r = rows[a:a + chunk]
            dense[a:a + r.size] = dense_features(self.rows.x_int[r])
            sparse[:, a:a + r.size] = (np.asarray(self.rows.x_cat[r], dtype=np.int64) % self.max_ind_range).T
            labels[a:a + r.size] = self.rows.y[r]
        return dense, sparse, labels

    @property
    def loaded_count(self) -> int:
        """Users cached now."""
        return int(self._loaded.size)

    # -- harness side ------------------------------------------------------------------------------
    def get_batch(self, indices: np.ndarray) -> DlrmBatch:
        """The cached items of these users, concatenated in the given order."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total_sample_count):
            bad = idx[(idx < 0) | (idx >= self.total_sample_count)][0]
            raise PodiumError(f"QSL {self.name}: sample index {bad} out of range, expected "
                              f"0..{self.total_sample_count - 1}")
        starts = self._slot_start[idx]
        if np.any(starts == _UNLOADED):
            missing = idx[starts == _UNLOADED][:5].tolist()
            raise PodiumError(f"QSL {self.name}: samples {missing} were not loaded (load_samples first)")
        lengths = self.counts[idx]
        rows = _ranges(starts, lengths)
        return DlrmBatch(dense=self._dense[rows], sparse=self._sparse[:, rows].astype(np.int64),
                         labels=self._labels[rows], lengths=lengths)

    def labels_of(self, index: int) -> np.ndarray:
        """Ground-truth click labels of one user's items, read from the data (not the cache)."""
        s, e = int(self.offsets[index]), int(self.offsets[index + 1])
        return np.asarray(self.rows.y[s:e], dtype=np.float32)

    def _check(self, indices: Sequence[int] | np.ndarray, what: str) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total_sample_count):
            bad = idx[(idx < 0) | (idx >= self.total_sample_count)][0]
            raise PodiumError(f"QSL {self.name}: {what} got sample index {bad}, expected "
                              f"0..{self.total_sample_count - 1}")
        return idx


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each (start, length), without a Python loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    # Each row index is its run's start plus its position inside the run.
    run_first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.repeat(np.asarray(starts, dtype=np.int64) - run_first, lengths) + np.arange(total, dtype=np.int64)
