"""Scenario schedules, latency origins and validity on the simulated clock: exact, no sleeping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from podium.loadgen import LogSettings, RunOptions, Scenario, SimpleQSL, TestMode, TestSettings, start_test
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from tests.loadgen.simsut import SimSUT, SyncSUT

SEEDS = dict(qsl_rng_seed=14284205019438841327, sample_index_rng_seed=4163916728725999944,
             schedule_rng_seed=299063814864929621)


def run(tmp_path, sut_factory, total=64, perf=64, options=None, **kw):
    clock = SimClock()
    sut = sut_factory(clock)
    settings = TestSettings(**SEEDS, **kw)
    res = start_test(sut, SimpleQSL(total, perf), settings, LogSettings(outdir=str(tmp_path)),
                     options=options, clock=clock, audit_config=None)
    return res, sut, clock


def detail(tmp_path):
    return read_detail_log(tmp_path / "mlperf_log_detail.txt")


def test_single_stream_waits_for_each_query_and_counts_from_issue(tmp_path):
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 1_000_000), scenario=Scenario.SingleStream,
                      min_duration_ms=100, min_query_count=10, single_stream_expected_latency_ns=1_000_000)
    p = res.performance
    # query k is issued at k ms (the previous one completes exactly then); the first issued at >= 100 ms ends it
    assert p.query_count == 101
    assert p.sample_latency_min == p.sample_latency_max == 1_000_000
    assert p.target_sample_latency == 1_000_000
    assert p.final_query_issued_time_s == pytest.approx(0.1)
    assert p.qps_with_loadgen_overhead == pytest.approx(1000.0)
    assert p.valid
    assert all(len(call) == 1 for call in sut.issue_calls)
    assert sut.flushes == 1


def test_server_latency_counts_from_scheduled_time(tmp_path):
    # One worker, 3 ms service at 500 QPS: queueing happens; latency = finish - Poisson arrival, exactly.
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 3_000_000), scenario=Scenario.Server,
                      server_target_qps=500, server_target_latency_ns=50_000_000,
                      min_duration_ms=1000, min_query_count=100)
    p = res.performance
    recs = {r["key"]: r["value"] for r in detail(tmp_path)}
    n = recs["generated_query_count"]
    assert p.query_count == n  # Server issues every generated query
    # replay the FIFO queue from the logged-in-order schedule
    from podium.loadgen.internal import effective_settings
    from podium.loadgen.schedule import generate_loadable_sets, generate_schedule
    eff = effective_settings(res.settings.requested, 64)
    sched = generate_schedule(eff, generate_loadable_sets(64, eff)[0], TestMode.PerformanceOnly)
    free = 0
    lat = []
    for t in sched.scheduled_ns.tolist():
        start = max(t, free)
        free = start + 3_000_000
        lat.append(free - t)
    lat = np.sort(np.array(lat))
    assert p.sample_latency_max == lat[-1] and p.sample_latency_min == lat[0] == 3_000_000
    assert p.target_sample_latency == lat[int(len(lat) * 0.99)]
    assert p.sample_latency_mean == int(lat.sum()) // len(lat)
    assert p.final_query_scheduled_time_s == pytest.approx(sched.scheduled_ns[-1] / 1e9)
    assert p.lateness["max_ns"] == 0  # the simulated issuer is never late


def test_server_invalid_when_p99_over_bound(tmp_path):
    res, _, _ = run(tmp_path, lambda c: SimSUT(c, 3_000_000), scenario=Scenario.Server, server_target_qps=400,
                    server_target_latency_ns=2_000_000, min_duration_ms=500, min_query_count=50)
    p = res.performance
    assert not p.perf_constraints_met and not p.valid
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary
    assert "  Performance constraints satisfied : NO" in summary
    assert " * Reduce target QPS to improve latency." in summary


def test_offline_one_query_latency_from_start(tmp_path):
    # 1 worker, 10 us per sample: sample k completes at (k+1)*10 us after the single issue.
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 10_000), scenario=Scenario.Offline,
                      offline_expected_qps=1000, min_duration_ms=100, min_query_count=1)
    p = res.performance
    assert len(sut.issue_calls) == 1 and len(sut.issue_calls[0]) == 110  # 1.1 x 0.1 s x 1000
    assert p.sample_latency_min == 10_000 and p.sample_latency_max == 1_100_000
    assert p.samples_per_second == pytest.approx(110 / 0.0011)
    assert not p.min_duration_met  # 1.1 ms < 100 ms


def test_multistream_query_latency_is_last_sample(tmp_path):
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 1_000_000, workers=4), scenario=Scenario.MultiStream,
                      multi_stream_expected_latency_ns=2_000_000, min_duration_ms=50, min_query_count=5)
    p = res.performance
    assert all(len(call) == 8 for call in sut.issue_calls)
    # 8 samples over 4 workers: two rounds of 1 ms
    assert p.query_latency_min == p.query_latency_max == 2_000_000
    assert p.sample_latency_min == 1_000_000 and p.sample_latency_max == 2_000_000
    # contiguous loaded-set entries per query
    from podium.loadgen.internal import effective_settings
    from podium.loadgen.schedule import generate_loadable_sets
    loaded = generate_loadable_sets(64, effective_settings(res.settings.requested, 64))[0].indices
    for call in sut.issue_calls:
        idx = [i for _, i in call]
        start = loaded.index(idx[0])
        assert idx == loaded[start:start + 8]


def test_accuracy_mode_issues_every_sample_once(tmp_path):
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 1000), total=100, perf=30, scenario=Scenario.SingleStream,
                      mode=TestMode.AccuracyOnly, min_duration_ms=10_000, min_query_count=1000)
    issued = sorted(i for call in sut.issue_calls for _, i in call)
    assert issued == list(range(100))
    assert res.performance is None
    log = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == list(range(100))
    assert all(int.from_bytes(bytes.fromhex(e["data"]), "little") == e["qsl_idx"] for e in log)
    assert sut.flushes == 4  # one per loadable set (30, 30, 30, 10)
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert summary == "\nNo warnings encountered during test.\n\nNo errors encountered during test.\n"


def test_submission_run_does_accuracy_then_performance_with_continuing_ids(tmp_path):
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 1000), total=20, perf=20, scenario=Scenario.Server,
                      mode=TestMode.SubmissionRun, server_target_qps=1000, min_duration_ms=50, min_query_count=10)
    ids = [i for call in sut.issue_calls for i, _ in call]
    assert ids == list(range(1, len(ids) + 1))
    assert res.performance is not None and res.accuracy_log_entries == 20
    assert "Mode     : SubmissionRun" in (tmp_path / "mlperf_log_summary.txt").read_text()


def test_completion_timeout_ends_run_invalid_with_logs(tmp_path):
    res, sut, _ = run(tmp_path, lambda c: SimSUT(c, 1000, never={5}), scenario=Scenario.Offline,
                      offline_expected_qps=1000, min_duration_ms=50, min_query_count=1,
                      options=RunOptions(completion_timeout_s=3.0))
    p = res.performance
    assert res.timed_out and p.timed_out and not p.valid and p.incomplete_samples == 1
    d = detail(tmp_path)
    errs = [r for r in d if r["metadata"]["is_error"]]
    assert any("Completion timeout" in r["value"] for r in errs)
    assert {r["key"]: r["value"] for r in d}["result_validity"] == "INVALID"
    assert "Result is : INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()
    assert json.loads((tmp_path / "podium" / "podium_result.json").read_text())["timed_out"] is True


def test_single_stream_timeout_does_not_hang(tmp_path):
    res, _, _ = run(tmp_path, lambda c: SimSUT(c, 1000, never={3}), scenario=Scenario.SingleStream,
                    min_duration_ms=100, min_query_count=10, single_stream_expected_latency_ns=1000,
                    options=RunOptions(completion_timeout_s=2.0))
    assert res.timed_out and res.performance.query_count == 4


def test_duplicate_completion_is_a_logged_error_not_a_crash(tmp_path):
    res, _, _ = run(tmp_path, lambda c: SimSUT(c, 1000, duplicate=True), scenario=Scenario.Server,
                    server_target_qps=1000, min_duration_ms=20, min_query_count=5)
    errs = [r for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert errs and all(r["value"] == "Attempted to complete a sample twice." for r in errs)
    assert res.performance.sample_count == res.performance.query_count
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert summary.rstrip().endswith(f"{len(errs)} ERRORS encountered. See detailed log.")


def test_unknown_and_old_completion_ids_are_errors(tmp_path):
    clock = SimClock()

    class Weird(SyncSUT):
        def issue_queries(self, samples):
            self.complete([(10**9, None)])  # unknown id
            super().issue_queries(samples)

    sut = Weird(clock, 1000)
    start_test(sut, SimpleQSL(8, 8), TestSettings(scenario=Scenario.SingleStream, min_duration_ms=1,
                                                  min_query_count=3, **SEEDS),
               LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    sut.complete([(1, None)])  # after the test: no series running
    msgs = [r["value"] for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert any("unknown sample id" in m for m in msgs)


def test_max_query_count_stops_issuing(tmp_path):
    res, _, _ = run(tmp_path, lambda c: SyncSUT(c, 1000), scenario=Scenario.SingleStream, min_duration_ms=1000,
                    min_query_count=100, max_query_count=7, single_stream_expected_latency_ns=1000)
    assert res.performance.query_count == 7 and not res.performance.valid
    msgs = [r["value"] for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert "IssueQueryThread 0 Ending early: Max query count reached. query_count 7" in msgs


def test_ran_out_of_generated_queries_is_an_error(tmp_path):
    # expected latency far too long: 2x duration of pre-generated queries at 50 ms each is 4 queries
    res, _, _ = run(tmp_path, lambda c: SyncSUT(c, 1000), scenario=Scenario.SingleStream, min_duration_ms=100,
                    min_query_count=1, single_stream_expected_latency_ns=50_000_000)
    msgs = [r["value"] for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert any(m.startswith("Ending early: Ran out of generated queries") for m in msgs)
    assert not res.performance.min_duration_met


def test_fast_path_gets_arrays(tmp_path):
    clock = SimClock()

    from podium.loadgen import BaseSUT

    class Fast(BaseSUT):
        calls = 0

        def issue_arrays(self, ids, indices):
            assert isinstance(ids, np.ndarray) and isinstance(indices, np.ndarray)
            Fast.calls += 1
            self.complete_ids(ids)

        def issue_queries(self, samples):  # pragma: no cover - must not be used
            raise AssertionError("fast path not taken")

    res = start_test(Fast(), SimpleQSL(64, 64), TestSettings(scenario=Scenario.Offline, offline_expected_qps=10000,
                                                             min_duration_ms=100, **SEEDS),
                     LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    assert Fast.calls == 1 and res.performance.sample_count == 1100


def test_trace_is_valid_chrome_trace_with_every_sample(tmp_path):
    clock = SimClock()
    sut = SimSUT(clock, 1_000_000)
    start_test(sut, SimpleQSL(16, 16), TestSettings(scenario=Scenario.SingleStream, min_duration_ms=10,
                                                    min_query_count=5, **SEEDS),
               LogSettings(outdir=str(tmp_path), enable_trace=True), clock=clock, audit_config=None)
    trace = json.loads((tmp_path / "mlperf_log_trace.json").read_text())
    begins = [e for e in trace["traceEvents"] if e.get("ph") == "b"]
    ends = {e["id"]: e for e in trace["traceEvents"] if e.get("ph") == "e"}
    assert len(begins) == 11 and trace["traceEvents"][-1] == {"name": "LastTrace"}
    for b in begins:
        assert ends[b["id"]]["ts"] - b["ts"] == pytest.approx(1000.0)  # 1 ms in µs
        assert b["args"]["complete_ns"] == 1_000_000


def test_trace_off_by_default(tmp_path):
    clock = SimClock()
    start_test(SimSUT(clock, 1000), SimpleQSL(4, 4), TestSettings(scenario=Scenario.Offline, min_duration_ms=1,
                                                                  **SEEDS),
               LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    assert not (tmp_path / "mlperf_log_trace.json").exists()


def test_server_max_async_queries_stops_issuing(tmp_path):
    # a SUT that takes 1 s per sample, queries every ~1 ms: outstanding grows past 5 at the 6th query
    res, _, _ = run(tmp_path, lambda c: SimSUT(c, 1_000_000_000), scenario=Scenario.Server, server_target_qps=1000,
                    server_max_async_queries=5, min_duration_ms=100, min_query_count=10)
    msgs = [r["value"] for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert "IssueQueryThread 0 Ending early: Too many outstanding queries. issued 6 outstanding 6" in msgs
    assert res.performance.query_count == 6 and not res.performance.valid


def test_max_duration_stops_issuing(tmp_path):
    res, _, _ = run(tmp_path, lambda c: SyncSUT(c, 1_000_000), scenario=Scenario.SingleStream,
                    min_duration_ms=1000, max_duration_ms=10, min_query_count=1,
                    single_stream_expected_latency_ns=1_000_000)
    msgs = [r["value"] for r in detail(tmp_path) if r["metadata"]["is_error"]]
    assert "IssueQueryThread 0 Ending early: Max test duration reached. duration_ns 11000000" in msgs
    assert res.performance.query_count == 12


def test_progress_snapshot_while_running(tmp_path):
    from podium.loadgen.session import progress

    clock = SimClock()
    seen = []

    class Watching(SimSUT):
        def issue_queries(self, samples):
            seen.append(progress())
            super().issue_queries(samples)

    start_test(Watching(clock, 1_000_000), SimpleQSL(16, 16),
               TestSettings(scenario=Scenario.Server, server_target_qps=1000, min_duration_ms=50, min_query_count=10,
                            **SEEDS), LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    assert progress() is None  # nothing running any more
    last = seen[-1]
    assert last["series"] == "PerformanceOnly" and last["expected_s"] == 0.05
    assert last["issued"] == len(seen) and last["completed"] <= last["issued"] <= last["generated"]


def test_samples_the_sut_reports_failed_make_the_run_invalid(tmp_path):
    class Failing(SimSUT):
        failed_samples = 0

        def issue_queries(self, samples):
            if self.issued == 3:  # the SUT answers this one empty and counts it, as the harness does
                Failing.failed_samples += 1
            super().issue_queries(samples)

    res, _, _ = run(tmp_path, lambda c: Failing(c, 1000), scenario=Scenario.Server, server_target_qps=1000,
                    min_duration_ms=20, min_query_count=10)
    p = res.performance
    assert p.sut_failed_samples == 1 and not p.valid
    d = {r["key"]: r["value"] for r in detail(tmp_path)}
    assert d["result_validity"] == "INVALID" and "1 samples failed in the SUT" in d["result_invalid_reason"]
    assert "Result is : INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()
