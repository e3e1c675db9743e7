"""Power figures over exact simulated-clock runs: window, official metric, efficiency, files written."""

from __future__ import annotations

import json

import pytest

from podium.power import (
    MeterInfo,
    PowerSample,
    attach_power_result,
    power_summary_line,
    read_run_window,
)
from podium.power.errors import PowerError
from podium.power.result import (
    compute_power_block,
    record_not_measured,
    record_power_missing,
)
from podium.power.samples import (
    format_spl_line,
    format_stamp,
    parse_spl_line,
    parse_stamp,
    read_spl,
)
from tests.power.checker_reference import checker_power_metric
from tests.power.helpers import sim_run

T0 = 1_700_000_000_000_000_000  # 11-14-2023 22:13:20.000 UTC
MS = 1_000_000


def test_stamp_format_is_month_first_utc_and_round_trips():
    assert format_stamp(T0) == "11-14-2023 22:13:20.000"
    assert format_stamp(T0 + 123_999_999) == "11-14-2023 22:13:20.123"  # truncated, as LoadGen's stamps
    assert parse_stamp("11-14-2023 22:13:20.123") == T0 + 123 * MS
    assert parse_stamp("01-22-2021 15:05:14.313") < parse_stamp("01-22-2021 15:05:15.322")
    with pytest.raises(PowerError, match="month first"):
        parse_stamp("28-12-2020 15:21:14.682")  # day-first: the v2.1 checker cannot read it either


def test_spl_line_form_and_parse():
    s = PowerSample(wall_ns=parse_stamp("01-22-2021 15:05:14.313"), watts=22.97, volts=227.37, amps=0.20434,
                    pf=0.4944)
    line = format_spl_line(s, "2021-01-22_15-05-02_loadgen_testing")
    assert line == ("Time,01-22-2021 15:05:14.313,Watts,22.970000,Volts,227.370000,Amps,0.204340,PF,0.494400,"
                    "Mark,2021-01-22_15-05-02_loadgen_testing")
    back, mark = parse_spl_line(line)
    assert back == s and mark == "2021-01-22_15-05-02_loadgen_testing"
    multi = ("Time,11-13-2020 22:38:59.240,Watts,272.930000,Volts,-1.000000,Amps,-1.000000,PF,-1.000000,Mark,x,"
             "Ch1,Watts,91.060000,Volts,120.950000,Amps,0.832100,PF,0.938900,"
             "Ch2,Watts,90.970000,Volts,120.830000,Amps,0.802000,PF,0.938800")
    ms, _ = parse_spl_line(multi)
    assert ms.watts == 272.93 and ms.volts == -1.0 and ms.channels == (91.06, 90.97)
    with pytest.raises(PowerError, match="not a 'Time"):
        parse_spl_line("Watts,1,2")


def test_window_is_read_from_the_detail_log(tmp_path):
    run = sim_run(tmp_path / "r", "SingleStream", T0, service_ns=10 * MS, duration_ms=1000)
    w = read_run_window(run)
    assert w.begin_text == "11-14-2023 22:13:20.000" and w.begin_ns == T0
    # 101 queries of 10 ms each: the last completes 1.010 s after the start
    assert w.end_ns == T0 + 1010 * MS and w.duration_s == pytest.approx(1.01)
    assert w.scenario == "SingleStream" and w.query_count == 101 and w.valid is True


def _samples(t_from_ms: int, t_to_ms: int, step_ms: int, watts_at) -> list[PowerSample]:
    return [PowerSample(wall_ns=T0 + t * MS, watts=watts_at(t), volts=230.0, amps=watts_at(t) / 218.5, pf=0.95)
            for t in range(t_from_ms, t_to_ms + 1, step_ms)]


def test_offline_step_profile_gives_the_exact_average_and_efficiency(tmp_path):
    # Offline: 110 samples x 10 ms -> window 20:13:20.000 .. 20.1.100
    run = sim_run(tmp_path / "off", "Offline", T0, service_ns=10 * MS, duration_ms=1000)
    w = read_run_window(run)
    assert (w.begin_ns, w.end_ns) == (T0, T0 + 1100 * MS) and w.throughput == pytest.approx(100.0)
    # samples every 100 ms from -200 ms to +1300 ms: 100 W before 500 ms, 200 W from 500 ms on
    samples = _samples(-200, 1300, 100, lambda t: 100.0 if t < 500 else 200.0)
    info = MeterInfo(kind="test", name="fixture", clock_offset={"offset_ms": 0.0, "uncertainty_ms": 0.0})
    block = attach_power_result(run, samples, info, mark="fixture_testing")
    # strictly inside (0, 1100): 100..400 at 100 W (4 samples), 500..1000 at 200 W (6); 0 and 1100 excluded
    assert block["samples_in_window"] == 10 and block["samples_total"] == 16
    assert block["average_watts"] == (4 * 100.0 + 6 * 200.0) / 10
    assert block["official_metric"] == {"value": 160.0, "unit": "Watts", "name": "average power"}
    assert block["efficiency"]["value"] == pytest.approx(w.throughput / 160.0)
    assert block["energy_j"] == pytest.approx(160.0 * 1.1)
    assert checker_power_metric(run) == (160.0, 160.0)
    assert (run / "spl.txt").read_text().count("\n") == 16
    assert power_summary_line(block).startswith("power: 160.00 W avg, 0.625 samples/s/W")


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream"])
def test_stream_scenarios_give_joules_per_query_as_the_checker(tmp_path, scenario):
    run = sim_run(tmp_path / scenario, scenario, T0 + 7 * MS, service_ns=3 * MS, duration_ms=500)
    w = read_run_window(run)
    samples = _samples(0, 700, 13, lambda t: 50.0 + (t % 7) * 0.123456789)
    block = attach_power_result(run, samples, {"kind": "test", "name": "fixture"})
    avg, metric = checker_power_metric(run)
    assert block["average_watts"] == avg and block["official_metric"]["value"] == metric  # bit for bit
    assert block["official_metric"]["unit"] == "Joules"
    assert metric == avg * w.duration_s / w.query_count
    assert block["energy_per_query_mj"] == pytest.approx(metric * 1000)
    if scenario == "MultiStream":
        assert block["energy_per_sample_mj"] == pytest.approx(metric * 1000 / 8)
    assert "mJ/query" in power_summary_line(block)


