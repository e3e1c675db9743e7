"""Performance results of a run: latencies, the scenario metric, early stopping and validity (spec §2.5, §5).

Computed once, on whole numpy arrays, after the series ends. Field names follow the official
``PerformanceSummary``; ``metrics`` holds the ``result_*`` detail-log keys with the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.loadgen import early_stopping as es
from podium.loadgen import stats
from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.issuer import IssueOutcome
from podium.loadgen.recorder import SeriesRecorder
from podium.loadgen.settings import Scenario

PERCENTILES = (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)


#: why a run stopped by Ctrl-C is INVALID, in every log and result
INTERRUPTED_REASON = "Interrupted (Ctrl-C) before the run finished; the figures cover only what was measured."


def pct_label(p: float) -> str:
    """``DoubleToString(p * 100)``: fixed, two decimals ("99.90")."""
    return "%.2f" % (p * 100)


@dataclass
class PerformanceResult:
    """Everything the summary, detail log and podium_result.json report for a performance run."""

    scenario: Scenario
    settings: EffectiveSettings
    sut_name: str
    sample_count: int
    query_count: int
    sample_latency_min: int = 0
    sample_latency_max: int = 0
    sample_latency_mean: int = 0
    sample_percentiles: dict[float, int] = field(default_factory=dict)
    target_sample_latency: int = 0
    query_latency_min: int = 0
    query_latency_max: int = 0
    query_latency_mean: int = 0
    query_percentiles: dict[float, int] = field(default_factory=dict)
    target_query_latency: int = 0
    overlatency_query_count: int = 0
    max_latency_s: float = 0.0
    final_query_scheduled_time_s: float = 0.0
    final_query_issued_time_s: float = 0.0
    final_query_all_samples_done_time_s: float = 0.0
    min_duration_met: bool = False
    min_queries_met: bool = False
    perf_constraints_met: bool = True
    early_stopping: es.EarlyStoppingResult | None = None
    min_duration_recommendation: str = ""
    perf_constraints_recommendation: str = ""
    #: podium-only figures (the official hides them): issue lateness or inter-query gap, in ns
    lateness: dict[str, Any] = field(default_factory=dict)
    incomplete_samples: int = 0
    timed_out: bool = False
    #: samples the SUT answered empty because they failed there (harness error, network request failure)
    sut_failed_samples: int = 0
    #: the SUT's own one line on those failures (its optional ``describe_failures``), e.g. the first error
    sut_failure_note: str = ""
    #: the run was stopped by Ctrl-C before it finished (podium)
    interrupted: bool = False
    #: what failed when the SUT or QSL raised (podium), e.g. "SUT issue_queries raised ValueError: ..."
    failure: str = ""
    power_begin_wall_ns: int = 0
    power_end_wall_ns: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def early_stopping_met(self) -> bool:
        return True if self.early_stopping is None else self.early_stopping.met

    @property
    def valid(self) -> bool:
        return (self.min_duration_met and self.min_queries_met and self.perf_constraints_met
                and self.early_stopping_met and not self.timed_out and not self.sut_failed_samples
                and not self.interrupted and not self.failure)

    @property
    def duration_s(self) -> float:
        return self.final_query_issued_time_s

    @property
    def invalid_reasons(self) -> list[str]:
        reasons = []
        if not self.perf_constraints_met:
            reasons.append(self.perf_constraints_recommendation)
        if not self.min_duration_met:
            reasons.append(self.min_duration_recommendation)
        if not self.min_queries_met:
            reasons.append("The test exited early, before enough queries were issued.")
        if not self.early_stopping_met:
            reasons.append("Early stopping criteria not met.")
        if self.timed_out:
            reasons.append(f"{self.incomplete_samples} samples never completed (completion timeout).")
        if self.sut_failed_samples:
            reasons.append(f"{self.sut_failed_samples} samples failed in the SUT (answered empty).")
        if self.interrupted:
            reasons.append(INTERRUPTED_REASON)
        if self.failure:
            reasons.append(f"The run failed: {self.failure}.")
        return reasons

    # ---- scenario metric --------------------------------------------------------------------------------
    @property
    def scheduled_samples_per_second(self) -> float:
        return _div(self.sample_count - 1, self.final_query_scheduled_time_s)

    @property
    def completed_samples_per_second(self) -> float:
        return _div(self.sample_count - 1, self.final_query_all_samples_done_time_s)

    @property
    def samples_per_second(self) -> float:
        return _div(self.sample_count, self.max_latency_s)

    @property
    def qps_with_loadgen_overhead(self) -> float:
        return _div(self.sample_count - 1, self.final_query_issued_time_s)

    @property
    def qps_without_loadgen_overhead(self) -> float:
        return _div(1.0, self.sample_latency_mean / 1e9)


def _div(a: float, b: float) -> float:
    if b == 0:
        return float("inf") if a > 0 else (float("nan") if a == 0 else float("-inf"))
    return a / b


def compute(settings: EffectiveSettings, sut_name: str, out: IssueOutcome, rec: SeriesRecorder,
            timed_out: bool) -> PerformanceResult:
    """Turn one performance series' raw times into the official figures and validity."""
    scenario = settings.scenario
    spq = rec.spq
    n_issued = out.samples_issued
    done = rec.done_np[:n_issued]
    # Latencies are computed in place in one array: the arrays of a long run are most of its memory.
    lat = done.copy()
    if scenario is Scenario.Offline:
        lat -= out.start_ns
    elif scenario is Scenario.Server:
        assert out.scheduled_offsets_ns is not None  # Server keeps its schedule
        lat -= out.scheduled_offsets_ns  # spq == 1
        lat -= out.start_ns
    elif spq == 1:
        lat -= out.issued_ns
    else:
        lat -= np.repeat(out.issued_ns, spq)
    incomplete = int(np.count_nonzero(done == 0))
    if incomplete:
        lat = lat[done != 0]
    r = PerformanceResult(scenario=scenario, settings=settings, sut_name=sut_name,
                          sample_count=int(len(lat)), query_count=out.queries_issued)
    r.incomplete_samples = incomplete
    r.timed_out = timed_out or incomplete > 0
    r.sut_failed_samples = out.sut_failed_samples

    if len(lat):
        r.sample_latency_mean = int(lat.sum()) // len(lat)  # integer division, as the official
        lat.sort()
        lat_sorted = lat
        r.sample_latency_min = int(lat_sorted[0])
        r.sample_latency_max = int(lat_sorted[-1])
        r.target_sample_latency = stats.percentile(lat_sorted, settings.target_latency_percentile)
        r.sample_percentiles = {p: stats.percentile(lat_sorted, p) for p in PERCENTILES}
        r.max_latency_s = r.sample_latency_max / 1e9
    else:
        lat_sorted = lat

    nq = out.queries_issued
    if nq:
        last = nq - 1
        r.final_query_scheduled_time_s = (out.scheduled_abs(last) - out.start_ns) / 1e9
        r.final_query_issued_time_s = (out.issued(last) - out.start_ns) / 1e9
        if scenario is Scenario.Server or scenario is Scenario.SingleStream:
            last_done = int(done[last])
        else:
            last_done = int(rec.query_done[0 if scenario is Scenario.Offline else last])
        r.final_query_all_samples_done_time_s = (last_done - out.start_ns) / 1e9 if last_done else 0.0

    if scenario is Scenario.MultiStream and nq:
        qd = np.frombuffer(rec.query_done, dtype=np.int64)[:nq]
        qmask = qd != 0
        ql = np.sort((qd - out.issued_ns)[qmask])
        if len(ql):
            r.query_latency_mean = int(ql.sum()) // len(ql)
            r.query_latency_min = int(ql[0])
            r.query_latency_max = int(ql[-1])
            r.target_query_latency = stats.percentile(ql, settings.target_latency_percentile)
            r.query_percentiles = {p: stats.percentile(ql, p) for p in PERCENTILES}
    else:
        ql = None

    if scenario is Scenario.Server and len(lat_sorted):
        limit = settings.target_latency_ns + 1
        r.overlatency_query_count = int(len(lat_sorted) - np.searchsorted(lat_sorted, limit, side="left"))

    # ---- validity (official PerformanceSummary) ----
    min_dur_s = settings.min_duration_ms / 1000.0
    if scenario is Scenario.Offline:
        r.min_duration_met = r.max_latency_s >= min_dur_s
        r.min_duration_recommendation = ("Increase expected QPS so the loadgen pre-generates a larger "
                                         "(coalesced) query.")
    elif scenario is Scenario.Server:
        r.min_duration_met = r.final_query_scheduled_time_s >= min_dur_s
        r.min_duration_recommendation = "Increase the target QPS so the loadgen pre-generates more queries."
    else:
        r.min_duration_met = r.final_query_issued_time_s >= min_dur_s
        r.min_duration_recommendation = ("Decrease the expected latency so the loadgen pre-generates more "
                                         "queries.")
    r.min_queries_met = (out.queries_issued >= settings.min_query_count
                         and r.sample_count >= settings.min_sample_count)
    if scenario is Scenario.Server:
        if r.target_sample_latency > settings.target_latency_ns:
            r.perf_constraints_met = False
            r.perf_constraints_recommendation = "Reduce target QPS to improve latency."

    # early stopping uses queries issued (the official passes pr.queries_issued)
    if scenario is Scenario.SingleStream:
        r.early_stopping = es.early_stopping_single_stream(lat_sorted, settings.target_latency_percentile,
                                                           queries_issued=min(nq, len(lat_sorted)))
    elif scenario is Scenario.MultiStream:
        r.early_stopping = es.early_stopping_multi_stream(ql if ql is not None else np.zeros(0, np.int64),
                                                          settings.target_latency_percentile,
                                                          queries_issued=min(nq, len(ql) if ql is not None else 0))
    elif scenario is Scenario.Server:
        r.early_stopping = es.early_stopping_server(lat_sorted, settings.target_latency_ns,
                                                    settings.target_latency_percentile,
                                                    queries_issued=min(nq, len(lat_sorted)))

    # ---- podium-only: how late were queries issued? ----
    if scenario is Scenario.Server and nq and out.lateness_ns is not None:
        late = out.lateness_ns.astype(np.int64)
        for q, d in out.lateness_overflow.items():
            late[q] = d
        r.lateness = _dist("issue_lateness", late)
    elif scenario in (Scenario.SingleStream, Scenario.MultiStream) and nq > 1:
        prev_done = (done[np.arange(nq - 1)] if scenario is Scenario.SingleStream
                     else np.frombuffer(rec.query_done, dtype=np.int64)[:nq - 1])
        gap = out.issued_ns[1:] - prev_done
        r.lateness = _dist("issue_gap", gap[prev_done != 0])
    elif scenario is Scenario.Offline and nq:
        r.lateness = _dist("issue_call", np.array([max(out.issue_return_ns - out.issued(0), 0)]))

    r.power_begin_wall_ns = out.start_wall_ns
    r.power_end_wall_ns = out.start_wall_ns + (out.max_completion_ns - out.start_ns)
    r.metrics = detail_metrics(r)
    return r


