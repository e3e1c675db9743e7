"""Simulated SUTs and run helpers for the compliance tests (all on ``SimClock``: exact, no sleeping)."""

from __future__ import annotations

import json
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

#: The v2.1 mlperf.conf seeds (the reference runs use these; TEST05 swaps them).
SEEDS = {"qsl_rng_seed": 14284205019438841327, "sample_index_rng_seed": 4163916728725999944,
         "schedule_rng_seed": 299063814864929621}


class FifoSUT(BaseSUT):
    """One FIFO worker on the simulated clock. ``service_ns(index)`` is the time a sample takes and
    ``answer(index)`` its response bytes; subclasses override them."""

    name = "FifoSUT"

    def __init__(self, clock: SimClock, service_ns: int = 1_000_000) -> None:
        super().__init__()
        self.clock = clock
        self.base_ns = service_ns
        self.free_at = 0
        self.indices: list[int] = []

    def service_ns(self, index: int) -> int:
        return self.base_ns

    def answer(self, index: int) -> bytes:
        return int(index).to_bytes(4, "little")

    def issue_queries(self, samples):
        for s in samples:
            self.indices.append(s.index)
            start = max(self.clock.now(), self.free_at)
            self.free_at = start + self.service_ns(s.index)
            resp = [(s.id, self.answer(s.index))]
            self.clock.call_at(self.free_at, lambda r=resp: self.complete(r))


class DeterministicSUT(FifoSUT):
    """Answers are a function of the QSL index; every sample takes the same time."""

    name = "DeterministicSUT"


class CachingSUT(FifoSUT):
    """Remembers results by sample index: the first time an index is seen it takes ``miss_ns``, later
    ``hit_ns`` (the cheat TEST04 is there to catch)."""

    name = "CachingSUT"

    def __init__(self, clock: SimClock, miss_ns: int = 1_000_000, hit_ns: int = 10_000) -> None:
        super().__init__(clock, miss_ns)
        self.hit_ns = hit_ns
        self.seen: set[int] = set()

    def service_ns(self, index: int) -> int:
        if index in self.seen:
            return self.hit_ns
        self.seen.add(index)
        return self.base_ns


class CounterSUT(FifoSUT):
    """Answers depend on how many samples it has answered before: not reproducible between runs."""

    name = "CounterSUT"

    def __init__(self, clock: SimClock, service_ns: int = 1_000_000) -> None:
        super().__init__(clock, service_ns)
        self.count = 0

    def answer(self, index: int) -> bytes:
        self.count += 1
        return bytes([(index + self.count) % 256]) + b"\x00\x00\x00"


class NoisyButCorrectSUT(FifoSUT):
    """Correct answers (bytes 1..4 = the QSL index) behind a first byte that changes on every answer: TEST01's
    first-byte comparison fails, yet the scored accuracy of baseline and compliance logs is the same."""

    name = "NoisyButCorrectSUT"

    def __init__(self, clock: SimClock, service_ns: int = 1_000_000) -> None:
        super().__init__(clock, service_ns)
        self.count = 0

    def answer(self, index: int) -> bytes:
        self.count += 1
        return bytes([self.count % 256]) + int(index).to_bytes(4, "little")


def index_scorer(offset: int):
    """An accuracy "script" for these SUTs: the share of responses whose 4 bytes at ``offset`` are the QSL index,
    printed like the ImageNet script (``accuracy=…%, good=…, total=…``)."""

    def score(path: Path) -> str:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        good = sum(1 for e in entries
                   if int.from_bytes(bytes.fromhex(e["data"])[offset:offset + 4], "little") == e["qsl_idx"])
        total = len(entries)
        return f"accuracy={100.0 * good / max(total, 1):.3f}%, good={good}, total={total}"

    return score


def settings_for(scenario: Scenario, **kw) -> TestSettings:
    """Short, valid runs of each scenario on a 1 ms-per-sample SUT (the query counts govern their length)."""
    base = dict(SEEDS, scenario=scenario, min_duration_ms=1, min_query_count=200)
    if scenario is Scenario.SingleStream:
        base.update(single_stream_expected_latency_ns=1_000_000)
    elif scenario is Scenario.MultiStream:
        base.update(multi_stream_expected_latency_ns=8_000_000, min_query_count=662)
    elif scenario is Scenario.Offline:
        base.update(offline_expected_qps=1000)
    elif scenario is Scenario.Server:
        base.update(server_target_qps=500, server_target_latency_ns=50_000_000, min_duration_ms=2000,
                    min_query_count=500)
    base.update(kw)
    return TestSettings(**base)


def qsl(total: int = 256, perf: int = 256) -> SimpleQSL:
    return SimpleQSL(total, perf)


def reference_runs(make_sut, settings: TestSettings, results_dir: Path, clock: SimClock,
                   total: int = 256, perf: int = 256) -> tuple[Path, Path]:
    """The submission's accuracy run and performance run, in the results layout
    (``<results_dir>/accuracy`` and ``<results_dir>/performance/run_1``)."""
    acc_dir = results_dir / "accuracy"
    perf_dir = results_dir / "performance" / "run_1"
    start_test(make_sut(), qsl(total, perf), settings.copy(mode=TestMode.AccuracyOnly),
               LogSettings(outdir=str(acc_dir)), audit_config=None, clock=clock)
    res = start_test(make_sut(), qsl(total, perf), settings.copy(mode=TestMode.PerformanceOnly),
                     LogSettings(outdir=str(perf_dir)), audit_config=None, clock=clock)
    assert res.valid, (perf_dir / "mlperf_log_summary.txt").read_text()
    return acc_dir, perf_dir
