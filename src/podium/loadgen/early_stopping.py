"""Early stopping, bit-identical to the official LoadGen v2.1 (early_stopping.cc + PerformanceSummary).

Early stopping asks: having seen ``t`` queries over the latency bound, how many queries ``h`` under it are
needed before we are ``c`` (99 %) confident that the true ``p``-quantile is met? That is the smallest ``h``
with ``P(Binomial(h + t, 1 - p) <= t) < 1 - c``; spec loadgen.md §5.2 has the maths.

Why this is more than a call to ``scipy.special.betainc``: the reported numbers (queries to discard, the
estimate, "would need K more queries") must equal an official run's, and the official finds ``h`` with a
particular floating-point formula (a 2F1 series cut off at 2**-33, ``lgamma`` from the C library) inside a
binary search whose bracket comes from a cache of earlier answers, with a slope formula that multiplies
where it means to divide. Near the threshold the official formula's rounding decides, and if a bracket
ever missed the true answer the official would return the bracket edge. So we replay the same searches
call for call, with one shortcut that does not change any outcome: each "odds < 1 - c?" comparison is
first tried with scipy's ``betainc`` and only recomputed with the official formula when the two could
disagree (the value is within a generous error band of the threshold).

The cache lives as long as one ``MinPassingQueriesFinder`` (the official builds one per EarlyStopping
evaluation); each ``early_stopping_*`` function here uses a fresh one, just as one official evaluation does.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import math
from typing import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc

__all__ = [
    "EarlyStoppingResult",
    "MinPassingQueriesFinder",
    "early_stopping_multi_stream",
    "early_stopping_server",
    "early_stopping_single_stream",
    "find_min_passing",
    "odds",
]

CONFIDENCE = 0.99
TOLERANCE = 0.0
# The official SingleStream summary always adds a 99th-percentile estimate (for inferring MultiStream).
_SS_SECOND_PERCENTILE = 0.99
# Series cut-off of the official 2F1 evaluation.
_SERIES_TOL = 1.0 / (1 << 33)
# Below this many expected terms a plain loop beats setting up numpy arrays.
_SERIES_PY_TERMS = 96
_SERIES_CHUNK = 1024
_EPS = 2.220446049250313e-16


def _load_lgamma() -> Callable[[float], float]:
    """The C library's ``lgamma``: the official calls it, and Python's ``math.lgamma`` is CPython's own
    implementation, which can differ in the last bits (it matters only right at the threshold, which is
    exactly where we use it)."""
    for name in (ctypes.util.find_library("m"), "libm.so.6", None):
        try:
            lib = ctypes.CDLL(name)
            fn = lib.lgamma
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_double]
        # Sanity (right symbol and calling convention); not an equality test, the two differ in last bits.
        if abs(fn(10.0) - math.log(362880.0)) < 1e-12:
            return fn
    return math.lgamma


_lgamma = _load_lgamma()


def _lbeta(x: int, y: int) -> float:
    return float(_lgamma(float(x)) + _lgamma(float(y)) - _lgamma(float(x + y)))


def _hypergeometric_2f1_a1(b: int, c: int, x: float) -> float:
    """2F1(1, b; c; x) by its power series, summed term by term exactly as the official loop does
    (``term *= (b + i) * x / (c + i)`` while ``|term| > 2**-33``), so the rounding is the same.

    Long series are evaluated in numpy blocks: ``multiply.accumulate`` / ``add.accumulate`` are strictly
    sequential recurrences (unlike ``np.sum``), so they round identically to the scalar loop.
    """
    term = 1.0
    result = 1.0
    i = 0
    while abs(term) > _SERIES_TOL:
        if i >= _SERIES_PY_TERMS:
            return _hypergeometric_tail(b, c, x, i, term, result)
        term *= (b + i) * x / (c + i)
        result += term
        i += 1
    return result


def _hypergeometric_tail(b: int, c: int, x: float, i: int, term: float, result: float) -> float:
    while True:
        idx = np.arange(i, i + _SERIES_CHUNK, dtype=np.int64)
        factors = ((idx + b).astype(np.float64) * x) / (idx + c).astype(np.float64)
        terms = np.multiply.accumulate(np.concatenate(([term], factors)))[1:]
        # "not (|term| > tol)" rather than "<=": a NaN term ends the official loop too.
        small = ~(np.abs(terms) > _SERIES_TOL)
        if small.any():
            stop = int(small.argmax()) + 1  # the first small term is still added, then the loop ends
            return float(np.add.accumulate(np.concatenate(([result], terms[:stop])))[-1])
        result = float(np.add.accumulate(np.concatenate(([result], terms)))[-1])
        term = float(terms[-1])
        i += _SERIES_CHUNK


def odds(h: int, t: int, p: float, d: float = 0.0) -> float:
    """The official's ``odds(h, t, p, d)`` = I_{p-d}(h, t + 1), with its exact floating-point evaluation:
    the chance of at most ``t`` over-latency queries among ``h + t``."""
    x = p - d
    a = h
    b = 1 + t
    return (
        math.exp(a * math.log(x) + (b - 1) * math.log(1 - x) - _lbeta(a, b))
        / a
        * _hypergeometric_2f1_a1(1 - b, 1 + a, x / (x - 1))
    )


def _passes(h: int, t: int, p: float, d: float, threshold: float) -> bool:
    """``odds(h, t, p, d) < threshold``, deciding with ``betainc`` when that is unambiguous.

    The official formula's own error grows with the size of the lgamma arguments (cancellation between
    values ~ (h + t) log(h + t)); measured at ~1e-7 relative for h + t ~ 2e7. The band is ~50x that, and
    outside it both computations must fall on the same side of the threshold.
    """
    x = p - d
    if h >= 1 and t >= 0 and 0.0 < x < 1.0:
        approx = float(betainc(h, t + 1, x))
        if math.isfinite(approx):
            n = h + t + 1
            band = 1e-9 + 64.0 * _EPS * n * math.log(n + 1)
            if abs(approx - threshold) > threshold * band:
                return approx < threshold
    try:
        return odds(h, t, p, d) < threshold
    except (ValueError, ZeroDivisionError, OverflowError):
        # C++ would produce NaN/inf here; NaN compares false, +inf too, -inf/0 would pass.
        return False


def _search(min_h: int, max_h: int, t: int, p: float, d: float, c: float) -> int:
    """The official lower-bound binary search on [min_h, max_h): returns max_h if nothing in range passes,
    and min_h when the range is empty or inverted (no evaluation at all)."""
    threshold = 1 - c
    count = max_h - min_h
    while count > 0:
        step = count // 2
        h = min_h + step
        if _passes(h, t, p, d, threshold):
            count = step
        else:
            min_h = h + 1
            count -= step + 1
    return min_h


def _trunc(value: float) -> int:
    # C++ double -> int64 conversion truncates toward zero.
    return int(value)


class MinPassingQueriesFinder:
    """The official ``MinPassingQueriesFinder``: minimal passing ``h`` for ``t`` failures, memoised per
    ``(p, d, c)``. Earlier answers bound the next search, so an answer can depend on what was asked
    before; keep one instance per early-stopping evaluation, as the official does."""

    def __init__(self) -> None:
        self._caches: dict[tuple[float, float, float], tuple[list[int], dict[int, int]]] = {}

    def __call__(self, t: int, p: float, d: float = TOLERANCE, c: float = CONFIDENCE) -> int:
        keys, values = self._caches.setdefault((p, d, c), ([], {}))
        t = int(t)
        pos = bisect.bisect_left(keys, t)  # std::map::lower_bound
        if pos < len(keys) and keys[pos] == t:
            return values[t]
        x0, y0 = -1, 0
        x1, y1 = 0, _trunc(math.ceil(math.log(1 - c) / math.log(p - d)))
        if pos > 0:
            x1 = keys[pos - 1]
            y1 = values[x1]
            if pos > 1:
                x0 = keys[pos - 2]
                y0 = values[x0]
        min_slope = (p - d) / (1 - p + d)
        # (sic) a product, not a quotient: as the official computes it.
        max_slope = float((y1 - y0) * (x1 - x0))
        min_h = _trunc((t - x1) * min_slope + y1)
        max_h = _trunc((t - x1) * max_slope + y1 + 1)
        h = _search(min_h, max_h, t, p, d, c)
        if pos == len(keys):
            keys.append(t)
        else:
            keys.insert(pos, t)
        values[t] = h
        return h


def find_min_passing(
    t: int,
    p: float,
    d: float = TOLERANCE,
    c: float = CONFIDENCE,
    finder: MinPassingQueriesFinder | None = None,
) -> int:
    """Smallest ``h`` with ``odds(h, t, p, d) < 1 - c``, as the official finder returns it.

    Without ``finder`` the lookup starts from an empty cache (a lone call in a fresh official evaluation);
    pass a ``MinPassingQueriesFinder`` to share its cache across calls.
    """
    return (finder if finder is not None else MinPassingQueriesFinder())(t, p, d, c)


@dataclass
class EarlyStoppingResult:
    """One early-stopping verdict, as the official summary/detail logs report it."""

    met: bool
    # Exact multi-line text printed in mlperf_log_summary.txt after "Early Stopping Result:" (the detail
    # log's ``early_stopping_result`` is this with every "\n" replaced by " ").
    text: str
    # Target-percentile estimate: detail ``early_stopping_latency_ss`` (SingleStream) or
    # ``early_stopping_latency_ms`` (MultiStream). None where the official leaves the field at 0.
    estimate_ns: int | None = None
    # SingleStream only: the 99th-percentile estimate, detail ``early_stopping_latency_ms``. None -> 0.
    estimate_99_ns: int | None = None


def _percent_label(p: float, decimals: int = 0) -> str:
    # DoubleToString(p * 100, d): fixed notation; v2.1 uses no decimals (0.9 -> "90", 0.999 -> "100"),
    # LoadGen 6.0.x one (0.9 -> "90.0").
    return f"{p * 100:.{decimals}f}"


def _discard_run(n: int, p: float, finder: MinPassingQueriesFinder) -> tuple[int, int | None]:
    """The official SS/MS loop: ``(h_min, t)`` where ``t - 1`` latencies would be discarded, or
    ``(h_min, None)`` when fewer than ``h_min + 1`` queries ran."""
    h_min = finder(1, p, TOLERANCE, CONFIDENCE)
    if n < h_min + 1:
        return h_min, None
    t = 1
    for i in range(2, n + 1):
        h = finder(i, p, TOLERANCE, CONFIDENCE)
        if n < h + i:
            t = i - 1
            break
    return h_min, t


def _not_enough(n: int, h_min: int) -> str:
    return f" * Only processed {n} queries.\n * Need to process at least {h_min + 1} queries for early stopping."


def _processed_text(n: int, h_min: int, t: int, p: float, estimate: int, decimals: int = 0) -> str:
    return (
        f" * Processed at least {h_min + 1} queries ({n}).\n"
        f" * Would discard {t - 1} highest latency queries.\n"
        f" * Early stopping {_percent_label(p, decimals)}th percentile estimate: {estimate}"
    )


def early_stopping_single_stream(
    sorted_latencies: np.ndarray, percentile: float, queries_issued: int | None = None, decimals: int = 0
) -> EarlyStoppingResult:
    """SingleStream: the target-percentile estimate plus a 99th-percentile one.

    ``sorted_latencies`` are the sample latencies in ascending order; ``queries_issued`` defaults to their
    count (the official indexes the latencies by the issued-query count). ``decimals``: of the percentile
    labels (0 in v2.1, 1 in LoadGen 6.0.x).
    """
    n = len(sorted_latencies) if queries_issued is None else int(queries_issued)
    finder = MinPassingQueriesFinder()
    h_min, t = _discard_run(n, percentile, finder)
    if t is None:
        return EarlyStoppingResult(False, _not_enough(n, h_min))
    estimate = int(sorted_latencies[n - t])
    text = _processed_text(n, h_min, t, percentile, estimate, decimals)
    estimate_99: int | None = None
    h_min99, t99 = _discard_run(n, _SS_SECOND_PERCENTILE, finder)
    if t99 is None:
        text += (
            f"\n * Not enough queries processed for {_percent_label(_SS_SECOND_PERCENTILE, decimals)}th "
            "percentile\n"
            f" early stopping estimate (would need to process at\n least {h_min99 + 1} total queries)."
        )
    else:
        estimate_99 = int(sorted_latencies[n - t99])
        text += (f"\n * Early stopping {_percent_label(_SS_SECOND_PERCENTILE, decimals)}th percentile estimate: "
                 f"{estimate_99}")
    return EarlyStoppingResult(True, text, estimate, estimate_99)


def early_stopping_multi_stream(
    sorted_query_latencies: np.ndarray, percentile: float, queries_issued: int | None = None, decimals: int = 0
) -> EarlyStoppingResult:
    """MultiStream: the same rule over per-query latencies (ascending), target percentile only."""
    n = len(sorted_query_latencies) if queries_issued is None else int(queries_issued)
    h_min, t = _discard_run(n, percentile, MinPassingQueriesFinder())
    if t is None:
        return EarlyStoppingResult(False, _not_enough(n, h_min))
    estimate = int(sorted_query_latencies[n - t])
    return EarlyStoppingResult(True, _processed_text(n, h_min, t, percentile, estimate, decimals), estimate)


def early_stopping_server(
    latencies: np.ndarray, target_latency_ns: int, percentile: float, queries_issued: int | None = None
) -> EarlyStoppingResult:
    """Server: enough under-latency queries for the observed over-latency count (strictly > target)?"""
    lat = np.asarray(latencies)
    n = lat.size if queries_issued is None else int(queries_issued)
    t = int(np.count_nonzero(lat > target_latency_ns))
    h = find_min_passing(t, percentile)
    if n >= h + t:
        return EarlyStoppingResult(True, " * Run successful.")
    text = (
        f" * Run unsuccessful.\n * Processed {n} queries.\n"
        f" * Would need to run at least {h + t - n} more queries,\n"
        " with the run being successful if every additional\n query were under latency."
    )
    return EarlyStoppingResult(False, text)
