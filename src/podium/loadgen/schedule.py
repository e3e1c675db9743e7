"""Loadable sample sets and the pre-generated query schedule of one series (spec loadgen.md §2.2, §4.3).

A schedule is three numpy arrays (QSL index per sample, scheduled offset per query, and the query size),
built once per series with the official RNG streams, so that for the same seeds podium issues the same
samples at the same offsets as the official v2.1 LoadGen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podium.loadgen import rng as _rng
from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.settings import Scenario, TestMode


@dataclass
class LoadableSet:
    """Samples loaded together: ``indices`` (with MultiStream padding) and the unpadded length."""

    indices: list[int]
    distribution_end: int


@dataclass
class Schedule:
    """The queries of one series, in issue order.

    ``samples`` holds every query's QSL indices back to back; query ``q`` covers
    ``samples[q * spq : q * spq + spq]`` except for Offline, which has one query of ``len(samples)``.
    """

    samples: np.ndarray  # int32 QSL indices (4 bytes a sample: the schedule is most of a run's memory)
    scheduled_ns: np.ndarray  # int64 offset from the series start, one per query
    samples_per_query: int  # constant size of every query (Offline: all samples in one)
    generated_duration_ns: int  # ``generated_query_duration``: one interval past the last query

    @property
    def query_count(self) -> int:
        return len(self.scheduled_ns)


def generate_loadable_sets(total_count: int, settings: EffectiveSettings,
                           mode: TestMode = TestMode.PerformanceOnly) -> list[LoadableSet]:
    """Shuffle the candidate indices with the QSL RNG and cut them into sets of performance_sample_count.

    v2.1 shuffles every QSL index. LoadGen 6.0.x (``settings.first_n_sets``) draws from the first
    ``min(N, total_count)`` indices, N being the performance sample count for a performance series (so a
    performance set always holds the first N samples of the QSL) or the accuracy sample count for accuracy mode.
    """
    n = total_count
    if settings.first_n_sets:
        wanted = settings.accuracy_sample_count if mode is TestMode.AccuracyOnly else settings.performance_sample_count
        n = min(int(wanted), total_count)
    eng = _rng.Mt19937(settings.qsl_rng_seed)
    order = _rng.shuffled_range(eng, n).tolist()
    size = settings.performance_sample_count
    pad = settings.samples_per_query - 1 if settings.scenario is Scenario.MultiStream else 0
    sets: list[LoadableSet] = []
    for start in range(0, n, size):
        chunk = order[start:start + size]
        padded = list(chunk)
        for i in range(pad):  # the official appends set[i]: a set shorter than the padding rereads its start
            padded.append(padded[i])
        sets.append(LoadableSet(indices=padded, distribution_end=len(chunk)))
    return sets


def _constant_rate_query_count(gen_duration_ns: int, min_queries: int, interval_ns: int) -> int:
    """Queries the official loop generates with a constant interval.

    The loop runs while ``prev_offset < gen_duration or count < min_queries``: with gen_duration > 0 that
    is the smallest k with (k-1)*interval >= gen_duration, and at least min_queries.
    """
    if gen_duration_ns <= 0:
        return max(min_queries, 0)
    if interval_ns <= 0:
        raise ValueError("schedule interval must be positive")
    return max(-(-gen_duration_ns // interval_ns) + 1, min_queries)


def generate_schedule(settings: EffectiveSettings, loaded: LoadableSet, mode: TestMode,
                      rules_equal_issue_scope: str = "singlestream_offline") -> Schedule:
    """Pre-generate all queries of a series, consuming the sample and schedule RNGs as the official does.

    ``mode`` is the series' mode: AccuracyOnly or PerformanceOnly (FindPeakPerformance probes run as
    PerformanceOnly). ``rules_equal_issue_scope`` is the round's: "singlestream_offline" (v2.1: equal issue
    in SingleStream, Offline padding in every mode) or "all" (LoadGen 6.0.x: equal issue in every scenario,
    in performance mode the query count padded to whole passes over the loaded set and grown by a pass while
    the minimum duration is not covered).

    The sample choice follows the official precedence in every mode: ``performance_issue_unique`` (the
    unique list), then ``performance_issue_same``, then equal issue, then the mode's own distribution (a
    shuffle of the loaded set in accuracy mode, uniform draws in performance mode).
    """
    scenario = settings.scenario
    accuracy = mode is TestMode.AccuracyOnly
    current = rules_equal_issue_scope == "all"
    L = loaded.indices
    n = loaded.distribution_end
    nL = len(L)
    spq = settings.samples_per_query
    gen_duration = settings.target_duration_ns * (1 if scenario is Scenario.Server else 2)
    min_queries = settings.min_query_count
    if accuracy and scenario is Scenario.Offline:
        spq = n
    if accuracy or settings.performance_issue_unique:
        gen_duration = 0
        min_queries = nL // spq

    sample_rng = _rng.Mt19937(settings.sample_index_rng_seed)
    schedule_rng = _rng.Mt19937(settings.schedule_rng_seed)
    stride = spq if scenario is Scenario.MultiStream else 1
    n_starts = len(range(0, n, stride))

    # Construction order matters: each distribution below consumes sample_rng when it is built, used or not.
    accuracy_list = _rng.shuffled_range(sample_rng, n_starts) * stride if accuracy else None
    unique_list = _rng.shuffled_range(sample_rng, n_starts) * stride
    equal_issue = _equal_issue_list(sample_rng, min_queries, nL)

    concat = settings.sample_concatenate_permutation
    pad_queries = 0  # LoadGen 6.0.x: the query count is a whole number of passes over the loaded set
    if current:
        if concat and not accuracy:
            if scenario is Scenario.Offline:
                if spq % nL:
                    spq += nL - spq % nL
            else:
                if min_queries % nL:
                    min_queries += nL - min_queries % nL
                pad_queries = nL
    elif concat and scenario is Scenario.Offline and spq % nL != 0:
        spq += nL - spq % nL

    L_np = np.asarray(L, dtype=np.int32)
    same = settings.performance_issue_same_index

    # --- how many queries, and when ---
    if scenario is Scenario.Server:
        scheduled, duration = _poisson_schedule(schedule_rng, settings.target_qps, gen_duration, min_queries,
                                                pad_queries)
    else:
        interval = _rng.constant_interval_ns(settings.target_qps)
        count = _constant_rate_query_count(gen_duration, min_queries, interval)
        if pad_queries and count > min_queries:
            count = min_queries + -(-(count - min_queries) // pad_queries) * pad_queries
        scheduled = np.arange(count, dtype=np.int64) * interval
        duration = count * interval

    count = len(scheduled)

    # --- which samples ---
    if scenario is Scenario.Offline:
        if settings.performance_issue_same:
            one = np.full(spq, L_np[same] if same < nL else 0, dtype=np.int32)
        else:
            reps, rem = divmod(spq, nL)
            blocks = []
            for _ in range(reps):
                block = L_np.copy()
                if concat:  # the official shuffles each copy of the loaded set, in accuracy mode too
                    perm = _rng.shuffled_range(sample_rng, nL)
                    block = block[perm]
                blocks.append(block)
            blocks.append(L_np[:rem])
            one = np.concatenate(blocks)
        # Offline always generates exactly one query (min_queries is 1, or nL // spq == 1 when unique), so
        # the official's accuracy "remainder" query (len(L) % spq != 0) can never occur either.
        samples = np.tile(one, count) if count != 1 else one
        return Schedule(samples=samples, scheduled_ns=scheduled, samples_per_query=spq,
                        generated_duration_ns=int(duration))

    if scenario is Scenario.MultiStream:
        if settings.performance_issue_unique:
            starts = _cycle_take(unique_list, count, strict=True)
        elif settings.performance_issue_same:
            starts = np.full(count, same, dtype=np.int64)
        elif accuracy_list is not None:
            starts = _cycle_take(accuracy_list, count, strict=True)
        else:
            starts = _rng.uniform_int_array(sample_rng, 0, n - 1, count)
        pos = starts[:, None] + np.arange(spq, dtype=np.int64)[None, :]
        samples = L_np[pos.reshape(-1)]
    else:
        use_equal_issue = concat and (scenario is Scenario.SingleStream or current)
        if settings.performance_issue_unique:
            pos = _cycle_take(unique_list, count, strict=True)
        elif settings.performance_issue_same:
            pos = np.full(count, same, dtype=np.int64)
        elif use_equal_issue:
            pos = _cycle_take(equal_issue, count, strict=False)
        elif accuracy_list is not None:
            pos = _cycle_take(accuracy_list, count, strict=True)
        else:
            samples = _uniform_samples(sample_rng, L_np, n, count)
            return Schedule(samples=samples, scheduled_ns=scheduled, samples_per_query=spq,
                            generated_duration_ns=int(duration))
        samples = L_np[pos]
    return Schedule(samples=samples, scheduled_ns=scheduled, samples_per_query=spq,
                    generated_duration_ns=int(duration))


def _equal_issue_list(eng: "_rng.Mt19937", min_queries: int, set_size: int) -> np.ndarray:
    """The official ``SampleDistributionEqualIssue``: one shuffle per pass, each of the previous pass's order.

    The passes are cumulative (each shuffles the vector the last one left), so pass 2 is not a fresh
    permutation of 0..n-1 but a shuffle of pass 1.
    """
    if set_size <= 0 or min_queries <= 0:
        return np.zeros(0, np.int64)
    order = list(range(set_size))
    parts = []
    for _ in range(0, min_queries, set_size):
        _rng.shuffle(eng, order)
        parts.append(np.array(order, dtype=np.int64))
    return np.concatenate(parts)


def _uniform_samples(eng: "_rng.Mt19937", L_np: np.ndarray, n: int, count: int) -> np.ndarray:
    """``count`` loaded-set entries at uniform positions in [0, n-1], drawn in chunks into an int32 array."""
    out = np.empty(count, dtype=np.int32)
    step = 1 << 18
    for a in range(0, count, step):
        b = min(a + step, count)
        out[a:b] = L_np[_rng.uniform_int_array(eng, 0, n - 1, b - a)]
    return out


def _cycle_take(values: np.ndarray, count: int, strict: bool) -> np.ndarray:
    """The first ``count`` draws of a list distribution; the equal-issue list cycles, the unique one may not."""
    if count <= len(values):
        return values[:count]
    if strict:
        raise IndexError("unique sample list exhausted")  # the official throws from vector::at
    reps = -(-count // len(values))
    return np.tile(values, reps)[:count]


def _poisson_schedule(eng: "_rng.Mt19937", qps: float, gen_duration: int,
                      min_queries: int, pad_queries: int = 0) -> tuple[np.ndarray, int]:
    """Exponential inter-arrival offsets, as many queries as the official loop generates.

    Query k is scheduled at offsets[k] (offsets[0] = 0, offsets[k] = sum of the first k intervals); the
    count is the smallest K >= 1 with offsets[K-1] >= gen_duration and K >= min_queries, and the logged
    duration is offsets[K]. With ``pad_queries`` (LoadGen 6.0.x equal issue) K is further rounded up to
    ``min_queries`` plus whole multiples of it, as the official loop grows its minimum by one pass each time it
    reaches it before the duration. Draws in bounded chunks into one preallocated array (sized for the
    expected count plus six standard deviations), so generation never holds more than one chunk of
    temporaries; drawing past the end only consumes words of an engine that is discarded after this series.
    """
    expected = qps * max(gen_duration, 0) * 1e-9
    cap = max(int(expected + 6 * expected ** 0.5) + 1024, min_queries + 1024)
    offsets = np.empty(cap + 1, dtype=np.int64)
    offsets[0] = 0
    filled = 1
    last = 0
    chunk_max = 1 << 18
    while True:
        n = min(chunk_max, max(len(offsets) - filled, 1024))
        if filled + n > len(offsets):
            grown = np.empty(filled + n + (len(offsets) >> 2), dtype=np.int64)
            grown[:filled] = offsets[:filled]
            offsets = grown
        seg = offsets[filled:filled + n]
        np.cumsum(_rng.exponential_intervals_ns(eng, qps, n), out=seg)
        seg += last
        filled += n
        last = int(seg[-1])
        if last >= gen_duration and filled > min_queries + 1:
            first = int(np.argmax(offsets[:filled] >= gen_duration))
            K = max(first + 1, min_queries, 1)
            if pad_queries and K > min_queries:
                K = min_queries + -(-(K - min_queries) // pad_queries) * pad_queries
            if K < filled:
                result = offsets[:K]
                return (result.copy() if K < len(offsets) // 2 else result), int(offsets[K])
