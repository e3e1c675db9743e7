"""StartTest: what the issue callback receives, one test at a time, errors from callbacks, FindPeakPerformance."""

from __future__ import annotations

import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen.logs import read_detail_log
from tests.mlperf_loadgen.harnesses import MS, _Workers


def _settings(**values):
    s = lg.TestSettings()
    s.min_duration_ms = 20
    s.min_query_count = 10
    for k, v in values.items():
        setattr(s, k, v)
    return s


def _log_settings(outdir):
    ls = lg.LogSettings()
    ls.log_output.outdir = str(outdir)
    return ls


def test_issue_callback_gets_a_list_of_query_samples_and_load_gets_a_list_of_ints(sim, tmp_path):
    clock = sim()
    calls, loads, unloads, flushes = [], [], [], []

    def issue(samples):
        calls.append(samples)
        clock.call_at(clock.now() + 1000, lambda: lg.QuerySamplesComplete(
            [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    sut = lg.ConstructSUT(issue, lambda: flushes.append(1))
    qsl = lg.ConstructQSL(32, 16, loads.append, unloads.append)
    lg.StartTestWithLogSettings(sut, qsl, _settings(scenario=lg.TestScenario.MultiStream,
                                                    multi_stream_samples_per_query=4), _log_settings(tmp_path))
    assert calls and all(type(c) is list and len(c) == 4 for c in calls)
    assert all(type(q) is lg.QuerySample and type(q.id) is int and type(q.index) is int for c in calls for q in c)
    assert loads == unloads and len(loads) == 1
    assert type(loads[0]) is list and all(type(i) is int for i in loads[0])
    assert flushes == [1]


def test_only_one_test_at_a_time(sim, tmp_path):
    clock = sim()
    errors = []
    sut = qsl = None

    def issue(samples):
        if not errors:
            try:
                lg.StartTestWithLogSettings(sut, qsl, _settings(), _log_settings(tmp_path / "nested"))
            except RuntimeError as exc:
                errors.append(exc)
        clock.call_at(clock.now() + 1000, lambda: lg.QuerySamplesComplete(
            [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 16, None, None)
    lg.StartTestWithLogSettings(sut, qsl, _settings(), _log_settings(tmp_path))
    assert len(errors) == 1 and "already running" in str(errors[0])
    assert lg._last_result.performance.query_count >= 10


def test_an_exception_in_the_issue_callback_propagates_and_the_next_test_runs(sim, tmp_path):
    def bad_issue(samples):
        raise ZeroDivisionError("harness bug")

    sut = lg.ConstructSUT(bad_issue, lambda: None)
    qsl = lg.ConstructQSL(16, 16, None, None)
    sim()
    with pytest.raises(ZeroDivisionError):
        lg.StartTestWithLogSettings(sut, qsl, _settings(), _log_settings(tmp_path / "a"))
    assert (tmp_path / "a" / "mlperf_log_summary.txt").exists()
    # no completion goes to the dead test, and a new test can start
    lg.QuerySamplesComplete([lg.QuerySampleResponse(1, 0, 0)])
    clock = sim()

    def issue(samples):
        clock.call_at(clock.now() + 1000, lambda: lg.QuerySamplesComplete(
            [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    lg.StartTestWithLogSettings(lg.ConstructSUT(issue, lambda: None), qsl, _settings(), _log_settings(tmp_path / "b"))
    assert lg._last_result.performance.query_count >= 10


def test_find_peak_performance_mode_runs_through_start_test(sim, tmp_path):
    clock = sim()
    workers = _Workers(clock, 1)

    def issue(samples):
        end = workers.finish_time(2 * MS)  # one server, 2 ms each: at most 500 QPS
        clock.call_at(end, lambda: lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    settings = _settings(scenario=lg.TestScenario.Server, mode=lg.TestMode.FindPeakPerformance,
                         server_target_qps=100, server_target_latency_ns=20 * MS, min_duration_ms=200,
                         min_query_count=20)
    lg.StartTestWithLogSettings(lg.ConstructSUT(issue, lambda: None), lg.ConstructQSL(64, 64, None, None),
                                settings, _log_settings(tmp_path))
    res = lg._last_result
    assert res is not None and res.performance is not None and res.performance.perf_constraints_met
    # boundaries 100, 200, 400 pass and 800 fails (one 2 ms server); the peak lies in [400, 800)
    assert 400 <= res.performance.settings.target_qps < 800
    messages = [r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt")
                if r["key"] == "generic_message"]
    assert any(str(m).startswith("FindPeakPerformance: Found peak performance field") for m in messages)
    assert "Mode     : FindPeakPerformance" in (tmp_path / "mlperf_log_summary.txt").read_text()
