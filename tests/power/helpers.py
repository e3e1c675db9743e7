"""Helpers for the power tests: short real LoadGen runs and exact simulated-clock runs."""

from __future__ import annotations

import time
from pathlib import Path

from podium.loadgen import (
    BaseSUT,
    LogSettings,
    Scenario,
    SimpleQSL,
    TestMode,
    TestSettings,
    start_test,
)
from podium.loadgen.clock import SimClock


class SleepySUT(BaseSUT):
    """Answers each query after ``service_s`` per sample of sleeping, inside ``issue_queries`` (real clock)."""

    name = "SleepySUT"

    def __init__(self, service_s: float = 0.002) -> None:
        super().__init__()
        self.service_s = service_s

    def issue_queries(self, samples):
        time.sleep(self.service_s * len(samples))
        self.complete([(s.id, b"\x00") for s in samples])


def real_run(out: Path, scenario: str = "SingleStream", duration_ms: int = 300, service_s: float = 0.002,
             contributors=()) -> Path:
    """One short performance run on the real clock, logs into ``out``; returns ``out``."""
    sc = Scenario.parse(scenario)
    settings = TestSettings(scenario=sc, mode=TestMode.PerformanceOnly, min_duration_ms=duration_ms,
                            # >= 100 queries whatever the machine's load: early stopping needs 64 (p90)
                            min_query_count=100 if sc is Scenario.SingleStream else 1,
                            single_stream_expected_latency_ns=service_s * 1e9 / 2,
                            multi_stream_expected_latency_ns=service_s * 1e9 * 8,
                            offline_expected_qps=0.5 / service_s, server_target_qps=200.0,
                            server_target_latency_ns=1_000_000_000)
    start_test(SleepySUT(service_s), SimpleQSL(64, 64), settings, LogSettings(outdir=str(out)), audit_config=None,
               contributors=contributors)
    return out


class SimFifoSUT(BaseSUT):
    """One FIFO worker on a ``SimClock``: every sample takes ``service_ns``."""

    name = "SimFifoSUT"

    def __init__(self, clock: SimClock, service_ns: int) -> None:
        super().__init__()
        self.clock = clock
        self.service_ns = service_ns
        self.free_at = 0

    def issue_queries(self, samples):
        for s in samples:
            start = max(self.clock.now(), self.free_at)
            self.free_at = start + self.service_ns
            self.clock.call_at(self.free_at, lambda r=[(s.id, b"\x00")]: self.complete(r))


def sim_run(out: Path, scenario: str, wall_start_ns: int, service_ns: int = 10_000_000,
            duration_ms: int = 1000, **extra) -> Path:
    """A performance run on the simulated clock whose wall time starts at ``wall_start_ns`` (exact logs)."""
    clock = SimClock(wall_start_ns=wall_start_ns)
    settings = TestSettings(scenario=Scenario.parse(scenario), mode=TestMode.PerformanceOnly,
                            min_duration_ms=duration_ms, min_query_count=1,
                            single_stream_expected_latency_ns=service_ns,
                            multi_stream_expected_latency_ns=service_ns * 8,
                            offline_expected_qps=1e9 / service_ns, server_target_qps=0.5e9 / service_ns,
                            server_target_latency_ns=1_000_000_000, **extra)
    start_test(SimFifoSUT(clock, service_ns), SimpleQSL(64, 64), settings, LogSettings(outdir=str(out)),
               clock=clock, audit_config=None)
    return out


def zone(path: Path, name: str, energy_uj: int, max_uj: int) -> Path:
    """A fake powercap zone folder: ``name``, ``energy_uj``, ``max_energy_range_uj``."""
    path.mkdir(parents=True)
    (path / "name").write_text(name + "\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path
