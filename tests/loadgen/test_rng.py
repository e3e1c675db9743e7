"""podium.loadgen.rng against reference streams.

Every literal here was produced by a small C++17 program built with g++ 12.2 (libstdc++, so the GCC >= 11
Lemire ``uniform_int_distribution``) calling ``std::mt19937``, ``uniform_int_distribution``,
``std::shuffle``, ``generate_canonical``, ``uniform_real_distribution``, ``exponential_distribution`` and
``duration_cast`` directly; the few marked "spec" are the spec's independently verified values.
"Checksum" is sum((i + 1) * v[i]) mod 2**64; "next" is the engine's next raw word after the calls, which
pins the stream position.
"""

from __future__ import annotations

import numpy as np
import pytest

from podium.loadgen.rng import (
    Mt19937,
    constant_interval_ns,
    exponential_interval_ns,
    exponential_intervals_ns,
    generate_canonical,
    generate_canonical_array,
    shuffle,
    shuffled_range,
    uniform_int,
    uniform_int_array,
    uniform_real,
)

QSL_SEED_V21 = 14284205019438841327


def checksum(values) -> int:
    v = np.asarray(values).astype(np.uint64)
    return int((np.arange(1, v.size + 1, dtype=np.uint64) * v).sum())


# --- engine -------------------------------------------------------------------------------------------


def test_engine_words_match_std_mt19937_with_64bit_seed():
    eng = Mt19937(QSL_SEED_V21)
    assert eng.next_u32() == 423393035  # spec
    assert eng.take(4).tolist() == [3580148834, 133872910, 429965295, 2928682973]
    assert eng.words_consumed == 5


def test_engine_seed_is_reduced_mod_2_32():
    a, b = Mt19937(QSL_SEED_V21), Mt19937(QSL_SEED_V21 & 0xFFFFFFFF)
    assert a.take(1000).tolist() == b.take(1000).tolist()


def test_default_seed_is_5489():
    assert Mt19937().take(3).tolist() == Mt19937(5489).take(3).tolist()


@pytest.mark.parametrize("pattern", [[1, 700, 1, 3], [1000, 1, 1, 5000, 2], [511, 1, 1, 512]])
def test_single_and_bulk_draws_share_one_stream(pattern):
    ref = Mt19937(7).take(sum(pattern)).tolist()
    eng = Mt19937(7)
    got: list[int] = []
    for k in pattern:
        got.extend([eng.next_u32()] if k == 1 else eng.take(k).tolist())
    assert got == ref


def test_unread_words_are_returned_again():
    eng = Mt19937(3)
    first = eng.take(10)
    eng._unread(first[4:])
    assert eng.words_consumed == 4
    assert eng.take(6).tolist() == first[4:].tolist()


# --- uniform_int ----------------------------------------------------------------------------------------


def test_uniform_int_spec_values():
    eng = Mt19937(4163916728725999944)
    assert [uniform_int(eng, 0, 1023) for _ in range(5)] == [727, 150, 354, 441, 512]


def test_uniform_int_array_equals_scalar_calls():
    eng = Mt19937(4163916728725999944)
    assert uniform_int_array(eng, 0, 1023, 5).tolist() == [727, 150, 354, 441, 512]


U3E9 = [1251065995, 2991554424, 2160973467, 2797672083, 384373343, 440267677, 708266928, 277015786]


def test_uniform_int_with_frequent_rejections_scalar():
    # Range 3e9: threshold 2**32 mod 3e9 = 1294967296, ~30 % of words are rejected.
    eng = Mt19937(1)
    vals = [uniform_int(eng, 0, 2999999999) for _ in range(20)]
    assert vals[:8] == U3E9
    assert sum(vals) == 27325731619
    assert eng.next_u32() == 3925436996


def test_uniform_int_with_frequent_rejections_array():
    eng = Mt19937(1)
    vals = uniform_int_array(eng, 0, 2999999999, 20)
    assert vals.tolist()[:8] == U3E9
    assert int(vals.sum()) == 27325731619
    assert eng.next_u32() == 3925436996


def test_uniform_int_array_rejections_large():
    eng = Mt19937(99)
    vals = uniform_int_array(eng, 0, 2499999999, 200000)
    assert vals[0] == 1680696383
    assert checksum(vals) == 6642378685106987767
    assert eng.next_u32() == 3475503264


