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
from podium.loadgen.rules import V2_1, RoundRules
from podium.loadgen.settings import Scenario
from podium.loadgen.token_metrics import TokenEarlyStopping, TokenResult, token_early_stopping, token_results

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
    #: the round whose LoadGen computed and reports these figures
    rules: RoundRules = V2_1
    #: LoadGen 6.0.x token latencies (``use_token_latencies``): TTFT, TPOT, token count
    tokens: TokenResult | None = None
    #: early stopping on TPOT then TTFT, replacing ``early_stopping`` when tokens are measured
    token_early_stopping: TokenEarlyStopping | None = None

    @property
    def early_stopping_met(self) -> bool:
        if self.tokens is not None:
            return True if self.token_early_stopping is None else self.token_early_stopping.met
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

    # ---- token metrics (LoadGen 6.0.x) --------------------------------------------------------------------
    @property
    def token_count(self) -> int:
        return self.tokens.token_count if self.tokens is not None else 0

    @property
    def tokens_per_second(self) -> float:
        """Offline: tokens / the last completion's latency."""
        return _div(self.token_count, self.max_latency_s)

    @property
    def completed_tokens_per_second(self) -> float:
        """Server: tokens / the time the last query's samples were all done."""
        return _div(self.token_count, self.final_query_all_samples_done_time_s)

    @property
    def tokens_per_second_with_loadgen_overhead(self) -> float:
        return _div(self.token_count, self.final_query_issued_time_s)

    @property
    def inferred_tokens_per_second(self) -> float:
        """Offline with ``infer_token_latencies``: samples/s x the scaling factor."""
        return _div(self.settings.token_latency_scaling_factor * self.sample_count, self.max_latency_s)

    @property
    def inferred_completed_tokens_per_second(self) -> float:
        return _div((self.sample_count - 1) * self.settings.token_latency_scaling_factor,
                    self.final_query_all_samples_done_time_s)


def _div(a: float, b: float) -> float:
    if b == 0:
        return float("inf") if a > 0 else (float("nan") if a == 0 else float("-inf"))
    return a / b


