"""``run_with_power`` for meters without ranging, without a meter, and when ranging fails."""

from __future__ import annotations

import json

from podium.power import (
    ConstantProfile,
    PtdMeter,
    PtdSimulator,
    RaplMeter,
    SimulatorConfig,
    power_summary_line,
    run_with_power,
)
from tests.power.helpers import real_run, zone


def _recorder(phases):
    def run_once(folder, phase, contributors):
        phases.append(phase)
        return real_run(folder, "SingleStream", duration_ms=150, contributors=contributors)

    return run_once


def test_polling_meter_runs_once_into_run_1(tmp_path):
    zone(tmp_path / "cap" / "intel-rapl:0", "package-0", 0, 10_000_000)
    phases: list[str] = []
    outcome = run_with_power(RaplMeter(tmp_path / "cap", interval_s=0.02), _recorder(phases), tmp_path / "perf")
    assert phases == ["testing"] and outcome.ranging_dir is None
    assert outcome.testing_dir == tmp_path / "perf" / "run_1" and not (tmp_path / "perf" / "power").exists()
    # the fake counter never moves: 0 W, measured, and labelled as CPU-only
    assert outcome.measured and outcome.power["average_watts"] == 0.0
    assert "(RAPL: not wall power)" in power_summary_line(outcome.power)


def test_no_meter_says_not_measured(tmp_path):
    phases: list[str] = []
    outcome = run_with_power(None, _recorder(phases), tmp_path / "perf")
    assert phases == ["testing"] and not outcome.measured
    data = json.loads((outcome.testing_dir / "podium" / "podium_result.json").read_text())
    assert data["power"]["status"] == "not measured" and data["performance"]["valid"] is True
    assert power_summary_line(data["power"]) == "power: not measured"
    assert not (outcome.testing_dir / "podium" / "power_summary.txt").exists() and not (outcome.testing_dir / "spl.txt").exists()


def test_a_meter_failing_during_ranging_keeps_that_run_and_stops(tmp_path):
    cfg = SimulatorConfig(profile=ConstantProfile(10.0), disconnect_after_s=0.05, disconnect_at_go=1)
    with PtdSimulator(cfg) as sim:
        meter = PtdMeter(*sim.address, interval_ms=10, poll_s=0.02)
        phases: list[str] = []
        outcome = run_with_power(meter, _recorder(phases), tmp_path / "perf")
    assert phases == ["ranging"] and outcome.testing_dir is None
    assert outcome.performance_dir == tmp_path / "perf" / "ranging"
    assert outcome.error and "connection closed by the meter" in outcome.error
    assert outcome.power["status"] == "missing" and outcome.power["phase"] == "ranging"
    data = json.loads((outcome.performance_dir / "podium" / "podium_result.json").read_text())
    assert data["performance"]["valid"] is True and data["power"]["status"] == "missing"


def test_a_meter_dying_between_the_runs_keeps_the_ranging_run_and_runs_no_testing(tmp_path):
    from podium.power.errors import MeterDisconnectedError

    class DiesAfterRanging(PtdMeter):
        def prepare(self, phase, ranging_samples=None):
            if phase == "testing":
                raise MeterDisconnectedError("PTDaemon: connection closed after the ranging run")
            super().prepare(phase, ranging_samples)

    with PtdSimulator(SimulatorConfig(profile=ConstantProfile(10.0))) as sim:
        meter = DiesAfterRanging(*sim.address, interval_ms=10, poll_s=0.02)
        phases: list[str] = []
        outcome = run_with_power(meter, _recorder(phases), tmp_path / "perf")
    assert phases == ["ranging"] and outcome.testing_dir is None
    assert not (tmp_path / "perf" / "run_1").exists()  # no empty testing folder left behind
    assert outcome.performance_dir == tmp_path / "perf" / "ranging" and outcome.failed_phase == "testing"
    assert outcome.failure.startswith("meter connection lost before the testing run: PTDaemon: connection closed")
    assert outcome.failure.endswith("; the testing run never ran")
    ranging = json.loads((outcome.performance_dir / "podium" / "podium_result.json").read_text())
    assert ranging["performance"]["valid"] is True and ranging["power"]["measured"] is True  # ranging stands
