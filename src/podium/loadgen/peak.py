"""``find_peak``: podium's peak-performance search, with fewer and shorter probes than the official one.

Server: the official FindPeakPerformance runs a full-length test for every probe (exponential widening, then
bisection to a decimal of QPS). Podium first measures capacity with one Offline probe (the SUT's throughput
bounds what Server can sustain), bisects the Server QPS with short probes between half of that capacity and
the capacity itself, then confirms the best passing QPS with full-length runs and reports how sure it is. SingleStream
and MultiStream have no QPS to search; there podium finds the *settled* latency percentile: it doubles the
run length until two consecutive probes agree within the tolerance.

Every probe keeps its own log folder; nothing measured is thrown away.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import PodiumError
from podium.files import write_json_atomic
from podium.loadgen.clock import Clock
from podium.loadgen.run import TestResult, start_test
from podium.loadgen.settings import LogSettings, RunOptions, Scenario, TestMode, TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest


#: confirmation rates, as fractions of the highest short-probe pass, tried in turn until one passes
CONFIRM_STEPS = (1.0, 0.9, 0.8, 0.65, 0.5, 0.35, 0.25)


@dataclass
class Probe:
    """One short run of the search."""

    kind: str  # "capacity" | "bisect" | "confirm" | "settle"
    scenario: str
    target: float  # QPS for Server/Offline probes, duration in ms for settle probes
    duration_ms: int
    valid: bool
    metric: float
    latency_ns: int  # the target-percentile sample (or query) latency
    reason: str
    outdir: str
    wall_s: float


@dataclass
class PeakResult:
    """The search outcome: the figure, every probe, and the confidence in the figure."""

    scenario: str
    value: float  # Server: peak VALID QPS; SingleStream/MultiStream: settled percentile latency (ns)
    unit: str
    probes: list[Probe] = field(default_factory=list)
    confidence: dict[str, Any] = field(default_factory=dict)
    total_run_s: float = 0.0
    bracket: tuple[float, float] | None = None
    #: Server: a full-length confirmation passed at ``value`` (False: no rate was confirmed, ``value`` is 0)
    confirmed: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return d

    def summary(self) -> str:
        """One line for people: the figure and how sure it is (never a bare 0 or a raw dict)."""
        c = self.confidence
        if self.scenario != "Server":
            state = "settled" if c.get("settled") else f"not settled within {c.get('tolerance', 0):.0%}"
            return (f"settled latency: {self.value / 1e6:,.3f} ms ({state}; last two probes "
                    + " / ".join(f"{v / 1e6:,.3f}" for v in c.get("last_two", [])) + " ms)")
        if not self.confirmed:
            if "confirm_rates_tried" in c:
                tried = c["confirm_rates_tried"]
                return (f"peak: none confirmed: short probes passed up to {c['highest_short_probe_pass']:,.1f} "
                        f"QPS, but {c['confirm_duration_ms'] / 1000:g} s confirmation runs failed at every rate "
                        f"tried down to {tried[-1]:,.1f} QPS")
            return (f"peak: none found: no short Server probe was VALID (capacity estimate "
                    f"{c.get('capacity_estimate_qps', 0):,.1f} samples/s)")
        lo, hi = self.bracket or (self.value, self.value)
        return (f"peak: {self.value:,.2f} {self.unit} (confirmed {c['confirmations_valid']} at "
                f"{c['confirm_duration_ms'] / 1000:g} s; latency headroom {c['latency_headroom_at_peak']:.0%}; "
                f"short probes bracket [{lo:,.1f}, {hi:,.1f}); capacity ~{c['capacity_estimate_qps']:,.0f}/s)")


def _probe(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, outdir: Path, kind: str, target: float,
           options: RunOptions | None, clock: Clock | None) -> tuple[Probe, TestResult]:
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = start_test(sut, qsl, settings, LogSettings(outdir=str(outdir)), options=options, audit_config=None,
                     clock=clock)
    wall = time.perf_counter() - t0
    p = res.performance
    if p is None:
        raise PodiumError(f"{outdir}: probe produced no performance result")
    if p.scenario is Scenario.Server:
        metric, lat = p.scheduled_samples_per_second, p.target_sample_latency
    elif p.scenario is Scenario.Offline:
        metric, lat = p.samples_per_second, p.target_sample_latency
    elif p.scenario is Scenario.MultiStream:
        metric, lat = float(p.target_query_latency), p.target_query_latency
    else:
        metric, lat = float(p.target_sample_latency), p.target_sample_latency
    probe = Probe(kind=kind, scenario=p.scenario.value, target=target, duration_ms=settings.min_duration_ms,
                  valid=p.valid, metric=float(metric), latency_ns=int(lat), reason="; ".join(p.invalid_reasons),
                  outdir=str(outdir), wall_s=wall)
    return probe, res


def find_peak(
    sut: SystemUnderTest,
    qsl: QuerySampleLibrary,
    settings: TestSettings,
    outdir: str | Path,
    *,
    probe_ms: int = 1500,
    tolerance: float = 0.02,
    confirm_runs: int = 1,
    confirm_ms: int | None = None,
    max_probes: int = 24,
    options: RunOptions | None = None,
    clock: Clock | None = None,
) -> PeakResult:
    """Search the peak: Server → highest VALID QPS; SingleStream/MultiStream → settled latency.

    ``settings`` gives the latency bound, percentile, seeds and (as ``min_duration_ms``) the length of the
    confirmation runs unless ``confirm_ms`` is given. ``probe_ms`` is the length of each search probe.
    """
    out = Path(outdir)
    scenario = Scenario(settings.scenario)
    t_start = time.perf_counter()
    if scenario is Scenario.Server:
        result = _find_server_peak(sut, qsl, settings, out, probe_ms, tolerance, confirm_runs,
                                   confirm_ms or settings.min_duration_ms, max_probes, options, clock)
    elif scenario in (Scenario.SingleStream, Scenario.MultiStream):
        result = _find_settled_latency(sut, qsl, settings, out, probe_ms, tolerance, max_probes, options, clock)
    else:
        raise PodiumError("find_peak: Offline has no peak to search (its metric is already the throughput); "
                          "use Server, SingleStream or MultiStream")
    result.total_run_s = time.perf_counter() - t_start
    write_json_atomic(out / "find_peak.json", result.to_dict())
    return result


def _base(settings: TestSettings, **changes: Any) -> TestSettings:
    return dataclasses.replace(settings, mode=TestMode.PerformanceOnly, **changes)


def _find_server_peak(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, out: Path, probe_ms: int, tol: float,
                      confirm_runs: int, confirm_ms: int, max_probes: int, options: RunOptions | None,
                      clock: Clock | None) -> PeakResult:
    probes: list[Probe] = []
    # 1. capacity: one Offline probe, resized once if it finished too fast to be a measurement
    guess = max(float(settings.server_target_qps), 1.0)
    capacity = 0.0
    for attempt in range(4):
        off = _base(settings, scenario=Scenario.Offline, offline_expected_qps=guess,
                    min_duration_ms=max(probe_ms // 2, 1), min_query_count=1)
        pr, res = _probe(sut, qsl, off, out / f"probe_{len(probes):02d}_capacity", "capacity", guess, options, clock)
        probes.append(pr)
        capacity = pr.metric
        ran_s = res.performance.max_latency_s if res.performance else 0.0
        if ran_s >= 0.4 * off.min_duration_ms / 1000 or attempt == 3:
            break
        guess = capacity  # it ran too fast: size the next probe from what it measured
    if not capacity or capacity != capacity or capacity == float("inf"):
        raise PodiumError("find_peak: the capacity probe measured no throughput")

    # 2. bisection with short Server probes
    # A Server run above the sustained throughput is only VALID because it is short (its queue has not yet
    # grown past the bound), so the search never goes above the measured capacity.
    lo, hi = 0.0, capacity
    best: Probe | None = None
    q = capacity * 0.5
    while len(probes) < max_probes:
        s = _base(settings, server_target_qps=q, min_duration_ms=probe_ms, min_query_count=1)
        pr, _ = _probe(sut, qsl, s, out / f"probe_{len(probes):02d}_server_{q:.1f}", "bisect", q, options, clock)
        probes.append(pr)
        if pr.valid:
            lo = q
            best = pr
        else:
            hi = q
        if lo == 0.0:
            q = q / 2  # even half of capacity failed: keep halving
            if q < 1e-3:
                break
            continue
        if (hi - lo) / lo <= tol:
            break
        q = (lo + hi) / 2
    if best is None:
        return PeakResult(scenario="Server", value=0.0, unit="queries/s", probes=probes, confirmed=False,
                          confidence={"note": "no short probe was VALID", "lowest_tried": q,
                                      "capacity_estimate_qps": capacity}, bracket=(0.0, hi))

    # 3. confirm at full length. A rate that passes short probes can fail a longer run (the queue of a system
    # just over its sustained rate grows slowly), so a failed confirmation steps down, in growing steps, until
    # one passes; the reported peak is the highest rate every confirmation run of it passed.
    peak = lo
    passes = 0
    confirmed: float | None = None
    tried: list[float] = []
    for factor in CONFIRM_STEPS:
        peak = round(lo * factor, 3)
        if peak <= 0:
            break
        tried.append(peak)
        passes = 0
        for i in range(confirm_runs):
            s = _base(settings, server_target_qps=peak, min_duration_ms=confirm_ms)
            pr, res = _probe(sut, qsl, s, out / f"probe_{len(probes):02d}_confirm_{peak:.1f}", "confirm", peak,
                             options, clock)
            probes.append(pr)
            passes += pr.valid
            if not pr.valid:
                break
        if passes == confirm_runs:
            confirmed = peak
            break
        hi = peak
    bound = settings.server_target_latency_ns
    last_confirm = [p for p in probes if p.kind == "confirm"][-confirm_runs:]
    headroom = min((bound - p.latency_ns) / bound for p in last_confirm)
    return PeakResult(
        scenario="Server", value=confirmed or 0.0, unit="queries/s", probes=probes, confirmed=confirmed is not None,
        bracket=(lo, hi),
        confidence={
            "confirmations_valid": f"{passes}/{confirm_runs}",
            "confirm_duration_ms": confirm_ms,
            "confirm_rates_tried": tried,
            "highest_short_probe_pass": lo,
            "bracket_relative_width": (hi - lo) / lo if lo else None,
            "latency_headroom_at_peak": headroom,
            "capacity_estimate_qps": capacity,
            "note": ("peak = highest QPS VALID in every full-length confirmation run (stepping down from the "
                     "highest short-probe pass until one is)"),
        })


def _find_settled_latency(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, out: Path, probe_ms: int, tol: float,
                          max_probes: int, options: RunOptions | None, clock: Clock | None) -> PeakResult:
    from podium.loadgen.logs import read_detail_log  # noqa: F401 - keeps the log reader close at hand

    probes: list[Probe] = []
    duration = probe_ms
    scen = Scenario(settings.scenario)
    expected_key = ("single_stream_expected_latency_ns" if scen is Scenario.SingleStream
                    else "multi_stream_expected_latency_ns")
    expected = getattr(settings, expected_key)
    prev: float | None = None
    value = 0.0
    settled = False
    while len(probes) < max_probes:
        s = _base(settings, min_duration_ms=duration, min_query_count=1, **{expected_key: expected})
        pr, res = _probe(sut, qsl, s, out / f"probe_{len(probes):02d}_settle_{duration}ms", "settle", duration,
                         options, clock)
        probes.append(pr)
        p = res.performance
        if p is None:
            break  # the probe measured nothing (it failed): no latency to settle on
        mean = p.query_latency_mean if scen is Scenario.MultiStream else p.sample_latency_mean
        if mean > 0:
            expected = max(mean // 2, 1)  # pre-generate enough queries for the next, longer probe
        value = float(pr.latency_ns)
        if prev is not None and value > 0 and abs(value - prev) / value <= tol:
            settled = True
            break
        prev = value
        duration *= 2
    return PeakResult(
        scenario=scen.value, value=value, unit="ns", probes=probes,
        confidence={"settled": settled, "tolerance": tol,
                    "last_two": [p.latency_ns for p in probes[-2:]],
                    "note": "settled = the percentile changed by at most the tolerance when the run doubled"})
