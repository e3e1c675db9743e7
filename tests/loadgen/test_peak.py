"""Peak search: the official FindPeakPerformance mode and podium's find_peak, on the simulated clock."""

from __future__ import annotations

import json

import pytest

from podium.loadgen import LogSettings, Scenario, SimpleQSL, TestMode, TestSettings, find_peak, start_test
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from tests.loadgen.simsut import SimSUT

SEEDS = dict(qsl_rng_seed=14284205019438841327, sample_index_rng_seed=4163916728725999944,
             schedule_rng_seed=299063814864929621)


def test_find_peak_server_lands_within_5_percent_of_capacity(tmp_path):
    clock = SimClock()
    sut = SimSUT(clock, 1_000_000, workers=2)  # capacity exactly 2000 samples/s
    settings = TestSettings(scenario=Scenario.Server, server_target_qps=100, server_target_latency_ns=100_000_000,
                            min_duration_ms=4000, min_query_count=100, **SEEDS)
    res = find_peak(sut, SimpleQSL(256, 256), settings, tmp_path, probe_ms=2000, clock=clock)
    assert 1900 <= res.value <= 2000
    kinds = [p.kind for p in res.probes]
    assert kinds[0] == "capacity" and "bisect" in kinds and kinds[-1] == "confirm"
    assert res.probes[0].metric == pytest.approx(2000, rel=0.01)
    assert res.confidence["confirmations_valid"] == "1/1"
    lo, hi = res.bracket
    assert lo <= res.value + 1e-9 and lo < hi
    saved = json.loads((tmp_path / "find_peak.json").read_text())
    assert len(saved["probes"]) == len(res.probes)
    for p in res.probes:  # every probe kept its logs
        assert (tmp_path / p.outdir.split("/")[-1] / "mlperf_log_detail.txt").exists()


def test_find_peak_settles_single_stream_latency(tmp_path):
    clock = SimClock()
    sut = SimSUT(clock, 2_000_000)
    settings = TestSettings(scenario=Scenario.SingleStream, single_stream_expected_latency_ns=1_000_000,
                            min_duration_ms=1000, **SEEDS)
    res = find_peak(sut, SimpleQSL(64, 64), settings, tmp_path, probe_ms=200, clock=clock)
    assert res.value == 2_000_000 and res.confidence["settled"] is True
    assert len(res.probes) == 2


def test_find_peak_rejects_offline(tmp_path):
    from podium.errors import PodiumError

    with pytest.raises(PodiumError, match="Offline"):
        find_peak(None, SimpleQSL(4, 4), TestSettings(scenario=Scenario.Offline), tmp_path)


def test_official_find_peak_performance_mode(tmp_path):
    clock = SimClock()
    sut = SimSUT(clock, 1_000_000, workers=1)  # capacity 1000/s
    settings = TestSettings(scenario=Scenario.Server, mode=TestMode.FindPeakPerformance, server_target_qps=200,
                            server_target_latency_ns=20_000_000, min_duration_ms=1000, min_query_count=50,
                            server_find_peak_qps_decimals_of_precision=0, **SEEDS)
    res = start_test(sut, SimpleQSL(128, 128), settings, LogSettings(outdir=str(tmp_path)), clock=clock,
                     audit_config=None)
    msgs = [r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt")
            if r["key"] == "generic_message"]
    assert msgs[0] == "Starting FindPeakPerformance mode"
    assert msgs[1] == "FindPeakPerformance: Check validity of the base settings field: 200.000000"
    assert msgs[2] == "FindBoundaries: Checking fields [200.000000, 400.000000)"
    assert any(m.startswith("FindPeakPerformance: Found boundaries: [") for m in msgs)
    assert any(m.startswith("FindPeakPerformanceBinarySearch: Testing the mid value of bounds [") for m in msgs)
    found = [m for m in msgs if m.startswith("FindPeakPerformance: Found peak performance field: ")]
    assert len(found) == 1
    peak = float(found[0].rsplit(" ", 1)[1])
    assert res.performance.settings.target_qps == peak and res.performance.perf_constraints_met
    assert 400 <= peak < 1000
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Mode     : FindPeakPerformance" in summary and f"target_qps : {peak:g}" in summary


def test_official_find_peak_rejects_non_server(tmp_path):
    clock = SimClock()
    res = start_test(SimSUT(clock, 1000), SimpleQSL(8, 8),
                     TestSettings(scenario=Scenario.Offline, mode=TestMode.FindPeakPerformance, **SEEDS),
                     LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    errs = [r for r in read_detail_log(tmp_path / "mlperf_log_detail.txt") if r["metadata"]["is_error"]]
    assert errs[0]["key"] == "error_invalid_config"
    assert errs[0]["value"] == "Finding peak performance is only supported in Server scenarios."
    assert res.performance is None


class ThrottlingSUT(SimSUT):
    """Runs at full speed for the first 1.5 s of each test, then at half speed (a part that heats up)."""

    def bind(self, complete, complete_ids):
        super().bind(complete, complete_ids)
        self.t0 = self.clock.now()
        self.free_at = [0] * len(self.free_at)

    def issue_queries(self, samples):
        self.service_ns = 1_000_000 if self.clock.now() - self.t0 < 1_500_000_000 else 2_000_000
        super().issue_queries(samples)


def test_find_peak_steps_down_until_a_confirmation_passes(tmp_path):
    clock = SimClock()
    sut = ThrottlingSUT(clock, 1_000_000, workers=2)  # 2000/s in short probes, 1000/s sustained
    settings = TestSettings(scenario=Scenario.Server, server_target_qps=100, server_target_latency_ns=100_000_000,
                            min_duration_ms=8000, min_query_count=100, **SEEDS)
    res = find_peak(sut, SimpleQSL(256, 256), settings, tmp_path, probe_ms=1000, clock=clock)
    short_pass = res.confidence["highest_short_probe_pass"]
    assert short_pass > 1500  # the short probes saw the fast phase only
    confirms = [p for p in res.probes if p.kind == "confirm"]
    assert len(confirms) >= 2 and not confirms[0].valid and confirms[-1].valid
    assert res.confirmed and 0 < res.value <= 1000 and res.value == confirms[-1].target
    line = res.summary()
    assert line.startswith("peak: ") and "confirmed 1/1" in line and "{" not in line


def test_find_peak_with_no_confirmation_says_so(tmp_path):
    clock = SimClock()
    sut = ThrottlingSUT(clock, 1_000_000, workers=2)
    settings = TestSettings(scenario=Scenario.Server, server_target_qps=100, server_target_latency_ns=100_000_000,
                            min_duration_ms=8000, min_query_count=100, **SEEDS)
    import podium.loadgen.peak as peak

    old = peak.CONFIRM_STEPS
    peak.CONFIRM_STEPS = (1.0, 0.95)  # too few steps to reach the sustained rate
    try:
        res = find_peak(sut, SimpleQSL(256, 256), settings, tmp_path, probe_ms=1000, clock=clock)
    finally:
        peak.CONFIRM_STEPS = old
    assert not res.confirmed and res.value == 0.0
    line = res.summary()
    assert "none confirmed" in line and "0.00" not in line and "{" not in line
