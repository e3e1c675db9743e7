"""Effective settings derived from the requested ``TestSettings`` (official ``TestSettingsInternal``).

Spec loadgen.md §2.1: samples per query, target QPS, target latency, max async queries, the Offline query
size, the 3D-UNet SingleStream min_query_count rounding, and the invalid-setting errors the official logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.loadgen.settings import Scenario, TestMode, TestSettings

NS_PER_MS = 1_000_000


@dataclass
class EffectiveSettings:
    """The settings the engine actually runs with; field names follow the ``effective_*`` detail-log keys."""

    requested: TestSettings
    scenario: Scenario
    mode: TestMode
    samples_per_query: int
    target_qps: float
    target_latency_ns: int
    target_latency_percentile: float
    max_async_queries: int
    target_duration_ms: int
    min_duration_ms: int
    max_duration_ms: int
    min_query_count: int
    max_query_count: int
    min_sample_count: int
    qsl_rng_seed: int
    sample_index_rng_seed: int
    schedule_rng_seed: int
    accuracy_log_rng_seed: int
    accuracy_log_probability: float
    accuracy_log_sampling_target: int
    print_timestamps: bool
    performance_issue_unique: bool
    performance_issue_same: bool
    performance_issue_same_index: int
    performance_sample_count: int
    sample_concatenate_permutation: bool
    #: LoadGen 6.0.x: loadable sets are drawn from the first performance (or accuracy) sample count of the QSL
    first_n_sets: bool = False
    #: LoadGen 6.0.x: samples accuracy mode covers (override, else the QSL's total count); 0 in v2.1
    accuracy_sample_count: int = 0
    use_token_latencies: bool = False
    server_ttft_latency: int = 100_000_000
    server_tpot_latency: int = 100_000_000
    infer_token_latencies: bool = False
    token_latency_scaling_factor: int = 0
    #: (key, message) pairs the official logs as ``error_invalid_test_settings``.
    errors: list[str] = field(default_factory=list)

    @property
    def target_duration_ns(self) -> int:
        return self.target_duration_ms * NS_PER_MS

    @property
    def min_duration_ns(self) -> int:
        return self.min_duration_ms * NS_PER_MS

    @property
    def max_duration_ns(self) -> int:
        return self.max_duration_ms * NS_PER_MS


def _fmt(x: float) -> str:
    return "%g" % x


def effective_settings(req: TestSettings, qsl_performance_sample_count: int,
                       qsl_total_sample_count: int | None = None) -> EffectiveSettings:
    """Derive the effective settings exactly as the official ``TestSettingsInternal`` constructor.

    With ``qsl_total_sample_count`` (LoadGen 6.0.x, which passes it) the accuracy sample count is derived too;
    without it (v2.1) it stays 0.
    """
    errors: list[str] = []
    scenario = Scenario(req.scenario)
    spq = 1
    target_qps = 1.0
    target_latency_ns = 0
    max_async = 0
    target_duration_ms = int(req.min_duration_ms)
    min_query_count = int(req.min_query_count)

    if scenario is Scenario.SingleStream:
        target_qps = 1e9 / float(req.single_stream_expected_latency_ns)
        max_async = 1
        percentile = float(req.single_stream_target_latency_percentile)
    elif scenario is Scenario.MultiStream:
        target_qps = 1e9 / float(req.multi_stream_expected_latency_ns)
        max_async = 1
        percentile = float(req.multi_stream_target_latency_percentile)
    elif scenario is Scenario.Server:
        if req.server_target_qps >= 0.0:
            target_qps = float(req.server_target_qps)
        else:
            errors.append(f"Invalid value for server_target_qps requested. requested: "
                          f"{_fmt(req.server_target_qps)} using: {_fmt(target_qps)}")
        target_latency_ns = int(req.server_target_latency_ns)
        percentile = float(req.server_target_latency_percentile)
        max_async = int(req.server_max_async_queries)
    else:
        percentile = 0.99  # unused in Offline; the official sets it so it is never garbage
        if req.offline_expected_qps >= 0.0:
            target_qps = float(req.offline_expected_qps)
        else:
            errors.append(f"Invalid value for offline_expected_qps requested. requested: "
                          f"{_fmt(req.offline_expected_qps)} using: {_fmt(target_qps)}")
        max_async = 1

    psc = int(req.performance_sample_count_override) or int(qsl_performance_sample_count)
    concat = bool(req.sample_concatenate_permutation)

    if scenario is Scenario.MultiStream:
        spq = int(req.multi_stream_samples_per_query)

    if scenario is Scenario.Offline:
        # uint64 truncation of 1.1 x duration_s x qps, as the official (kSlack = 1.1).
        target_sample_count = int(1.1 * (target_duration_ms / 1000.0) * target_qps)
        spq = psc if req.performance_issue_unique else max(min_query_count, target_sample_count)
        min_query_count = 1
        target_duration_ms = 0

    if concat and scenario is Scenario.SingleStream:
        expected = int(2.0 * (target_duration_ms / 1000.0) * target_qps)
        min_query_count = max(min_query_count, expected)
        # The official adds a whole QSL performance count even when already divisible (spec pitfall 13).
        qpsc = int(qsl_performance_sample_count)
        min_query_count += qpsc - (min_query_count % qpsc)

    if req.performance_issue_same and req.performance_issue_same_index >= psc:
        errors.append("Sample Idx to be repeated in performance_issue_same mode cannot be greater than loaded "
                      f"performance_sample_count. performance_issue_same_index: {req.performance_issue_same_index}"
                      f" performance_sample_count: {psc}")
    if req.performance_issue_unique and req.performance_issue_same:
        errors.append("Performance_issue_unique and performance_issue_same, both cannot be true at the same time."
                      f" performance_issue_unique: {int(req.performance_issue_unique)}"
                      f" performance_issue_same: {int(req.performance_issue_same)}")

    return EffectiveSettings(
        requested=req,
        scenario=scenario,
        mode=TestMode(req.mode),
        samples_per_query=spq,
        target_qps=target_qps,
        target_latency_ns=target_latency_ns,
        target_latency_percentile=percentile,
        max_async_queries=max_async,
        target_duration_ms=target_duration_ms,
        min_duration_ms=int(req.min_duration_ms),
        max_duration_ms=int(req.max_duration_ms),
        min_query_count=min_query_count,
        max_query_count=int(req.max_query_count),
        min_sample_count=min_query_count * spq,
        qsl_rng_seed=int(req.qsl_rng_seed),
        sample_index_rng_seed=int(req.sample_index_rng_seed),
        schedule_rng_seed=int(req.schedule_rng_seed),
        accuracy_log_rng_seed=int(req.accuracy_log_rng_seed),
        accuracy_log_probability=float(req.accuracy_log_probability),
        accuracy_log_sampling_target=int(req.accuracy_log_sampling_target),
        print_timestamps=bool(req.print_timestamps),
        performance_issue_unique=bool(req.performance_issue_unique),
        performance_issue_same=bool(req.performance_issue_same),
        performance_issue_same_index=int(req.performance_issue_same_index),
        performance_sample_count=psc,
        sample_concatenate_permutation=concat,
        first_n_sets=qsl_total_sample_count is not None,
        accuracy_sample_count=(0 if qsl_total_sample_count is None else
                               int(req.accuracy_sample_count_override) or int(qsl_total_sample_count)),
        use_token_latencies=bool(req.use_token_latencies),
        server_ttft_latency=int(req.server_ttft_latency),
        server_tpot_latency=int(req.server_tpot_latency),
        infer_token_latencies=bool(req.infer_token_latencies),
        token_latency_scaling_factor=int(req.token_latency_scaling_factor),
        errors=errors,
    )