def test_uniform_int_array_million_draws_sample_index_seed():
    # A v2.1-HEAD sample_index seed over a 1e6-sample set: rare rejections (threshold 967296).
    eng = Mt19937(2747215439041700203)
    vals = uniform_int_array(eng, 0, 999999, 1_000_000)
    assert vals.dtype == np.int64
    assert int(vals.sum()) == 499875871040
    assert vals[-1] == 280305
    assert checksum(vals) == 250196524852199812
    assert eng.next_u32() == 661177687


def test_uniform_int_array_mixed_with_scalar_draws():
    eng_a, eng_b = Mt19937(2024), Mt19937(2024)
    a = [uniform_int(eng_a, 0, 2999999999) for _ in range(3)] + uniform_int_array(eng_a, 0, 2999999999, 500).tolist()
    a.append(uniform_int(eng_a, 0, 2999999999))
    b = [uniform_int(eng_b, 0, 2999999999) for _ in range(504)]
    assert a == b
    assert eng_a.next_u32() == eng_b.next_u32()


def test_uniform_int_full_range_returns_raw_words():
    assert [uniform_int(Mt19937(7), 0, 4294967295)] == [327741615]
    eng = Mt19937(7)
    assert [uniform_int(eng, 0, 4294967295) for _ in range(3)] == [327741615, 976413892, 3349725721]
    assert uniform_int_array(Mt19937(7), 0, 4294967295, 3).tolist() == [327741615, 976413892, 3349725721]


def test_uniform_int_negative_lower_bound():
    expected = [-4, -5, -5, 2, 0, -3, 2, 5, -1, -4]
    eng = Mt19937(11)
    assert [uniform_int(eng, -5, 5) for _ in range(10)] == expected
    assert uniform_int_array(Mt19937(11), -5, 5, 10).tolist() == expected


def test_uniform_int_wider_than_32_bits():
    eng = Mt19937(13)
    assert [uniform_int(eng, 0, 10000000000) for _ in range(4)] == [3691240976, 9359392921, 7523328922, 6903487102]
    assert eng.next_u32() == 3330860994


def test_uniform_int_single_value_range_consumes_a_word():
    eng = Mt19937(5)
    assert uniform_int(eng, 4, 4) == 4
    assert eng.words_consumed == 1


def test_uniform_int_rejects_empty_range():
    with pytest.raises(ValueError):
        uniform_int(Mt19937(), 3, 2)


# --- shuffle --------------------------------------------------------------------------------------------


def test_shuffle_spec_value():
    seq = list(range(10))
    shuffle(Mt19937(QSL_SEED_V21), seq)
    assert seq == [6, 9, 3, 2, 1, 7, 8, 4, 5, 0]  # spec


def test_shuffle_odd_length():
    seq = list(range(11))
    shuffle(Mt19937(QSL_SEED_V21), seq)
    assert seq == [7, 6, 1, 3, 0, 2, 9, 8, 5, 10, 4]


def test_shuffle_works_on_any_objects():
    seq = [f"s{i}" for i in range(10)]
    shuffle(Mt19937(QSL_SEED_V21), seq)
    assert seq == [f"s{i}" for i in [6, 9, 3, 2, 1, 7, 8, 4, 5, 0]]


@pytest.mark.parametrize(
    "n, expected, next_word",
    [(0, [], 423393035), (1, [0], 423393035), (2, [1, 0], 3580148834), (3, [2, 0, 1], 3580148834)],
)
def test_shuffle_tiny(n, expected, next_word):
    eng = Mt19937(QSL_SEED_V21)
    seq = list(range(n))
    shuffle(eng, seq)
    assert seq == expected
    assert eng.next_u32() == next_word


@pytest.mark.parametrize(
    "n, head, last, check, next_word",
    [
        # two swaps per draw (n <= 65535)
        (1000, [17, 787, 949, 830, 791, 261], 793, 247772126, 285781732),
        (50000, [36653, 24414, 16068, 17261, 41574, 38398], 33540, 31255064092507, 169457881),
        (65535, [61814, 25888, 50749, 11799, 65046, 45466], 752, 70341960174436, 1906810303),
        # classic Fisher-Yates (n >= 65536)
        (65536, [12525, 29358, 59950, 5420, 49799, 23304], 52726, 70548670732978, 3311353883),
        (1000000, [876554, 229122, 303169, 77881, 256866, 201714], 261928, 249895145063611389, 1356023142),
    ],
)
def test_shuffled_range_matches_std_shuffle(n, head, last, check, next_word):
    eng = Mt19937(QSL_SEED_V21)
    perm = shuffled_range(eng, n)
    assert perm.dtype == np.int64
    assert perm[:6].tolist() == head
    assert perm[-1] == last
    assert checksum(perm) == check
    assert eng.next_u32() == next_word


