"""``AudioQSL``: a Query Sample Library holding utterances of different lengths as raw 16 kHz samples.

The reference keeps waveforms in memory and computes features inside the timed SUT, so podium's QSL stores
samples, not features. Utterances vary from ~1 to 15 s; one padded array would hold the whole set at 15 s
each (2.4 GB for dev-clean), so samples are kept per utterance and a batch is padded only to its own
longest member by ``get_batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from podium.errors import PodiumError

#: ``reader(index) -> float32 samples`` of one utterance.
AudioReader = Callable[[int], np.ndarray]


class AudioQSL:
    """A QSL (``podium.loadgen.types.QuerySampleLibrary``) of waveforms; ``get_batch`` gives padded batches."""

    def __init__(self, name: str, total_sample_count: int, performance_sample_count: int,
                 reader: AudioReader) -> None:
        if total_sample_count <= 0:
            raise PodiumError(f"QSL {name}: total_sample_count must be positive, got {total_sample_count}")
        self.name = name
        self.total_sample_count = int(total_sample_count)
        self.performance_sample_count = int(min(performance_sample_count, total_sample_count))
        self._reader = reader
        self._cache: dict[int, np.ndarray] = {}

    def _check(self, indices: Sequence[int] | np.ndarray, what: str) -> list[int]:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = idx[(idx < 0) | (idx >= self.total_sample_count)]
        if bad.size:
            raise PodiumError(f"QSL {self.name}: {what} got sample index {bad[0]}, "
                              f"expected 0..{self.total_sample_count - 1}")
        return idx.tolist()

    def load_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Read the utterances not yet in memory."""
        for i in self._check(indices, "load_samples"):
            if i not in self._cache:
                self._cache[i] = self._reader(i)

    def unload_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        """Drop the utterances from memory."""
        for i in self._check(indices, "unload_samples"):
            self._cache.pop(i, None)

    @property
    def loaded_count(self) -> int:
        """How many utterances are in memory."""
        return len(self._cache)

    def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """``{"waveform": (B, longest) float32 zero-padded, "length": (B,) int64}`` for these QSL indices."""
        try:
            waves = [self._cache[i] for i in np.asarray(indices).tolist()]
        except KeyError as exc:
            raise PodiumError(f"QSL {self.name}: sample {exc.args[0]} was not loaded (load_samples first)") from None
        lengths = np.array([w.size for w in waves], dtype=np.int64)
        batch = np.zeros((len(waves), int(lengths.max()) if waves else 0), dtype=np.float32)
        for row, w in enumerate(waves):
            batch[row, :w.size] = w
        return {"waveform": batch, "length": lengths}