def compute(settings: EffectiveSettings, sut_name: str, out: IssueOutcome, rec: SeriesRecorder,
            timed_out: bool, rules: RoundRules = V2_1) -> PerformanceResult:
    """Turn one performance series' raw times into the official figures and validity, as ``rules``' LoadGen
    computes them (LoadGen 6.0.x: token latencies when the series measured them)."""
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
    tokens = None
    if rec.tokens:  # a LoadGen 6.0.x series with use_token_latencies
        assert rec.first_np is not None and rec.n_tokens_np is not None
        ok = done != 0
        origin = done - lat  # each sample's latency origin on the clock
        tokens = token_results(lat[ok], rec.first_np[:n_issued][ok], origin[ok], rec.n_tokens_np[:n_issued][ok],
                               settings.target_latency_percentile)
    if incomplete:
        lat = lat[done != 0]
    r = PerformanceResult(scenario=scenario, settings=settings, sut_name=sut_name,
                          sample_count=int(len(lat)), query_count=out.queries_issued, rules=rules, tokens=tokens)
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
        if tokens is None:
            if r.target_sample_latency > settings.target_latency_ns:
                r.perf_constraints_met = False
                r.perf_constraints_recommendation = "Reduce target QPS to improve latency."
        else:
            parts = []
            if tokens.target_first_token_latency > settings.server_ttft_latency:
                parts.append("TTFT constrain not met: Reduce target QPS to improve latency.")
            if tokens.target_tpot > settings.server_tpot_latency:
                parts.append("TPOT constrain not met: Reduce target QPS to improve latency.")
            if parts:
                r.perf_constraints_met = False
                r.perf_constraints_recommendation = "\n * ".join(parts)  # the official's wording, typo kept

    # early stopping uses queries issued (the official passes pr.queries_issued)
    decimals = rules.percentile_label_decimals
    if tokens is not None:
        r.token_early_stopping = token_early_stopping(
            scenario.value, tokens, ql, min(nq, len(lat_sorted)) if scenario is not Scenario.MultiStream
            else min(nq, len(ql) if ql is not None else 0), settings.target_latency_percentile,
            settings.server_ttft_latency, settings.server_tpot_latency, decimals)
    elif scenario is Scenario.SingleStream:
        r.early_stopping = es.early_stopping_single_stream(lat_sorted, settings.target_latency_percentile,
                                                           queries_issued=min(nq, len(lat_sorted)),
                                                           decimals=decimals)
    elif scenario is Scenario.MultiStream:
        r.early_stopping = es.early_stopping_multi_stream(ql if ql is not None else np.zeros(0, np.int64),
                                                          settings.target_latency_percentile,
                                                          queries_issued=min(nq, len(ql) if ql is not None else 0),
                                                          decimals=decimals)
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
        # verbatim: the official keeps the trailing space after each part; LoadGen 6.0.x flattens newlines
        m["result_invalid_reason"] = rec.replace("\n", " ") if r.rules.current else rec
    if r.tokens is not None:
        tes = r.token_early_stopping
        m["early_stopping_ttft_result"] = (tes.ttft.text if tes and tes.ttft else "").replace("\n", " ")
        m["early_stopping_tpot_result"] = (tes.tpot.text if tes and tes.tpot else "").replace("\n", " ")
    else:
        m["early_stopping_result"] = (r.early_stopping.text if r.early_stopping else "").replace("\n", " ")
    m["result_query_count"] = r.query_count
    if r.scenario is Scenario.Server:
        m["result_overlatency_query_count"] = r.overlatency_query_count
    es_last = r.early_stopping
    if r.tokens is not None:
        es_last = r.token_early_stopping.last if r.token_early_stopping else None
    if r.scenario is Scenario.SingleStream:
        m["result_qps_with_loadgen_overhead"] = r.qps_with_loadgen_overhead
        m["result_qps_without_loadgen_overhead"] = r.qps_without_loadgen_overhead
        m["early_stopping_latency_ss"] = (es_last.estimate_ns or 0) if es_last else 0
        m["early_stopping_latency_ms"] = (es_last.estimate_99_ns or 0) if es_last else 0
    elif r.scenario is Scenario.MultiStream:
        m["result_min_query_latency_ns"] = r.query_latency_min
        m["result_max_query_latency_ns"] = r.query_latency_max
        m["result_mean_query_latency_ns"] = r.query_latency_mean
        for p in PERCENTILES:
            m[f"result_{pct_label(p)}_percentile_per_query_latency_ns"] = r.query_percentiles.get(p, 0)
        m["early_stopping_latency_ms"] = (es_last.estimate_ns or 0) if es_last else 0
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
    if r.tokens is not None:
        _token_metrics(m, r)
    if r.rules.current and r.settings.infer_token_latencies:
        if r.scenario is Scenario.Server:
            m["result_inferred_completed_tokens_per_second"] = r.inferred_completed_tokens_per_second
        elif r.scenario is Scenario.Offline:
            m["result_inferred_tokens_per_second"] = r.inferred_tokens_per_second
    return m


def _token_metrics(m: dict[str, Any], r: PerformanceResult) -> None:
    """The LoadGen 6.0.x token keys of the detail log, in its order."""
    t = r.tokens
    assert t is not None
    if r.scenario is Scenario.Offline:
        m["result_tokens_per_second"] = r.tokens_per_second
        return
    m["result_first_token_min_latency_ns"] = t.first_token_latency_min
    m["result_first_token_max_latency_ns"] = t.first_token_latency_max
    m["result_first_token_mean_latency_ns"] = t.first_token_latency_mean
    for p in PERCENTILES:
        m[f"result_first_token_{pct_label(p)}_percentile_latency_ns"] = t.first_token_percentiles.get(p, 0)
    m["result_token_throughput_with_loadgen_overhead"] = r.tokens_per_second_with_loadgen_overhead
    # the official divides by the mean latency in ns (not s) times the count: kept as it logs it
    m["result_token_throughput"] = _div(float(t.token_count), float(r.sample_latency_mean) * r.sample_count)
    for p in PERCENTILES:
        m[f"result_time_per_output_token_{pct_label(p)}_percentile_ns"] = t.tpot_percentiles.get(p, 0)
    m["result_time_to_output_token_min"] = t.time_per_output_token_min
    m["result_time_to_output_token_max"] = t.time_per_output_token_max
    m["result_time_to_output_token_mean"] = t.time_per_output_token_mean
    m["result_completed_tokens_per_second"] = r.completed_tokens_per_second