def test_shuffle_and_shuffled_range_agree():
    seq = list(range(5000))
    shuffle(Mt19937(9), seq)
    assert shuffled_range(Mt19937(9), 5000).tolist() == seq


def test_mixed_distributions_keep_stream_position():
    eng = Mt19937(42)
    a = uniform_int(eng, 0, 9)
    seq = list(range(7))
    shuffle(eng, seq)
    c = generate_canonical(eng)
    b = uniform_int(eng, 0, 9)
    assert (a, seq, c, b) == (3, [6, 5, 1, 3, 4, 2, 0], float.fromhex("0x1.8f33a88f76c7fp-1"), 5)
    assert eng.next_u32() == 2563451924


# --- real distributions -------------------------------------------------------------------------------

CANON_5489 = ["0x1.1574f7b6848dep-3", "0x1.ab863ef3cfc3fp-1", "0x1.f00f6fbe41047p-1", "0x1.c4ad7f0f4e98p-3"]


def test_generate_canonical_default_seed():
    eng = Mt19937()
    assert [generate_canonical(eng) for _ in range(4)] == [float.fromhex(x) for x in CANON_5489]
    assert eng.words_consumed == 8


def test_generate_canonical_array_matches_scalar():
    assert generate_canonical_array(Mt19937(), 4).tolist() == [float.fromhex(x) for x in CANON_5489]


def test_generate_canonical_low_word_first_by_hand():
    eng = Mt19937(QSL_SEED_V21)
    # words 423393035 (low), 3580148834 (high)
    assert generate_canonical(eng) == (423393035 + 3580148834 * 2.0**32) / 2.0**64


def test_generate_canonical_clamps_below_one():
    class AllOnes(Mt19937):
        def next_u32(self) -> int:
            return 0xFFFFFFFF

    u = generate_canonical(AllOnes())
    assert u < 1.0 and u == np.nextafter(1.0, 0.0)


def test_uniform_real():
    eng = Mt19937()
    assert [uniform_real(eng, 0.0, 1.0) for _ in range(4)] == [float.fromhex(x) for x in CANON_5489]
    eng = Mt19937(3)
    expected = ["-0x1.d3ff4156c475ap+0", "0x1.5eb06378ce8ddp+2", "-0x1.58edcc113c85p+0"]
    assert [uniform_real(eng, -2.5, 7.0) for _ in range(3)] == [float.fromhex(x) for x in expected]


def test_exponential_interval_spec_values():
    eng = Mt19937(299063814864929621)
    got = [exponential_interval_ns(eng, 100.0) for _ in range(6)]
    # spec: 0.004410296634, 0.013514554114, 0.016899850571 s
    assert got == [4410296, 13514554, 16899850, 9796240, 2753415, 625908]


def test_exponential_intervals_vectorised_and_mixed():
    eng = Mt19937(299063814864929621)
    first = exponential_interval_ns(eng, 100.0)
    rest = exponential_intervals_ns(eng, 100.0, 5)
    assert [first, *rest.tolist()] == [4410296, 13514554, 16899850, 9796240, 2753415, 625908]
    assert eng.words_consumed == 12


def test_exponential_intervals_bulk():
    eng = Mt19937(12786827339337101903)
    v = exponential_intervals_ns(eng, 2500.5, 300000)
    assert v.dtype == np.int64
    assert int(v.sum()) == 120183377040
    assert v[-1] == 86573
    assert checksum(v) == 18028874876028460
    assert eng.next_u32() == 1101139702


# --- constant schedule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected_latency_ns, interval",
    [
        (600000.0, 600000),
        (1000000.0, 1000000),
        (8000000.0, 8000000),
        (1500000.0, 1500000),
        # 1e9 / lat, then 1 / qps * 1e9, lands just under the integer: truncated one below.
        (100013.0, 100012),
        (100017.0, 100016),
        (987654.0, 987653),
        (13.0, 12),
    ],
)
def test_constant_interval_from_expected_latency(expected_latency_ns, interval):
    assert constant_interval_ns(1e9 / expected_latency_ns) == interval


@pytest.mark.parametrize(
    "qps, interval", [(1.0, 1000000000), (3.0, 333333333), (7.0, 142857142), (12345.6, 81000), (0.3, 3333333333)]
)
def test_constant_interval_from_qps(qps, interval):
    assert constant_interval_ns(qps) == interval
