"""podium.loadgen.stats: the official's index-not-interpolate percentiles and integer means (spec §2.5)."""

from __future__ import annotations

import numpy as np
import pytest

from podium.loadgen.stats import PERCENTILES, mean_int, percentile, percentile_index, percentile_label


@pytest.mark.parametrize(
    "count, p, index",
    [
        (1024, 0.9, 921),  # spec: 921.6 -> 921
        (1024, 0.99, 1013),
        (1024, 0.999, 1022),
        (2902, 0.9, 2611),
        (2876, 0.99, 2847),
        (1, 0.999, 0),
        (10, 0.5, 5),
        (100, 0.97, 97),
        # double products that land just below the integer truncate down, as in C++
        (100, 0.29, 28),  # 100 * 0.29 = 28.999999999999996
        (1000, 0.9, 900),
        (1000, 0.57, 570),
        (100, 0.57, 56),  # 56.99999999999999
    ],
)
def test_percentile_index(count, p, index):
    assert percentile_index(count, p) == index


def test_percentile_index_clamps_out_of_contract_input():
    assert percentile_index(10, 1.0) == 9


def test_percentile_index_empty():
    with pytest.raises(ValueError):
        percentile_index(0, 0.9)


def test_percentile_values():
    v = np.arange(1, 1025, dtype=np.int64) * 10
    assert percentile(v, 0.9) == 9220
    assert [percentile(v, p) for p in PERCENTILES] == [5130, 9220, 9730, 9940, 10140, 10230]
    assert isinstance(percentile(v, 0.5), int)
    assert percentile([3, 5, 8], 0.5) == 5


def test_percentile_table():
    assert PERCENTILES == (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)
    assert [percentile_label(p) for p in PERCENTILES] == ["50.00", "90.00", "95.00", "97.00", "99.00", "99.90"]


def test_mean_int_truncates():
    assert mean_int([1, 2]) == 1
    assert mean_int(np.array([10, 11, 11], dtype=np.int64)) == 10
    assert mean_int([7]) == 7
    # large totals stay exact (a float mean would round)
    big = np.full(3, 3_000_000_000_000_000_001, dtype=np.int64)
    assert mean_int(big) == 3_000_000_000_000_000_001


def test_mean_int_empty():
    with pytest.raises(ValueError):
        mean_int([])
