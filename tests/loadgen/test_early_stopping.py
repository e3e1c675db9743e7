"""podium.loadgen.early_stopping against the official v2.1 early-stopping numbers and texts.

Reference values: the spec's verified ones (marked "spec"), the official v2.1 example logs in
shared/spec/examples/official-v2.1 (marked "example log"), and the rest from the official
early_stopping.cc (tag v2.1) compiled with g++ 12.2 on glibc, driven by a small harness that replays the
PerformanceSummary loops. ``odds`` bit patterns depend on the C library's exp/log/lgamma (glibc here), as
the official's do.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from podium.loadgen import early_stopping as es
from podium.loadgen.early_stopping import (
    EarlyStoppingResult,
    MinPassingQueriesFinder,
    early_stopping_multi_stream,
    early_stopping_server,
    early_stopping_single_stream,
    find_min_passing,
    odds,
)


def discard_run(n: int, p: float) -> int:
    """t of the official SS/MS loop (discard t - 1), or -(h_min + 1) when too few queries."""
    h_min, t = es._discard_run(n, p, MinPassingQueriesFinder())
    return -(h_min + 1) if t is None else t


# --- odds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "h, t, p, bits",
    [
        (3, 0, 0.5, "0x1p-3"),
        (1, 1, 0.5, "0x1.8p-1"),
        (25, 5, 0.5, "0x1.54b2800000069p-13"),
        (34, 0, 0.95, "0x1.660a72963228p-3"),
        (82, 2, 0.9, "0x1.f55c882c4216bp-8"),
        (4592, 50, 0.99, "0x1.7681d9a94b371p-1"),
        # long series: evaluated in numpy blocks, must still round like the scalar loop
        (176887, 20000, 0.9, "0x1.fb08f6cce8dfdp-1"),
        (908906, 100000, 0.9, "0x1.96c42fdeefb1p-10"),
        (10026782, 100000, 0.99, "0x1.fcaff6df70836p-16"),
        (2027589, 20000, 0.99, "0x1.a694fdde7e6b1p-12"),
    ],
)
def test_odds_bit_identical_to_official(h, t, p, bits):
    assert odds(h, t, p) == float.fromhex(bits)


@pytest.mark.parametrize("h, t, p", [(44, 0, 0.9), (63, 1, 0.9), (187, 10, 0.9), (2000, 10, 0.99), (700, 5, 0.99)])
def test_odds_is_binomial_cdf(h, t, p):
    # P(at most t over-latency among h + t, each over with probability 1 - p)
    assert odds(h, t, p) == pytest.approx(binom.cdf(t, h + t, 1 - p), rel=1e-11)


def test_odds_t0_is_power():
    assert odds(44, 0, 0.9) == pytest.approx(0.9**44, rel=1e-13)
    assert odds(44, 0, 0.9) < 0.01 <= odds(43, 0, 0.9)


def test_series_numpy_blocks_match_scalar_loop():
    def scalar(b, c, x):
        term, result, i = 1.0, 1.0, 0
        while abs(term) > 1.0 / (1 << 33):
            term *= (b + i) * x / (c + i)
            result += term
            i += 1
        return result

    for b, c, x in [(-20000, 180001, -9.0), (-5000, 495001, -99.0), (-300, 2701, -9.0), (-150, 2000, -19.0)]:
        assert es._hypergeometric_2f1_a1(b, c, x) == scalar(b, c, x)


def test_betainc_screen_agrees_with_official_formula_near_threshold():
    thr = 1 - 0.99
    for p, t in [(0.9, 1), (0.9, 37), (0.9, 2500), (0.99, 3), (0.99, 400), (0.95, 900), (0.9, 30000)]:
        h0 = find_min_passing(t, p)
        for h in range(h0 - 3, h0 + 4):
            assert es._passes(h, t, p, 0.0, thr) == (odds(h, t, p) < thr), (p, t, h)


# --- find_min_passing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, ts, expected",
    [
        (0.90, [0, 1, 2, 10], [44, 63, 79, 187]),  # spec
        (0.99, [0, 1, 2, 10], [459, 661, 836, 2000]),  # spec
        (0.99, [3, 5, 50, 100, 1000, 2700, 10000, 50000], [998, 1302, 6848, 12471, 106569, 279576, 1013394, 5002005]),
        (0.90, [3, 100, 5000], [94, 1146, 46585]),
        (0.999, [0, 1, 7], [4603, 6635, 15989]),
    ],
)
def test_find_min_passing_fresh(p, ts, expected):
    assert [find_min_passing(t, p) for t in ts] == expected


def test_find_min_passing_is_minimal():
    for p, t in [(0.9, 0), (0.9, 10), (0.99, 1), (0.99, 50)]:
        h = find_min_passing(t, p)
        assert odds(h, t, p) < 1 - 0.99 <= odds(h - 1, t, p)


@pytest.mark.parametrize(
    "p, ts, expected",
    [
        (0.99, [5000, 3, 4000, 10, 11, 12, 2, 4999, 100000, 7, 0, 1],
         [511615, 998, 410887, 2000, 2133, 2265, 836, 511514, 9973443, 1589, 459, 661]),
        (0.9, [50, 1, 2, 3, 49, 48, 51, 1000, 999, 10], [631, 63, 79, 94, 621, 610, 642, 9722, 9713, 187]),
    ],
)
def test_shared_finder_in_arbitrary_order(p, ts, expected):
    finder = MinPassingQueriesFinder()
    assert [finder(t, p) for t in ts] == expected
    # repeated queries come from the cache
    assert finder(ts[0], p) == expected[0]


def test_shared_finder_caches_per_percentile():
    finder = MinPassingQueriesFinder()
    assert (finder(1, 0.9), finder(1, 0.99), finder(2, 0.9), finder(2, 0.99)) == (63, 661, 79, 836)


@pytest.mark.parametrize("p, n, last, digest", [(0.9, 20000, 183145, 9989431845197165807),
                                                 (0.99, 5000, 511615, 10090438971797086843)])
def test_sequential_finder_stream(p, n, last, digest):
    # The SS/MS loop pattern (t = 1, 2, 3 ...), each search bracketed by the two previous answers.
    finder = MinPassingQueriesFinder()
    h = 0
    value = 0
    for t in range(1, n + 1):
        value = finder(t, p)
        h = (h * 1000003 + value) & 0xFFFFFFFFFFFFFFFF
    assert (value, h) == (last, digest)


def test_search_bracket_semantics():
    # empty or inverted bracket: min_h, with no evaluation
    assert es._search(10, 10, 0, 0.9, 0.0, 0.99) == 10
    assert es._search(10, 5, 0, 0.9, 0.0, 0.99) == 10
    # truth (44) inside [30, 60) -> 44; below the bracket -> min_h; above it -> max_h (never evaluated)
    assert es._search(30, 60, 0, 0.9, 0.0, 0.99) == 44
    assert es._search(50, 60, 0, 0.9, 0.0, 0.99) == 50
    assert es._search(30, 40, 0, 0.9, 0.0, 0.99) == 40


# --- SingleStream / MultiStream loops -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, ns, expected",
    [
        (0.9, [1, 63, 64, 65, 70, 80, 90, 100, 101, 200, 500, 1000, 1024, 2876, 2902, 5000, 10000, 54321],
         [-64, -64, 1, 1, 1, 1, 2, 3, 3, 10, 34, 78, 80, 250, 252, 450, 930, 5269]),
        (0.99, [500, 661, 662, 663, 700, 1000, 2876, 2902, 5000, 10000, 270336],
         [-662, -662, 1, 1, 1, 2, 16, 16, 33, 77, 2583]),
    ],
)
def test_discard_run_matches_official(p, ns, expected):
    assert [discard_run(n, p) for n in ns] == expected


def test_discard_run_large_single_stream():
    assert discard_run(600000, 0.9) == 59459
    assert discard_run(600000, 0.99) == 5820


def test_single_stream_example_log_layout():
    # example log: p = 0.9, 2902 queries -> "Processed at least 64 queries (2902)", "Would discard 251"
    lat = np.arange(1, 2903, dtype=np.int64) * 1000
    r = early_stopping_single_stream(lat, 0.9)
    assert r == EarlyStoppingResult(True, r.text, 2651000, 2887000)  # lat[2902 - 252], lat[2902 - 16]
    assert r.text == (
        " * Processed at least 64 queries (2902).\n"
        " * Would discard 251 highest latency queries.\n"
        " * Early stopping 90th percentile estimate: 2651000\n"
        " * Early stopping 99th percentile estimate: 2887000"
    )


def test_single_stream_not_enough_for_99th():
    lat = np.arange(500, dtype=np.int64) + 10
    r = early_stopping_single_stream(lat, 0.9)
    assert (r.met, r.estimate_ns, r.estimate_99_ns) == (True, int(lat[500 - 34]), None)
    assert r.text == (
        " * Processed at least 64 queries (500).\n"
        " * Would discard 33 highest latency queries.\n"
        f" * Early stopping 90th percentile estimate: {lat[466]}\n"
        " * Not enough queries processed for 99th percentile\n"
        " early stopping estimate (would need to process at\n"
        " least 662 total queries)."
    )


def test_single_stream_too_few_queries():
    r = early_stopping_single_stream(np.arange(63, dtype=np.int64), 0.9)
    assert r == EarlyStoppingResult(
        False, " * Only processed 63 queries.\n * Need to process at least 64 queries for early stopping.", None, None
    )


def test_single_stream_minimum_keeps_max_as_estimate():
    lat = np.arange(64, dtype=np.int64) * 7
    r = early_stopping_single_stream(lat, 0.9)
    assert r.met and r.estimate_ns == int(lat[-1])
    assert " * Would discard 0 highest latency queries.\n" in r.text


def test_single_stream_at_99th_target_shares_cache():
    lat = np.arange(2902, dtype=np.int64)
    r = early_stopping_single_stream(lat, 0.99)
    assert r.estimate_ns == r.estimate_99_ns == 2902 - 16
    assert r.text.splitlines()[2:] == [
        " * Early stopping 99th percentile estimate: 2886",
        " * Early stopping 99th percentile estimate: 2886",
    ]


def test_multi_stream_example_log_layout():
    # example log: p = 0.99, 2876 queries -> "Processed at least 662 queries (2876)", "Would discard 15"
    ql = np.sort(np.random.default_rng(0).integers(600000, 2300000, size=2876))
    r = early_stopping_multi_stream(ql, 0.99)
    est = int(ql[2876 - 16])
    assert r == EarlyStoppingResult(True, r.text, est, None)
    assert r.text == (
        " * Processed at least 662 queries (2876).\n"
        " * Would discard 15 highest latency queries.\n"
        f" * Early stopping 99th percentile estimate: {est}"
    )


def test_multi_stream_too_few_queries():
    r = early_stopping_multi_stream(np.arange(661, dtype=np.int64), 0.99)
    assert not r.met and r.estimate_ns is None
    assert r.text == " * Only processed 661 queries.\n * Need to process at least 662 queries for early stopping."


def test_queries_issued_overrides_count():
    lat = np.arange(3000, dtype=np.int64)
    r = early_stopping_multi_stream(lat, 0.99, queries_issued=2876)
    assert r.estimate_ns == 2876 - 16


# --- Server -------------------------------------------------------------------------------------------------


def test_server_example_log_success():
    # example log: 999 queries, 1 over the bound -> " * Run successful."
    lat = np.full(999, 1_000_000, dtype=np.int64)
    lat[17] = 15_786_387
    r = early_stopping_server(lat, 15_000_000, 0.99)
    assert r == EarlyStoppingResult(True, " * Run successful.", None, None)


def test_server_threshold_is_strictly_greater():
    lat = np.full(661, 100, dtype=np.int64)
    assert early_stopping_server(lat, 100, 0.99).met  # t = 0 needs 459
    lat[0] = 101
    r = early_stopping_server(lat, 100, 0.99)  # t = 1 needs 661 + 1 = 662 queries
    assert not r.met
    assert r.text == (
        " * Run unsuccessful.\n * Processed 661 queries.\n * Would need to run at least 1 more queries,\n"
        " with the run being successful if every additional\n query were under latency."
    )


def test_server_unsuccessful_count():
    lat = np.zeros(1000, dtype=np.int64)
    lat[:5] = 10**9
    r = early_stopping_server(lat, 10**8, 0.99)  # t = 5: h = 1302, need 1307 - 1000 = 307 more
    assert not r.met
    assert "\n * Processed 1000 queries.\n * Would need to run at least 307 more queries,\n" in r.text


def test_server_boundary_exactly_enough():
    lat = np.zeros(1307, dtype=np.int64)
    lat[:5] = 2
    assert early_stopping_server(lat, 1, 0.99).met


def test_percent_label_rounding():
    assert [es._percent_label(p) for p in (0.9, 0.99, 0.5, 0.999, 0.95)] == ["90", "99", "50", "100", "95"]


def test_v21_multistream_minimum_run():
    # A 270336-query MultiStream run (the v2.1 minimum) goes through ~2600 searches.
    ql = np.arange(270336, dtype=np.int64)
    r = early_stopping_multi_stream(ql, 0.99)
    assert r.estimate_ns == 270336 - 2583
    assert " * Would discard 2582 highest latency queries.\n" in r.text