def _dist(name: str, values: np.ndarray) -> dict[str, Any]:
    if len(values) == 0:
        return {"kind": name, "count": 0}
    v = np.sort(values)
    return {"kind": name, "count": int(len(v)), "p50_ns": stats.percentile(v, 0.5),
            "p99_ns": stats.percentile(v, 0.99), "max_ns": int(v[-1]), "mean_ns": int(v.sum()) // len(v)}


def detail_metrics(r: PerformanceResult) -> dict[str, Any]:
    """The ``result_*`` (and early-stopping) detail-log entries, in the official order, with their values."""
    m: dict[str, Any] = {}
    m["result_validity"] = "VALID" if r.valid else "INVALID"
    if r.scenario is Scenario.Server:
        m["result_perf_constraints_met"] = r.perf_constraints_met
    m["result_min_duration_met"] = r.min_duration_met
    m["result_min_queries_met"] = r.min_queries_met
    m["early_stopping_met"] = r.early_stopping_met
    if not r.valid:
        rec = ""
        if not r.perf_constraints_met:
            rec += r.perf_constraints_recommendation + " "
        if not r.min_duration_met:
            rec += r.min_duration_recommendation + " "
        if not r.min_queries_met:
            rec += "The test exited early, before enough queries were issued."
        if r.timed_out:
            rec += f"{r.incomplete_samples} samples never completed (completion timeout). "
        if r.sut_failed_samples:
            rec += f"{r.sut_failed_samples} samples failed in the SUT (answered empty)."
        m["result_invalid_reason"] = rec  # verbatim: the official keeps the trailing space after each part
    m["early_stopping_result"] = (r.early_stopping.text if r.early_stopping else "").replace("\n", " ")
    m["result_query_count"] = r.query_count
    if r.scenario is Scenario.Server:
        m["result_overlatency_query_count"] = r.overlatency_query_count
    if r.scenario is Scenario.SingleStream:
        m["result_qps_with_loadgen_overhead"] = r.qps_with_loadgen_overhead
        m["result_qps_without_loadgen_overhead"] = r.qps_without_loadgen_overhead
        m["early_stopping_latency_ss"] = (r.early_stopping.estimate_ns or 0) if r.early_stopping else 0
        m["early_stopping_latency_ms"] = (r.early_stopping.estimate_99_ns or 0) if r.early_stopping else 0
    elif r.scenario is Scenario.MultiStream:
        m["result_min_query_latency_ns"] = r.query_latency_min
        m["result_max_query_latency_ns"] = r.query_latency_max
        m["result_mean_query_latency_ns"] = r.query_latency_mean
        for p in PERCENTILES:
            m[f"result_{pct_label(p)}_percentile_per_query_latency_ns"] = r.query_percentiles.get(p, 0)
        m["early_stopping_latency_ms"] = (r.early_stopping.estimate_ns or 0) if r.early_stopping else 0
    elif r.scenario is Scenario.Server:
        m["result_scheduled_samples_per_sec"] = r.scheduled_samples_per_second
        m["result_completed_samples_per_sec"] = r.completed_samples_per_second
    else:
        m["result_samples_per_second"] = r.samples_per_second
    m["result_min_latency_ns"] = r.sample_latency_min
    m["result_max_latency_ns"] = r.sample_latency_max
    m["result_mean_latency_ns"] = r.sample_latency_mean
    for p in PERCENTILES:
        m[f"result_{pct_label(p)}_percentile_latency_ns"] = r.sample_percentiles.get(p, 0)
    return m
