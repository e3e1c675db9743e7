"""One running test's shared state: completions from any thread, Ctrl-C, AbortTest and the progress snapshot.

``start_test`` makes a ``Session`` per test and registers it while the test runs, so that ``abort_test`` (the
official ``AbortTest``), ``progress`` (for displays, from any thread) and the SIGINT handler reach it.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable

import numpy as np

from podium.loadgen import logs
from podium.loadgen.clock import Clock
from podium.loadgen.recorder import SeriesRecorder
from podium.loadgen.schedule import Schedule
from podium.loadgen.settings import Scenario


class Session:
    """State of one running test: the current series' recorder receives completions from any thread."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.rec: SeriesRecorder | None = None
        self.aborted = False
        #: Ctrl-C arrived (the run stops issuing and ends INVALID "interrupted")
        self.interrupted = False
        #: the SUT or QSL raised: what failed
        self.failure: str | None = None
        self.failure_exc: BaseException | None = None
        self.detail: logs.DetailLog | None = None
        self.stray_errors = 0
        self.series_name = ""
        self._now = clock.now
        self.schedule: Schedule | None = None
        self.scenario: Scenario | None = None
        self.expected_s: float | None = None
        self.started_ns = clock.now()
        self.series_started_ns = self.started_ns

    def complete(self, responses: Any, t_ns: int | None = None) -> None:
        t = self._now()
        if t_ns is not None and t_ns < t:
            t = int(t_ns)
        rec = self.rec
        if rec is None:
            self._error("error_runtime", "Received completion outside of a running series.")
            return
        rec.complete(responses, t)

    def complete_ids(self, ids: Any, data: Any = None, n_tokens: Any = None) -> None:
        t = self.clock.now()
        rec = self.rec
        if rec is None:
            self._error("error_runtime", "Received completion outside of a running series.")
            return
        rec.complete_ids(ids, data, t, n_tokens)

    def first_token(self, responses: Any, t_ns: int | None = None) -> None:
        """First tokens of samples (LoadGen 6.0.x ``FirstTokenComplete``); same contract as ``complete``."""
        t = self._now()
        if t_ns is not None and t_ns < t:
            t = int(t_ns)
        rec = self.rec
        if rec is None:
            self._error("error_runtime", "Received a first token outside of a running series.")
            return
        rec.first_token(responses, t)

    def _error(self, key: str, message: str) -> None:
        if self.detail is not None:
            self.detail.log(key, message, error=True, depth=2)
        else:
            self.stray_errors += 1


ACTIVE: list[Session] = []
ACTIVE_LOCK = threading.Lock()


def progress() -> dict[str, Any] | None:
    """A snapshot of the running test for progress displays (None when no test runs); thread-safe, cheap."""
    with ACTIVE_LOCK:
        session = ACTIVE[-1] if ACTIVE else None
    if session is None:
        return None
    rec = session.rec
    d: dict[str, Any] = {"series": session.series_name, "elapsed_s": (session.clock.now() - session.started_ns) / 1e9}
    if rec is not None:
        elapsed_ns = session.clock.now() - session.series_started_ns
        sched = session.schedule
        if sched is not None and session.scenario is Scenario.Server:
            issued = int(np.searchsorted(sched.scheduled_ns, elapsed_ns, side="right"))  # due by now
        elif session.scenario is Scenario.Offline:
            issued = rec.n
        else:
            issued = min((rec.completed_queries + 1) * rec.spq, rec.n)
        d.update(completed=rec.completed, generated=rec.n, issued=issued, series_elapsed_s=elapsed_ns / 1e9,
                 expected_s=session.expected_s)
    return d


def first_token_complete(responses: Any, t_ns: int | None = None) -> None:
    """Report the first token of samples to the running test (the official ``FirstTokenComplete``).

    Callable from any thread while a test runs, once per sample, before that sample's completion; each
    response is ``(id, data)`` (a ``QuerySampleResponse``), the data being the first token's bytes, copied
    before the call returns when the sample is accuracy-logged. TTFT is measured from the sample's scheduled
    time (Server) or its query's issue (other scenarios) to this call — or to ``t_ns`` (a podium extension,
    ``time.perf_counter_ns`` of this machine) when the caller stamped the token's arrival itself, e.g. in
    another process; a ``t_ns`` after the call is taken as the call's. With no test running the call is
    counted as a stray error, never raised.
    """
    with ACTIVE_LOCK:
        session = ACTIVE[-1] if ACTIVE else None
    if session is None:
        return
    session.first_token(responses, t_ns)


def abort_test() -> None:
    """Stop issuing in every running test (the official ``AbortTest``); the runs end INVALID with their logs."""
    with ACTIVE_LOCK:
        for s in ACTIVE:
            s.aborted = True


def catch_sigint(session: Session) -> Callable[[], None]:
    """Turn the first Ctrl-C into a graceful stop of ``session``; returns the function that restores the handler.

    Only in the main thread and only over Python's default handler (an application's own handler is left
    alone). The handler just sets flags: it may run while the main thread holds a SUT lock, so it calls
    nothing. A second Ctrl-C raises ``KeyboardInterrupt`` at once.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        previous = signal.getsignal(signal.SIGINT)
    except (ValueError, OSError):
        return lambda: None
    if previous is not signal.default_int_handler:
        return lambda: None

    def on_sigint(signum: int, frame: Any) -> None:
        if session.interrupted:
            raise KeyboardInterrupt
        session.interrupted = session.aborted = True
        print("\npodium: interrupted: stopping the run and writing the logs of what was measured "
              "(Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, on_sigint)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore
