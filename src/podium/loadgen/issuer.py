"""Issuing one series of pre-generated queries to the SUT, per scenario (spec loadgen.md §2.3).

Latency origins: Server from the ideal scheduled time (late issuing counts against the SUT); SingleStream and
MultiStream from the moment of issue, after the previous query completed; Offline from the series start.
The loops walk plain Python ints (``tolist`` in chunks) and read the clock once per query.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, cast

import numpy as np

from podium.loadgen.clock import Clock
from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.recorder import SeriesRecorder
from podium.loadgen.schedule import Schedule
from podium.loadgen.settings import Scenario, TestMode
from podium.loadgen.types import FastSystemUnderTest, QuerySample, SystemUnderTest

_CHUNK = 8192
# QuerySample(a, b) runs the namedtuple's Python-level __new__ (~210 ns here); tuple.__new__ builds the same
# object in half the time, and the issue loop makes one per sample.
_new_sample = tuple.__new__


@dataclass
class IssueOutcome:
    """What the issuing loop did: times and counts the results need."""

    start_ns: int
    start_wall_ns: int
    queries_issued: int = 0
    samples_issued: int = 0
    #: actual issue time per query (SingleStream/MultiStream/Offline); Server keeps lateness_ns instead
    issued_times_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Server: issue time minus scheduled time per query, int32 ns (saturates at 2.1 s) - 4 bytes a query
    lateness_ns: np.ndarray | None = None
    #: Server: exact lateness of the queries issued 2.1 s or more late (the int32 array saturates)
    lateness_overflow: dict[int, int] = field(default_factory=dict)
    #: Server: each issued query's offset from the start (a view of the schedule, no copy)
    scheduled_offsets_ns: np.ndarray | None = None
    ended_naturally: bool = False
    ran_out: bool = False
    stop_reason: str | None = None  # error message when issuing stopped early
    aborted: bool = False
    issue_return_ns: int = 0  # Offline: when the single issue call returned
    #: latest completion of the series (the end of its power window); set when the series has ended
    max_completion_ns: int = 0
    #: samples the SUT reported as failed (answered empty) during the series
    sut_failed_samples: int = 0

    @property
    def issued_ns(self) -> np.ndarray:
        """Actual issue time per query (Server: rebuilt on demand from schedule + lateness)."""
        if self.lateness_ns is not None and self.scheduled_offsets_ns is not None:
            issued = self.scheduled_offsets_ns + self.start_ns + self.lateness_ns
            for q, d in self.lateness_overflow.items():
                issued[q] = int(self.scheduled_offsets_ns[q]) + self.start_ns + d
            return np.asarray(issued)
        return np.asarray(self.issued_times_ns)

    def issued(self, q: int) -> int:
        if self.lateness_ns is not None and self.scheduled_offsets_ns is not None:
            late = self.lateness_overflow.get(q, int(self.lateness_ns[q]))
            return int(self.scheduled_offsets_ns[q]) + self.start_ns + late
        return int(self.issued_times_ns[q])

    @property
    def scheduled_abs_ns(self) -> np.ndarray:
        """Each issued query's scheduled time: Server from the Poisson schedule; SingleStream/MultiStream at
        issue; Offline at the start. Built on demand (a full-size array)."""
        if self.scheduled_offsets_ns is not None:
            return self.scheduled_offsets_ns + self.start_ns
        return self.issued_ns

    def scheduled_abs(self, q: int) -> int:
        if self.scheduled_offsets_ns is not None:
            return int(self.scheduled_offsets_ns[q]) + self.start_ns
        return int(self.issued_ns[q])


class Issuer:
    """Runs the issue loop of one series against a SUT."""

    def __init__(self, clock: Clock, sut: SystemUnderTest, settings: EffectiveSettings, mode: TestMode,
                 error: Callable[[str, str], None], completion_timeout_ns: int,
                 abort: Any) -> None:
        self.clock = clock
        self.sut = sut
        self.settings = settings
        self.mode = mode
        self.error = error
        self.completion_timeout_ns = completion_timeout_ns
        self.abort = abort  # any object whose ``aborted`` attribute turns True to stop issuing
        self.fast = callable(getattr(sut, "issue_arrays", None))
        self.timed_out = False

    # ------------------------------------------------------------------------------------------------------
    def run(self, schedule: Schedule, rec: SeriesRecorder) -> IssueOutcome:
        scenario = self.settings.scenario
        if scenario is Scenario.Server:
            return self._run_server(schedule, rec)
        if scenario is Scenario.Offline:
            return self._run_offline(schedule, rec)
        return self._run_stream(schedule, rec)

    def _ids(self, rec: SeriesRecorder, n: int) -> np.ndarray:
        return np.arange(rec.base_id, rec.base_id + n, dtype=np.int64)

    # ---- Offline -------------------------------------------------------------------------------------------
    def _run_offline(self, schedule: Schedule, rec: SeriesRecorder) -> IssueOutcome:
        n = len(schedule.samples)
        ids = self._ids(rec, n)
        if not self.fast:
            query = [_new_sample(QuerySample, p) for p in zip(ids.tolist(), schedule.samples.tolist())]
        clock = self.clock
        out = IssueOutcome(start_ns=clock.now(), start_wall_ns=clock.wall_ns())
        t = clock.now()
        out.start_ns = t
        if self.fast:
            cast(FastSystemUnderTest, self.sut).issue_arrays(ids, schedule.samples)
        else:
            self.sut.issue_queries(query)
            del query
        out.issue_return_ns = clock.now()
        out.queries_issued = 1
        out.samples_issued = n
        out.issued_times_ns = np.array([t], dtype=np.int64)
        out.scheduled_offsets_ns = np.zeros(1, dtype=np.int64)  # Offline latency counts from the start
        out.ended_naturally = self.mode is not TestMode.AccuracyOnly
        return out

    # ---- SingleStream / MultiStream ------------------------------------------------------------------------
    def _run_stream(self, schedule: Schedule, rec: SeriesRecorder) -> IssueOutcome:
        s = self.settings
        spq = schedule.samples_per_query
        nq = schedule.query_count
        accuracy = self.mode is TestMode.AccuracyOnly
        clock = self.clock
        now = clock.now
        issue: Callable[..., None] = (cast(FastSystemUnderTest, self.sut).issue_arrays if self.fast
                                      else self.sut.issue_queries)
        fast = self.fast
        samples_np = schedule.samples
        base_id = rec.base_id
        issued = array("q", [0]) * nq
        min_q = s.min_query_count
        target_dur = s.target_duration_ns
        max_q = 0 if accuracy else s.max_query_count
        max_dur = 0 if accuracy else s.max_duration_ns
        out = IssueOutcome(start_ns=now(), start_wall_ns=clock.wall_ns())
        start = out.start_ns
        q = 0
        nissued = 0
        stop = False
        for c0 in range(0, nq, _CHUNK):
            c1 = min(c0 + _CHUNK, nq)
            if fast:
                ids_np = np.arange(base_id + c0 * spq, base_id + c1 * spq, dtype=np.int64)
                smp_np = samples_np[c0 * spq:c1 * spq]
            else:
                ids_l = list(range(base_id + c0 * spq, base_id + c1 * spq))
                smp_l = samples_np[c0 * spq:c1 * spq].tolist()
            for j in range(c1 - c0):
                q = c0 + j
                if nissued:
                    # wait for the previous query to complete (one query in flight at most)
                    if rec.completed < nissued * spq and not self._wait(rec, nissued * spq):
                        stop = True
                        break
                t = now()
                if fast:
                    a = j * spq
                    issue(ids_np[a:a + spq], smp_np[a:a + spq])
                elif spq == 1:
                    issue([_new_sample(QuerySample, (ids_l[j], smp_l[j]))])
                else:
                    a = j * spq
                    issue([_new_sample(QuerySample, p) for p in zip(ids_l[a:a + spq], smp_l[a:a + spq])])
                issued[q] = t
                nissued += 1
                if accuracy:
                    continue
                if nissued >= min_q and t - start >= target_dur:
                    out.ended_naturally = True
                    stop = True
                    break
                if self._must_stop(out, nissued, t - start, max_q, max_dur):
                    stop = True
                    break
            if stop:
                break
        if not accuracy and not stop:
            out.ran_out = True
        out.queries_issued = nissued
        out.samples_issued = nissued * spq
        out.issued_times_ns = np.frombuffer(issued, dtype=np.int64)[:nissued]
        return out

    # ---- Server --------------------------------------------------------------------------------------------
    def _run_server(self, schedule: Schedule, rec: SeriesRecorder) -> IssueOutcome:
        s = self.settings
        nq = schedule.query_count
        accuracy = self.mode is TestMode.AccuracyOnly
        clock = self.clock
        now = clock.now
        sleep_until = clock.sleep_until
        fast = self.fast
        issue: Callable[..., None] = (cast(FastSystemUnderTest, self.sut).issue_arrays if fast
                                      else self.sut.issue_queries)
        samples_np = schedule.samples
        base_id = rec.base_id
        late = array("i", [0]) * nq
        cap = 2_147_483_647
        over: dict[int, int] = {}
        max_async = 0 if accuracy else s.max_async_queries
        max_q = 0 if accuracy else s.max_query_count
        max_dur = 0 if accuracy else s.max_duration_ns
        checks = bool(max_async or max_q or max_dur)
        coalesce = bool(s.requested.server_coalesce_queries)
        out = IssueOutcome(start_ns=now(), start_wall_ns=clock.wall_ns())
        start = out.start_ns
        nissued = 0
        stop = False
        q = 0
        limits = bool(max_q or max_dur)
        abort = self.abort
        if not coalesce and not fast and not max_async:
            # The common case, kept lean: one query = one sample, the plain SUT interface.
            while q < nq and not stop:
                c1 = min(q + _CHUNK, nq)
                sch = (schedule.scheduled_ns[q:c1] + start).tolist()
                ids_l = list(range(base_id + q, base_id + c1))
                smp_l = samples_np[q:c1].tolist()
                for j in range(c1 - q):
                    target = sch[j]
                    t = now()
                    if t < target:
                        sleep_until(target)
                        t = now()
                    issue([_new_sample(QuerySample, (ids_l[j], smp_l[j]))])
                    d = t - target
                    if d < cap:
                        late[q + j] = d
                    else:  # more than 2.1 s late: keep the exact figure aside
                        late[q + j] = cap
                        over[q + j] = d
                    if abort.aborted or (limits and self._must_stop(out, q + j + 1, t - start, max_q, max_dur)):
                        out.aborted = out.aborted or abort.aborted
                        nissued = q + j + 1
                        stop = True
                        break
                else:
                    nissued = c1
                q = nissued
            q = nq  # skip the general loop below
        while q < nq and not stop:
            c1 = min(q + _CHUNK, nq)
            sch = (schedule.scheduled_ns[q:c1] + start).tolist()
            if fast:
                ids_np = np.arange(base_id + q, base_id + c1, dtype=np.int64)
                smp_np = samples_np[q:c1]
            else:
                ids_l = list(range(base_id + q, base_id + c1))
                smp_l = samples_np[q:c1].tolist()
            c0 = q
            j = 0
            n_chunk = c1 - c0
            while j < n_chunk:
                target = sch[j]
                t = now()
                if t < target:
                    sleep_until(target)
                    t = now()
                if coalesce:
                    j2 = j + 1
                    while j2 < n_chunk and sch[j2] <= t:
                        j2 += 1
                else:
                    j2 = j + 1
                if fast:
                    issue(ids_np[j:j2], smp_np[j:j2])
                elif j2 == j + 1:
                    issue([_new_sample(QuerySample, (ids_l[j], smp_l[j]))])
                else:
                    issue([_new_sample(QuerySample, p) for p in zip(ids_l[j:j2], smp_l[j:j2])])
                if j2 == j + 1:
                    d = t - target
                    if d < cap:
                        late[c0 + j] = d
                    else:  # more than 2.1 s late: keep the exact figure aside
                        late[c0 + j] = cap
                        over[c0 + j] = d
                else:
                    for jj in range(j, j2):
                        d = t - sch[jj]
                        if d < cap:
                            late[c0 + jj] = d
                        else:
                            late[c0 + jj] = cap
                            over[c0 + jj] = d
                nissued += j2 - j
                j = j2
                if checks:
                    if max_async and nissued - rec.completed_queries > max_async:
                        self._stop(out, "IssueQueryThread 0 Ending early: Too many outstanding queries. issued "
                                   f"{nissued} outstanding {nissued - rec.completed_queries}")
                        stop = True
                        break
                if self._must_stop(out, nissued, t - start, max_q, max_dur):
                    stop = True
                    break
            q = c0 + j
        out.queries_issued = nissued
        out.samples_issued = nissued
        out.lateness_ns = np.frombuffer(late, dtype=np.int32)[:nissued]
        out.lateness_overflow = over
        out.scheduled_offsets_ns = schedule.scheduled_ns[:nissued]
        return out

    # ---- waiting -------------------------------------------------------------------------------------------
    def _must_stop(self, out: IssueOutcome, nissued: int, elapsed: int, max_q: int, max_dur: int) -> bool:
        """The official max_query_count / max_duration checks (in that order), then podium's abort flag."""
        if max_q and nissued >= max_q:
            self._stop(out, f"IssueQueryThread 0 Ending early: Max query count reached. query_count {nissued}")
            return True
        if max_dur and elapsed > max_dur:
            self._stop(out, f"IssueQueryThread 0 Ending early: Max test duration reached. duration_ns {elapsed}")
            return True
        if self.abort.aborted:
            out.aborted = True
            return True
        return False

    def _stop(self, out: IssueOutcome, message: str) -> None:
        out.stop_reason = message
        self.error("error_runtime", message)

    def _wait(self, rec: SeriesRecorder, target: int) -> bool:
        """Block until ``target`` samples of the series are complete; False on completion timeout."""
        if not rec.arm(target):
            return True
        try:
            while True:
                if self.clock.wait(rec.event, min(self.completion_timeout_ns, 250_000_000)):
                    return True
                if rec.completed >= target:
                    return True
                idle = self.clock.now() - rec.last_progress_ns
                if idle >= self.completion_timeout_ns or self.abort.aborted:
                    self.timed_out = not self.abort.aborted
                    return False
        finally:
            rec.disarm()

    def wait_all(self, rec: SeriesRecorder, target: int) -> bool:
        """The end-of-series wait: every issued sample must complete (or the completion timeout fires)."""
        return self._wait(rec, target)