def test_no_sample_inside_the_window_is_a_clear_failure(tmp_path):
    run = sim_run(tmp_path / "r", "Offline", T0, service_ns=1 * MS, duration_ms=100)
    samples = _samples(-3000, -1000, 1000, lambda t: 80.0)  # all before the run
    block = attach_power_result(run, samples, MeterInfo(kind="ptd", name="PTDaemon", interval_ms=1000.0))
    assert block["status"] == "failed" and block["measured"] is False and "average_watts" not in block
    assert "no power samples fall inside the power window 11-14-2023 22:13:20.000" in block["errors"][0]
    assert "interval 1000 ms" in block["errors"][0]
    assert power_summary_line(block).startswith("power: failed (no power samples")


def test_result_json_keeps_the_run_and_carries_power_labels(tmp_path):
    run = sim_run(tmp_path / "r", "Offline", T0, service_ns=10 * MS, duration_ms=1000)
    before = json.loads((run / "podium" / "podium_result.json").read_text())
    info = MeterInfo(kind="ptd", name="PTDaemon simulator (podium)", simulated=True,
                     clock_offset={"offset_ms": 250.0, "uncertainty_ms": 1.0, "method": "test"})
    attach_power_result(run, _samples(0, 1200, 50, lambda t: 42.0), info)
    after = json.loads((run / "podium" / "podium_result.json").read_text())
    assert after["performance"] == before["performance"]  # the performance result is untouched
    p = after["power"]
    assert p["simulated"] is True and p["average_watts"] == 42.0
    assert any("SIMULATED" in lab for lab in after["labels"])
    assert p["clock_offset"]["within_limit"] is False
    assert any("differs from the SUT clock by +250.0 ms" in i for i in p["issues"])
    text = (run / "podium" / "power_summary.txt").read_text()
    assert "SIMULATED" in text and "clock offset    : meter - SUT = +250.000 ms" in text
    assert [m for _, m in read_spl(run / "spl.txt")] == ["podium_testing"] * 25


def test_not_measured_and_missing_blocks(tmp_path):
    (tmp_path / "podium_result.json").write_text(json.dumps({"valid": True, "labels": []}))
    block = record_not_measured(tmp_path)
    assert block["status"] == "not measured" and power_summary_line(block) == "power: not measured"
    assert power_summary_line(None) == "power: not measured"
    block = record_power_missing(tmp_path, "PTDaemon at x: connection closed", MeterInfo(kind="ptd", name="p"))
    data = json.loads((tmp_path / "podium_result.json").read_text())
    assert data["valid"] is True and data["power"]["status"] == "missing"
    assert power_summary_line(block) == "power: missing (PTDaemon at x: connection closed)"


def test_energy_counter_is_interpolated_at_the_window_edges(tmp_path):
    run = sim_run(tmp_path / "r", "Offline", T0, service_ns=10 * MS, duration_ms=1000)  # 0 .. 1100 ms
    # a 75 W load read every 300 ms from -250 ms: counter = 75 J/s * t
    samples = [PowerSample(wall_ns=T0 + t * MS, watts=75.0, energy_j=1000.0 + 75.0 * t / 1000)
               for t in range(-250, 1400, 300)]
    block = compute_power_block(read_run_window(run), samples, {"kind": "rapl", "name": "t"})
    ec = block["energy_counter"]
    assert ec["covered"] is True
    assert ec["energy_j"] == pytest.approx(75.0 * 1.1, rel=1e-12)
    assert ec["average_watts"] == pytest.approx(75.0, rel=1e-12)
    short = compute_power_block(read_run_window(run), samples[1:3], {"kind": "rapl", "name": "t"})
    assert short["energy_counter"]["covered"] is False


def test_detail_log_errors_name_the_file(tmp_path):
    with pytest.raises(PowerError, match="cannot read the LoadGen detail log"):
        read_run_window(tmp_path)
    (tmp_path / "mlperf_log_detail.txt").write_text(':::MLLOG {"key": "effective_scenario", "value": "Offline"}\n')
    with pytest.raises(PowerError, match="no 'power_begin' entry"):
        read_run_window(tmp_path)
