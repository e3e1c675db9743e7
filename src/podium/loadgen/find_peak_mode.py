"""The official FindPeakPerformance test mode (Server only), as ``start_test`` runs it."""

from __future__ import annotations

import math
from typing import Callable

from podium.loadgen import logs
from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.results import PerformanceResult
from podium.loadgen.schedule import LoadableSet, generate_loadable_sets
from podium.loadgen.settings import Scenario
from podium.loadgen.types import QuerySampleLibrary


def find_peak_performance(eff: EffectiveSettings, qsl: QuerySampleLibrary, detail: logs.DetailLog,
                          load: Callable[[LoadableSet], None],
                          probe: Callable[[LoadableSet, float], PerformanceResult],
                          unload: Callable[[LoadableSet], None]) -> PerformanceResult | None:
    """The official FindPeakPerformance mode (Server only): widen the QPS until latency fails, then bisect.

    Only the performance constraint (the latency percentile) steers the search, as the official does; the
    result reported is the last passing lower bound's run.
    """
    detail.log("generic_message", "Starting FindPeakPerformance mode")
    if eff.scenario is not Scenario.Server:
        detail.log("error_invalid_config", "Finding peak performance is only supported in Server scenarios.",
                   error=True)
        return None
    field = "%f"  # std::to_string(double)
    detail.log("generic_message", "FindPeakPerformance: Check validity of the base settings field: "
               + field % eff.target_qps)
    total = int(qsl.total_sample_count)
    loaded = generate_loadable_sets(total, eff)[0]
    load(loaded)
    lower = probe(loaded, eff.target_qps)
    if not lower.perf_constraints_met:
        detail.log("error_runtime", "FindPeakPerformance: Initial lower bound does not satisfy performance "
                   "constraints, msg: " + lower.perf_constraints_recommendation, error=True)
        unload(loaded)
        return lower
    unload(loaded)
    step = float(eff.requested.server_find_peak_qps_boundary_step_size)
    while True:
        u_qps = lower.settings.target_qps * (1 + step)
        detail.log("generic_message", "FindBoundaries: Checking fields [" + field % lower.settings.target_qps
                   + ", " + field % u_qps + ")")
        load(loaded)
        upper = probe(loaded, u_qps)
        unload(loaded)
        if not upper.perf_constraints_met:
            break
        lower = upper
    detail.log("generic_message", "FindPeakPerformance: Found boundaries: [" + field % lower.settings.target_qps
               + ", " + field % upper.settings.target_qps + ")")
    load(loaded)
    decimals = int(eff.requested.server_find_peak_qps_decimals_of_precision)
    while True:
        lo, hi = lower.settings.target_qps, upper.settings.target_qps
        if math.floor(lo * 10 ** decimals) + 1 >= math.floor(hi * 10 ** decimals):
            break
        mid = lo + (hi - lo) / 2
        detail.log("generic_message", "FindPeakPerformanceBinarySearch: Testing the mid value of bounds ["
                   + field % lo + ", " + field % hi + "): " + field % mid)
        m = probe(loaded, mid)
        if m.perf_constraints_met:
            lower = m
        else:
            upper = m
    detail.log("generic_message", "FindPeakPerformance: Found peak performance field: "
               + field % lower.settings.target_qps)
    unload(loaded)
    return lower
