"""``ArrayQSL``: a Query Sample Library whose loaded samples sit in one contiguous numpy array.

``load_samples`` pre-processes the requested samples once and caches them; the harness then reads batches
with ``get_batch(indices)``, a single fancy-indexing copy, so no per-sample Python work happens during a run.
Multi-input models (e.g. BERT) use a dict of arrays with the same row layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from podium.errors import PodiumError

#: Slot of a sample that is not in the cache: out of bounds for any cache array.
_UNLOADED = np.iinfo(np.int64).max

Samples = np.ndarray | dict[str, np.ndarray]
#: ``loader(indices) -> samples``: pre-processed samples for those QSL indices, rows in the same order.
SampleLoader = Callable[[np.ndarray], Samples]


class ArrayQSL:
    """A QSL (``podium.loadgen.types.QuerySampleLibrary``) caching pre-processed samples in RAM.

    ``slot[qsl index]`` gives the row of that sample in the cache, so loads and unloads of arbitrary index
    sets keep ``get_batch`` to two array look-ups. A sample not loaded has a slot far past the end of the
    cache: reading it makes numpy raise IndexError, which saves a per-batch check on the hot path.
    """

    def __init__(self, name: str, total_sample_count: int, performance_sample_count: int,
                 loader: SampleLoader) -> None:
        if total_sample_count <= 0:
            raise PodiumError(f"QSL {name}: total_sample_count must be positive, got {total_sample_count}")
        self.name = name
        self.total_sample_count = int(total_sample_count)
        self.performance_sample_count = int(min(performance_sample_count, total_sample_count))
        self._loader = loader
        self._slot = np.full(self.total_sample_count, _UNLOADED, dtype=np.int64)
        self._data: Samples | None = None
        self._loaded = np.empty(0, dtype=np.int64)  # QSL index held by each cache row

    # -- QuerySampleLibrary protocol ---------------------------------------------------------------
    def load_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Pre-process and cache the samples (already-cached ones are kept, not redone)."""
        idx = self._check(indices, "load_samples")
        new = np.unique(idx[self._slot[idx] == _UNLOADED])
        if new.size == 0:
            return
        fresh = self._loader(new)
        _check_rows(fresh, new.size, self.name)
        if self._data is None:
            self._data, self._loaded = fresh, new
        else:  # keep what is loaded and append: one re-copy per load call, never per sample
            self._data = _concat(self._data, fresh)
            self._loaded = np.concatenate([self._loaded, new])
        self._slot[self._loaded] = np.arange(self._loaded.size)

    def unload_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Drop the samples from the cache; the memory is freed once nothing remains loaded."""
        idx = self._check(indices, "unload_samples")
        self._slot[idx] = _UNLOADED
        keep = self._slot[self._loaded] != _UNLOADED
        if not keep.any():
            self._data, self._loaded = None, np.empty(0, dtype=np.int64)
            return
        if not keep.all():
            rows = np.flatnonzero(keep)
            self._data = _take(self._data, rows)
            self._loaded = self._loaded[rows]
            self._slot[self._loaded] = np.arange(self._loaded.size)

    # -- harness side ------------------------------------------------------------------------------
    def get_batch(self, indices: np.ndarray) -> Samples:
        """The cached pre-processed samples for these QSL indices, stacked in order (a new array)."""
        try:
            return _take(self._data, self._slot[indices])
        except (IndexError, PodiumError):
            idx = np.asarray(indices, dtype=np.int64)
            bad = idx[(idx < 0) | (idx >= self.total_sample_count)]
            if bad.size:
                raise PodiumError(f"QSL {self.name}: sample index {bad[0]} out of range, "
                                  f"expected 0..{self.total_sample_count - 1}") from None
            missing = idx[self._slot[idx] == _UNLOADED][:5].tolist()
            raise PodiumError(f"QSL {self.name}: samples {missing} were not loaded (load_samples first)") from None

    @property
    def loaded_count(self) -> int:
        """How many samples are cached now."""
        return int(self._loaded.size)

    def _check(self, indices: Sequence[int] | np.ndarray, what: str) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total_sample_count):
            bad = idx[(idx < 0) | (idx >= self.total_sample_count)][0]
            raise PodiumError(f"QSL {self.name}: {what} got sample index {bad}, "
                              f"expected 0..{self.total_sample_count - 1}")
        return idx


def _take(data: Samples | None, rows: np.ndarray) -> Samples:
    if data is None:
        raise PodiumError("QSL: no samples are loaded (load_samples first)")
    if isinstance(data, dict):
        return {k: v[rows] for k, v in data.items()}
    return data[rows]


def _concat(a: Samples, b: Samples) -> Samples:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: np.concatenate([a[k], b[k]]) for k in a}
    return np.concatenate([a, b])  # type: ignore[list-item]


def _check_rows(data: Samples, n: int, name: str) -> None:
    arrays = data.values() if isinstance(data, dict) else [data]
    for arr in arrays:
        if len(arr) != n:
            raise PodiumError(f"QSL {name}: loader returned {len(arr)} rows for {n} samples")
