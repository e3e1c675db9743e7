"""Sample sequence ids and the accuracy-log sampling of performance runs (spec loadgen.md §4.5).

Every generated sample draws one ``uniform_real(0, 1)`` value from an mt19937 that the official never seeds
(default seed 5489) and that lives for the whole test; a performance series logs a sample's response iff
``(value + offset) mod 1 <= probability``, with ``offset`` the first draw of mt19937(accuracy_log_rng_seed).
"""

from __future__ import annotations

import numpy as np

from podium.loadgen import rng as _rng
from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.settings import Scenario

_TWO32 = float(2**32)
_TWO64 = float(2**64)
_BELOW_ONE = np.nextafter(1.0, 0.0)


class SequenceGen:
    """Global sample sequence ids and the per-sample accuracy-log values of one test."""

    def __init__(self) -> None:
        self.next_sample_seq = 0
        self._acc_rng = _rng.Mt19937(5489)
        self._pending_words = 0

    def take_ids(self, n: int) -> int:
        """Reserve ``n`` sample sequence ids; returns the first."""
        first = self.next_sample_seq
        self.next_sample_seq += n
        return first

    def skip_values(self, n: int) -> None:
        """Consume the values of ``n`` samples without materialising them (2 words each)."""
        self._pending_words += 2 * n

    def values(self, n: int) -> np.ndarray:
        """The accuracy-log values of the next ``n`` samples (generate_canonical<double, 53>, low word first)."""
        eng = self._acc_rng
        while self._pending_words:
            step = min(self._pending_words, 1 << 22)
            eng.take(step)
            self._pending_words -= step
        words = eng.take(2 * n).astype(np.float64)
        u = (words[0::2] + words[1::2] * _TWO32) / _TWO64
        u[u >= 1.0] = _BELOW_ONE
        return u


def accuracy_log_probability(s: EffectiveSettings) -> float:
    """The probability a performance-mode sample is logged, including the sampling-target formula."""
    if s.accuracy_log_sampling_target <= 0:
        return s.accuracy_log_probability
    expected = int(s.target_qps * s.min_duration_ms / 1000)  # uint64 truncation of a double
    minimum = s.min_query_count * s.samples_per_query
    if s.scenario is not Scenario.Offline:
        expected *= s.samples_per_query
    else:
        minimum = s.min_sample_count
    expected = max(expected, minimum)
    return s.accuracy_log_sampling_target / expected if expected else 1.0


def accuracy_log_offset(seed: int) -> float:
    """First ``uniform_real(0, 1)`` draw of mt19937(accuracy_log_rng_seed)."""
    return _rng.uniform_real(_rng.Mt19937(seed), 0.0, 1.0)


def log_mask(values: np.ndarray, offset: float, probability: float) -> np.ndarray:
    v = values + offset
    v = np.where(v < 1.0, v, v - 1.0)
    return v <= probability
