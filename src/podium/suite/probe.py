"""Short sizing runs through the real system under test, before a short run's measured tests.

A backend timed on its own misses what the harness adds (worker threads, the batch size it really forms, the
network): the digits model timed at batch 8 ran 25k samples/s where the harness ran 63k/s, so an Offline
query sized from it ended before its minimum duration. These probes run the LoadGen itself, warmed, on the
SUT the tests will use, and keep their logs in the run folder's ``calibration/`` (never read as results).

Called from the suite's thread, between tests (never while a test runs); each probe is one ``start_test``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.loadgen import LogSettings, RunOptions, Scenario, TestMode, TestResult, TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest

#: one probe test: ``start_test`` or a wrapper with its signature
RunTest = Callable[..., TestResult]

OFFLINE_PROBE_MS = 600
SERVER_PROBE_MS = 1500
#: a confirmation that fails halves the target, at most this many times
MAX_SERVER_TRIES = 5
#: a short probe passes only with this much of the latency bound to spare: a longer run sees a longer tail
SERVER_HEADROOM = 0.5


@dataclass
class ProbeRecord:
    """One sizing probe: what it ran at and what it measured."""

    scenario: str
    target: float
    measured: float
    p99_ms: float | None
    passed: bool
    folder: str


@dataclass
class Sizing:
    """The outcome of the probes: the rate chosen and how."""

    value: float
    how: str
    probes: list[ProbeRecord] = field(default_factory=list)


def _probe_options(options: RunOptions) -> RunOptions:
    return dataclasses.replace(options, write_samples=False, labels=[*options.labels, "sizing probe"])


def measure_offline_rate(run_test: RunTest, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, folder: Path,
                         options: RunOptions, guess_sps: float) -> Sizing:
    """The harness's Offline rate from a warmed probe: a first probe warms the SUT and sizes the next one."""
    guess = max(guess_sps, 1.0)
    probes: list[ProbeRecord] = []
    rate = guess
    for attempt in range(3):
        s = dataclasses.replace(settings, scenario=Scenario.Offline, mode=TestMode.PerformanceOnly,
                                offline_expected_qps=guess * 2, min_duration_ms=OFFLINE_PROBE_MS, min_query_count=1)
        out = folder / f"offline_{attempt}"
        res = run_test(sut, qsl, s, LogSettings(outdir=str(out)), options=_probe_options(options),
                       audit_config=None)
        p = res.performance
        if p is None or not p.samples_per_second > 0 or p.samples_per_second == float("inf"):
            break
        rate = float(p.samples_per_second)
        probes.append(ProbeRecord("Offline", guess * 2, rate, None, True, str(out)))
        long_enough = p.max_latency_s >= 0.8 * OFFLINE_PROBE_MS / 1000
        if attempt >= 1 and long_enough:
            break  # the second probe ran warmed and long enough: its rate is the measurement
        guess = rate
    how = (f"a warmed {OFFLINE_PROBE_MS} ms Offline probe through the harness measured {rate:,.0f} samples/s"
           if probes else f"the backend measured {guess_sps:,.0f} samples/s (the harness probe measured nothing)")
    return Sizing(rate if probes else guess_sps, how, probes)


def confirm_server_target(run_test: RunTest, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, folder: Path,
                          options: RunOptions, target_qps: float) -> Sizing:
    """The highest of ``target_qps``, /2, /4 ... that a short Server probe runs within the latency bound."""
    q = target_qps
    probes: list[ProbeRecord] = []
    bound_ms = settings.server_target_latency_ns / 1e6
    for k in range(MAX_SERVER_TRIES):
        s = dataclasses.replace(settings, scenario=Scenario.Server, mode=TestMode.PerformanceOnly,
                                server_target_qps=q, min_duration_ms=SERVER_PROBE_MS, min_query_count=1)
        out = folder / f"server_{k}"
        res = run_test(sut, qsl, s, LogSettings(outdir=str(out)), options=_probe_options(options),
                       audit_config=None)
        p = res.performance
        p99_ns = p.sample_percentiles.get(0.99) if p is not None else None
        p99 = p99_ns / 1e6 if p99_ns else None
        ok = bool(p is not None and p.perf_constraints_met and not p.timed_out and not p.sut_failed_samples
                  and not res.failure and p99 is not None and p99 <= SERVER_HEADROOM * bound_ms)
        probes.append(ProbeRecord("Server", q, float(p.scheduled_samples_per_second) if p else 0.0, p99, ok,
                                  str(out)))
        if ok:
            lower = f" after {k} lower tries" if k else ""
            return Sizing(q, f"a {SERVER_PROBE_MS} ms Server probe at {q:,.1f} QPS had p99 {p99:.3f} ms, within half "
                          f"the {bound_ms:g} ms bound{lower}",
                          probes)
        if res.failure or (p is not None and (p.sut_failed_samples or p.timed_out)):
            break  # the SUT failed: a lower rate would not tell more
        q = round(q / 2, 3)
    last = probes[-1]
    return Sizing(last.target, f"no Server probe had p99 within half the {bound_ms:g} ms bound (the lowest, {last.target:,.1f} QPS, "
                  f"had p99 {last.p99_ms if last.p99_ms is not None else float('nan'):.3f} ms); the run uses "
                  "that rate and will likely be INVALID", probes)
