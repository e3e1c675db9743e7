"""Clocks for the LoadGen engine: the real one for runs, a simulated one for exact, sleep-free tests.

The engine only ever reads time through a ``Clock``: ``now()`` (integer ns), ``sleep_until(t)`` and
``wait(event, timeout_ns)``. ``SimClock`` advances virtual time instantly and runs callbacks a simulated SUT
schedules with ``call_at``, so schedules, latencies and validity can be asserted to the nanosecond.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Callable, Protocol


class Clock(Protocol):
    """What the engine needs of a clock."""

    def now(self) -> int: ...

    def wall_ns(self) -> int: ...

    def sleep_until(self, t_ns: int) -> None: ...

    def wait(self, event: threading.Event, timeout_ns: int) -> bool: ...


def _set_timer_slack(ns: int) -> int | None:
    """Set this thread's Linux timer slack; returns the previous value, or None where unsupported.

    The default 50 µs slack makes every ``time.sleep`` wake ~70 µs late here; with 1 ns it wakes ~20 µs late,
    so the issuer can sleep closer to each deadline and spin less (a spinning process loses the CPU to
    sleepers when the machine is busy, which shows up as p99 issue lateness).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        old = libc.prctl(30, 0, 0, 0, 0)  # PR_GET_TIMERSLACK
        if old < 0 or libc.prctl(29, ns, 0, 0, 0) != 0:  # PR_SET_TIMERSLACK
            return None
        return int(old)
    except (OSError, AttributeError):
        return None


class RealClock:
    """``perf_counter_ns`` for measurement; sleeps coarse, then spins for the last ``spin_margin_ns``.

    ``time.sleep`` overshoots by ~100 µs here, so the last stretch before a deadline is a busy spin. The spin
    holds the GIL, but only for the margin, and the engine lowers the GIL switch interval during a run
    (``RunOptions.gil_switch_interval_s``) so SUT threads written in Python still get it promptly. Spinning
    with ``sleep(0)`` instead would give the CPU away to other processes and arrive late under load.
    """

    def __init__(self, spin_margin_ns: int = 30_000) -> None:
        self.spin_margin_ns = spin_margin_ns
        self.now = time.perf_counter_ns

    def prepare(self) -> "Callable[[], None]":
        """Tune the calling (issuing) thread for accurate sleeps; returns the function that undoes it."""
        old = _set_timer_slack(1)
        if old is None:
            return lambda: None
        def undo() -> None:
            _set_timer_slack(old)

        return undo

    def wall_ns(self) -> int:
        return time.time_ns()

    def sleep_until(self, t_ns: int) -> None:
        now = time.perf_counter_ns
        delta = t_ns - now()
        if delta > self.spin_margin_ns:
            time.sleep((delta - self.spin_margin_ns) * 1e-9)
        while now() < t_ns:
            pass

    def wait(self, event: threading.Event, timeout_ns: int) -> bool:
        return event.wait(max(timeout_ns, 0) * 1e-9)


class SimClock:
    """Virtual time for tests. Callbacks scheduled with ``call_at`` run, in time order, when the engine sleeps
    or waits past their time; ``now()`` reads the virtual time and never moves by itself.

    Single-threaded by design: a simulated SUT completes samples only from callbacks, so every test is exact.
    """

    def __init__(self, start_ns: int = 1_000_000_000, wall_start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._now = start_ns
        self._wall_offset = wall_start_ns - start_ns
        self._events: list[tuple[int, int, Callable[[], None]]] = []
        self._counter = itertools.count()

    def now(self) -> int:
        return self._now

    def wall_ns(self) -> int:
        return self._now + self._wall_offset

    def advance(self, delta_ns: int) -> None:
        """Move time forward (e.g. to model work done inside a synchronous SUT call), running due callbacks."""
        self.sleep_until(self._now + delta_ns)

    def call_at(self, t_ns: int, fn: Callable[[], None]) -> None:
        """Run ``fn`` when virtual time reaches ``t_ns`` (at once on the next sleep/wait if already due)."""
        heapq.heappush(self._events, (max(t_ns, self._now), next(self._counter), fn))

    def _run_next(self) -> None:
        t, _, fn = heapq.heappop(self._events)
        self._now = max(self._now, t)
        fn()

    def sleep_until(self, t_ns: int) -> None:
        while self._events and self._events[0][0] <= t_ns:
            self._run_next()
        self._now = max(self._now, t_ns)

    def wait(self, event: threading.Event, timeout_ns: int) -> bool:
        deadline = self._now + max(timeout_ns, 0)
        while not event.is_set():
            if not self._events or self._events[0][0] > deadline:
                self._now = max(self._now, deadline)
                return event.is_set()
            self._run_next()
        return True
