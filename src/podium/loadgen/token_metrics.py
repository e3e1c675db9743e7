"""Token latencies of a performance series (LoadGen 6.0.x ``TokenPerformanceResults``): TTFT, TPOT, tokens.

TTFT (time to first token) runs from the sample's latency origin (scheduled time in Server, its query's issue
elsewhere) to its ``first_token_complete``; TPOT (time per output token) is ``(latency - TTFT) / (n_tokens - 1)``
in integer nanoseconds. The arithmetic is the official's, kept exact on purpose (so a podium log matches the
official one figure for figure), including its edges: an ``n_tokens`` of 1, 0 or below counts as 0 tokens and
divides by -1; a sample with no first token has TTFT ``INT64_MIN``; means divide the int64 sum as an unsigned
64-bit number by the sample count (a negative sum therefore reads huge), as the C++ ``int64 / size_t`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from podium.loadgen import early_stopping as es
from podium.loadgen import stats

PERCENTILES = (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)
INVALID_LATENCY = np.iinfo(np.int64).min


@dataclass
class TokenResult:
    """The token figures of one performance series, named as the official ``PerformanceSummary`` holds them."""

    token_count: int = 0
    #: True when any first token was recorded (the official skips the TTFT/TPOT figures otherwise)
    has_first_tokens: bool = False
    first_token_latency_min: int = 0
    first_token_latency_max: int = 0
    first_token_latency_mean: int = 0
    first_token_percentiles: dict[float, int] = field(default_factory=dict)
    target_first_token_latency: int = 0
    time_per_output_token_min: int = 0
    time_per_output_token_max: int = 0
    time_per_output_token_mean: int = 0
    tpot_percentiles: dict[float, int] = field(default_factory=dict)
    target_tpot: int = 0
    #: the sorted arrays (for early stopping)
    ttft_sorted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    tpot_sorted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)


def _unsigned_mean(values: np.ndarray, count: int) -> int:
    """``int64 sum / size_t count`` as C++ computes it: the wrapped sum read as unsigned, then back to int64."""
    if count <= 0:
        return 0
    total = int(values.sum(dtype=np.int64)) % (1 << 64)  # numpy wraps like the C++ int64 accumulator
    mean = total // count
    return mean - (1 << 64) if mean >= (1 << 63) else mean


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C++ integer division (truncation toward zero) of int64 arrays; ``b`` is never 0 here."""
    q = np.abs(a) // np.abs(b)
    out: np.ndarray = np.where((a < 0) != (b < 0), -q, q)
    return out


def token_results(latencies: np.ndarray, first_token_abs: np.ndarray, origin_abs: np.ndarray,
                  n_tokens: np.ndarray, percentile: float) -> TokenResult:
    """Token figures from per-sample arrays of the completed samples, in sample order.

    ``latencies`` are the sample latencies (ns), ``first_token_abs`` the first-token clock times (0: none),
    ``origin_abs`` each sample's latency origin on the same clock, ``n_tokens`` the counts the completions
    reported; ``percentile`` is the scenario's target percentile (it also indexes TTFT and TPOT).
    """
    r = TokenResult()
    count = len(latencies)
    with np.errstate(over="ignore"):
        adjusted = np.where(n_tokens > 1, n_tokens, 0).astype(np.int64)
        r.token_count = int(adjusted.sum())
        if count == 0 or not np.any(first_token_abs != 0):
            # The official leaves the TTFT/TPOT figures at 0; early stopping then sees zeros (podium) where the
            # official reads uninitialised values.
            r.ttft_sorted = np.zeros(count, np.int64)
            r.tpot_sorted = np.zeros(count, np.int64)
            return r
        r.has_first_tokens = True
        ttft = np.where(first_token_abs != 0, first_token_abs - origin_abs, INVALID_LATENCY).astype(np.int64)
        tpot = _trunc_div((latencies.astype(np.int64) - ttft), adjusted - 1)
    r.first_token_latency_mean = _unsigned_mean(ttft, count)
    r.time_per_output_token_mean = _unsigned_mean(tpot, count)
    ttft.sort()
    tpot.sort()
    r.ttft_sorted, r.tpot_sorted = ttft, tpot
    r.first_token_latency_min, r.first_token_latency_max = int(ttft[0]), int(ttft[-1])
    r.time_per_output_token_min, r.time_per_output_token_max = int(tpot[0]), int(tpot[-1])
    r.target_first_token_latency = stats.percentile(ttft, percentile)
    r.target_tpot = stats.percentile(tpot, percentile)
    r.first_token_percentiles = {p: stats.percentile(ttft, p) for p in PERCENTILES}
    r.tpot_percentiles = {p: stats.percentile(tpot, p) for p in PERCENTILES}
    return r


@dataclass
class TokenEarlyStopping:
    """Early stopping run separately on TPOT, then (only if TPOT passed, as the official) on TTFT."""

    met: bool
    tpot: es.EarlyStoppingResult | None
    ttft: es.EarlyStoppingResult | None

    @property
    def last(self) -> es.EarlyStoppingResult | None:
        """The run whose estimates the detail log reports (the official keeps the last computed one)."""
        return self.ttft if self.ttft is not None else self.tpot


def token_early_stopping(scenario: str, tokens: TokenResult, query_latencies: np.ndarray | None,
                         queries_issued: int, percentile: float, ttft_bound_ns: int, tpot_bound_ns: int,
                         decimals: int) -> TokenEarlyStopping | None:
    """The official ``EarlyStopping`` on the TPOT array with the TPOT bound, then on TTFT with the TTFT bound.

    MultiStream uses the per-query latencies both times (as the official passes them); Offline has none.
    """
    def once(values: np.ndarray, bound: int) -> es.EarlyStoppingResult | None:
        if scenario == "SingleStream":
            return es.early_stopping_single_stream(values, percentile, queries_issued=queries_issued,
                                                   decimals=decimals)
        if scenario == "MultiStream":
            ql = query_latencies if query_latencies is not None else np.zeros(0, np.int64)
            return es.early_stopping_multi_stream(ql, percentile, queries_issued=queries_issued,
                                                  decimals=decimals)
        if scenario == "Server":
            return es.early_stopping_server(values, bound, percentile, queries_issued=queries_issued)
        return None

    if scenario == "Offline":
        return None
    tpot = once(tokens.tpot_sorted, tpot_bound_ns)
    if tpot is None:
        return None
    if not tpot.met:
        return TokenEarlyStopping(False, tpot, None)
    ttft = once(tokens.ttft_sorted, ttft_bound_ns)
    return TokenEarlyStopping(bool(ttft is not None and ttft.met), tpot, ttft)
