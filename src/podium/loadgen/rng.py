"""Bit-exact reproductions of the random streams the official LoadGen draws (spec loadgen.md §4).

The official LoadGen is C++ and every sample index, shuffle and Server arrival time comes from
``std::mt19937`` fed through libstdc++'s distributions. The C++ standard fixes the engine but not the
distribution algorithms, so to issue the same queries as an official run we copy libstdc++'s (GCC >= 11)
algorithms exactly:

* ``uniform_int_distribution`` over a 32-bit engine: Lemire's nearly-divisionless method (GCC <= 10 used a
  division-based method that gives different numbers; which compiler built a given official wheel is not
  recorded, so we pick the current one);
* ``std::shuffle``: the "two swaps per draw" variant when ``(2**32 - 1) // n >= n``, otherwise classic
  forward Fisher-Yates;
* ``generate_canonical<double, 53>``: two 32-bit draws, the FIRST one is the low word;
* ``exponential_distribution``: ``-log(1 - u) / lambda``.

Vectorised variants return exactly what the same number of scalar calls would, and leave the engine at the
same stream position, so scalar and bulk draws may be mixed freely.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = [
    "Mt19937",
    "constant_interval_ns",
    "exponential_interval_ns",
    "exponential_intervals_ns",
    "generate_canonical",
    "generate_canonical_array",
    "shuffle",
    "shuffled_range",
    "uniform_int",
    "uniform_int_array",
    "uniform_real",
]

_U32_MASK = 0xFFFFFFFF
_TWO_32 = 1 << 32
_TWO_32_F = 4294967296.0
_TWO_64_F = 18446744073709551616.0
# The largest double below 1.0: what libstdc++ substitutes when rounding makes generate_canonical hit 1.0.
_BELOW_ONE = math.nextafter(1.0, 0.0)
_LITTLE_ENDIAN = sys.byteorder == "little"
# Words per vectorised round: large enough to amortise numpy calls, small enough to stay in cache.
_CHUNK = 1 << 18


class Mt19937:
    """``std::mt19937`` (the 32-bit Mersenne Twister) seeded as ``std::mt19937(seed)``.

    libstdc++ keeps only the low 32 bits of the seed, then runs the reference ``init_genrand``; numpy's
    legacy seeding is that same routine, so numpy's MT19937 produces the identical word stream (Python's
    ``random`` module seeds differently and does not match).

    Words are pulled from numpy in blocks and handed out from a small Python-list buffer: single draws cost
    a list index, bulk draws stay vectorised, and both read one shared stream position.
    """

    # Small enough that converting a block to a list is cheap, large enough to amortise the numpy call.
    _BLOCK = 512

    def __init__(self, seed: int = 5489) -> None:
        self.seed = int(seed)
        self._bg = np.random.MT19937(0)
        self._bg._legacy_seeding(self.seed & _U32_MASK)
        self._buf: list[int] = []
        self._pos = 0
        self._consumed = 0

    @property
    def words_consumed(self) -> int:
        """How many 32-bit words have been drawn so far (the C++ engine's call count)."""
        return self._consumed

    def next_u32(self) -> int:
        """One 32-bit word, like calling the C++ engine once."""
        if self._pos >= len(self._buf):
            self._buf = self._bg.random_raw(self._BLOCK).tolist()
            self._pos = 0
        word = self._buf[self._pos]
        self._pos += 1
        self._consumed += 1
        return word

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` words as a uint64 array (values < 2**32; uint64 so products with ranges fit)."""
        n = int(n)
        if n <= 0:
            return np.empty(0, dtype=np.uint64)
        avail = len(self._buf) - self._pos
        self._consumed += n
        if avail >= n:
            out = np.array(self._buf[self._pos : self._pos + n], dtype=np.uint64)
            self._pos += n
            return out
        head = self._buf[self._pos :]
        self._buf = []
        self._pos = 0
        tail = self._bg.random_raw(n - avail).astype(np.uint64, copy=False)
        if not head:
            return tail
        return np.concatenate((np.array(head, dtype=np.uint64), tail))

    def discard(self, n: int) -> None:
        """Skip ``n`` words (``std::mt19937::discard``)."""
        self.take(n)

    def _unread(self, words: np.ndarray | list[int]) -> None:
        """Push words back so the next draws return them again (used after a vectorised over-draw)."""
        words = words.tolist() if isinstance(words, np.ndarray) else list(words)
        if not words:
            return
        self._buf = words + self._buf[self._pos :]
        self._pos = 0
        self._consumed -= len(words)


def _lemire_retry(eng: Mt19937, erange: int, threshold: int) -> int:
    """Keep drawing until a word is accepted for ``erange`` (the rejection loop of Lemire's method)."""
    while True:
        product = eng.next_u32() * erange
        if (product & _U32_MASK) >= threshold:
            return product >> 32


def uniform_int(eng: Mt19937, a: int, b: int) -> int:
    """``std::uniform_int_distribution(a, b)(eng)`` as libstdc++ (GCC >= 11) computes it."""
    urange = b - a
    if urange < 0:
        raise ValueError(f"uniform_int: empty range [{a}, {b}]")
    if urange < _U32_MASK:
        erange = urange + 1
        product = eng.next_u32() * erange
        if (product & _U32_MASK) < erange:
            # Only now is the (costly) modulo needed; most draws never get here.
            threshold = (_TWO_32 - erange) % erange
            if (product & _U32_MASK) < threshold:
                return a + _lemire_retry(eng, erange, threshold)
        return a + (product >> 32)
    if urange == _U32_MASK:
        return a + eng.next_u32()
    # Wider than the engine: libstdc++ composes a high part (recursively) with one raw low word and retries
    # on overflow. Never needed by LoadGen (ranges are sample counts), kept for completeness.
    while True:
        high = uniform_int(eng, 0, urange >> 32)
        tmp = (high << 32) & 0xFFFFFFFFFFFFFFFF
        ret = (tmp + eng.next_u32()) & 0xFFFFFFFFFFFFFFFF
        if not (ret > urange or ret < tmp):
            return a + ret


def uniform_int_array(eng: Mt19937, a: int, b: int, n: int) -> np.ndarray:
    """``n`` draws of ``uniform_int(eng, a, b)`` as an int64 array, vectorised.

    With a fixed range a word is rejected iff its low product half is below the threshold, and a rejected
    word is simply followed by the next one; so the results are exactly the accepted words of the stream, in
    order. Drawing just the shortfall each round never over-draws, so the engine ends where n scalar calls
    would leave it.
    """
    n = int(n)
    urange = b - a
    if urange < 0:
        raise ValueError(f"uniform_int_array: empty range [{a}, {b}]")
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    if urange > _U32_MASK:
        return np.array([uniform_int(eng, a, b) for _ in range(n)], dtype=np.int64)
    if urange == _U32_MASK:
        return eng.take(n).astype(np.int64) + a
    erange = urange + 1
    threshold = (_TWO_32 - erange) % erange
    rng = np.uint64(erange)
    thr32 = np.uint32(threshold)
    out = np.empty(n, dtype=np.int64)
    filled = 0
    while filled < n:
        # Chunks keep the temporaries cache-sized; each round draws only the shortfall, never more.
        k = min(n - filled, _CHUNK)
        product = eng.take(k)
        np.multiply(product, rng, out=product)
        if _LITTLE_ENDIAN:
            halves = product.view(np.uint32)
            low, high = halves[0::2], halves[1::2]
        else:
            low = (product & np.uint64(_U32_MASK)).astype(np.uint32)
            high = product >> np.uint64(32)
        if threshold:
            bad = low < thr32
            if bad.any():
                high = high[~bad]
        out[filled : filled + high.size] = high
        filled += high.size
    if a:
        out += a
    return out


def _bounded_draws(eng: Mt19937, eranges: np.ndarray) -> np.ndarray:
    """One Lemire draw in ``[0, eranges[j])`` per step j (each < 2**32), consuming words exactly as the
    sequential draws would.

    With a range that changes per step, a rejection shifts which word each later step sees, so a block is
    accepted only up to its first rejection; the rejected step is finished scalar-wise and the unused words
    are pushed back. The block length adapts: long when rejections are rare, short when frequent (ranges
    just above 2**31 reject about half the words).
    """
    m = eranges.size
    out = np.empty(m, dtype=np.int64)
    thresholds = (np.uint64(_TWO_32) - eranges) % eranges
    mask = np.uint64(_U32_MASK)
    block = 1024
    j = 0
    while j < m:
        k = min(block, m - j)
        words = eng.take(k)
        rng = eranges[j : j + k]
        product = words * rng
        bad = (product & mask) < thresholds[j : j + k]
        if not bad.any():
            out[j : j + k] = (product >> np.uint64(32)).astype(np.int64)
            j += k
            block = min(block * 2, 1 << 16)
            continue
        f = int(bad.argmax())
        out[j : j + f] = (product[:f] >> np.uint64(32)).astype(np.int64)
        eng._unread(words[f + 1 :])
        out[j + f] = _lemire_retry(eng, int(rng[f]), int(thresholds[j + f]))
        j += f + 1
        block = max(16, 2 * f + 16)
    return out


def _shuffle_swaps(eng: Mt19937, n: int) -> tuple[str, np.ndarray]:
    """The random draws ``std::shuffle`` makes for ``n`` elements: ("pairs", x) or ("classic", j)."""
    if (_U32_MASK // n) >= n:
        # Two swaps per draw: for position i the swap range is r = i + 1, draw x in [0, r * (r + 1)).
        # An even n first does one single swap of position 1 with a draw in [0, 2).
        ranges: list[int] = []
        start = 1
        if n % 2 == 0:
            ranges.append(2)
            start = 2
        r = np.arange(start + 1, n + 1, 2, dtype=np.uint64)
        er = np.concatenate((np.array(ranges, dtype=np.uint64), r * (r + np.uint64(1))))
        return "pairs", _bounded_draws(eng, er)
    return "classic", _bounded_draws(eng, np.arange(2, n + 1, dtype=np.uint64))


def _apply_swaps(seq: list[Any], kind: str, draws: np.ndarray) -> None:
    n = len(seq)
    vals = draws.tolist()
    if kind == "classic":
        for i, j in enumerate(vals, 1):
            seq[i], seq[j] = seq[j], seq[i]
        return
    pos = 0
    i = 1
    if n % 2 == 0:
        j = vals[0]
        seq[1], seq[j] = seq[j], seq[1]
        pos = 1
        i = 2
    while i < n:
        b1 = i + 2  # the second swap's range, r + 1 with r = i + 1
        x = vals[pos]
        pos += 1
        j1, j2 = divmod(x, b1)
        seq[i], seq[j1] = seq[j1], seq[i]
        seq[i + 1], seq[j2] = seq[j2], seq[i + 1]
        i += 2


def shuffle(eng: Mt19937, seq: list[Any]) -> None:
    """``std::shuffle(seq.begin(), seq.end(), eng)`` in place, as libstdc++ does it."""
    n = len(seq)
    if n == 0:
        return
    if n == 1:
        # libstdc++ still takes the "pairs" branch for n == 1 but has nothing to swap: no draws.
        return
    kind, draws = _shuffle_swaps(eng, n)
    _apply_swaps(seq, kind, draws)


def shuffled_range(eng: Mt19937, n: int) -> np.ndarray:
    """``std::shuffle`` of ``0 .. n-1`` as an int64 array."""
    seq = list(range(int(n)))
    shuffle(eng, seq)
    return np.array(seq, dtype=np.int64)


def generate_canonical(eng: Mt19937) -> float:
    """``std::generate_canonical<double, 53>(eng)``: (low + high * 2**32) / 2**64 in double arithmetic.

    The sum is rounded to 53 bits, so it can reach 2**64 exactly; libstdc++ then returns the largest double
    below 1.
    """
    low = eng.next_u32()
    high = eng.next_u32()
    u = (float(low) + float(high) * _TWO_32_F) / _TWO_64_F
    return _BELOW_ONE if u >= 1.0 else u


def generate_canonical_array(eng: Mt19937, n: int) -> np.ndarray:
    """``n`` calls of ``generate_canonical`` as a float64 array (exactly 2 words each)."""
    words = eng.take(2 * int(n)).reshape(-1, 2).astype(np.float64)
    u = (words[:, 0] + words[:, 1] * _TWO_32_F) / _TWO_64_F
    u[u >= 1.0] = _BELOW_ONE
    return u


def uniform_real(eng: Mt19937, a: float, b: float) -> float:
    """``std::uniform_real_distribution<double>(a, b)(eng)`` (libstdc++: ``u * (b - a) + a``)."""
    return generate_canonical(eng) * (b - a) + a


def exponential_interval_ns(eng: Mt19937, lam: float) -> int:
    """One Server inter-arrival gap: ``duration_cast<nanoseconds>(duration<double>(exp(lam)))``.

    The cast multiplies the seconds by 1e9 in double and truncates toward zero.
    """
    u = generate_canonical(eng)
    seconds = -math.log(1.0 - u) / lam
    return int(seconds * 1e9)


def exponential_intervals_ns(eng: Mt19937, lam: float, n: int) -> np.ndarray:
    """``n`` calls of ``exponential_interval_ns`` as an int64 array.

    The logarithm goes through ``math.log`` (the C library's ``log``, as the C++ calls) rather than
    ``np.log``: numpy may use its own SIMD log, which can differ in the last bit and, very rarely, move a
    truncated nanosecond.
    """
    one_minus = (1.0 - generate_canonical_array(eng, n)).tolist()
    logs = np.fromiter(map(math.log, one_minus), dtype=np.float64, count=len(one_minus))
    seconds = -logs / float(lam)
    return np.trunc(seconds * 1e9).astype(np.int64)


def constant_interval_ns(target_qps: float) -> int:
    """The fixed query spacing of every scenario but Server.

    The official computes ``duration_cast<nanoseconds>(duration<double>(1.0 / qps))``: the reciprocal, then
    x 1e9, each rounded to double, then truncated. Going through 1/qps matters: for SingleStream
    ``target_qps = 1e9 / expected_latency_ns`` and the round trip can land just below an integer.
    """
    return int((1.0 / float(target_qps)) * 1e9)
