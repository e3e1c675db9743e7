"""Per-sample data: the trace reader agrees with the engine's own figures; the npz format; spl.txt."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from podium.report.runs import read_run
from podium.report.samples import SampleDataError, load_samples, percentile_points, read_npz, read_spl


def _without_npz(folder, tmp_path):
    copy = tmp_path / "perf"
    shutil.copytree(folder, copy)
    (copy / "podium" / "podium_samples.npz").unlink()
    return copy


def test_npz_and_trace_agree(report_runs, tmp_path):
    run = read_run(report_runs["server"])
    a = load_samples(run.performance.folder, "Server")
    b = load_samples(_without_npz(run.performance.folder, tmp_path), "Server")
    assert a.source == "podium_samples.npz" and b.source == "mlperf_log_trace.json"
    assert np.array_equal(np.sort(a.latency_ns), np.sort(b.latency_ns))


def test_trace_latencies_match_the_run_result(report_runs, tmp_path):
    run = read_run(report_runs["server"])
    s = load_samples(_without_npz(run.performance.folder, tmp_path), "Server")
    assert s is not None and s.source == "mlperf_log_trace.json"
    res = run.perf["results"]
    assert len(s.latency_ns) == run.perf["sample_count"]
    assert int(s.latency_ns.min()) == res["result_min_latency_ns"]
    assert int(s.latency_ns.max()) == res["result_max_latency_ns"]
    # issue lateness per query: the simulated clock issues exactly on time
    assert s.lateness_kind == "issue_lateness" and int(np.abs(s.lateness_ns).max()) == 0
    t, rate = s.throughput(bins=60)
    assert len(t) == 60
    assert rate.mean() == pytest.approx(50.0, rel=0.05)  # 50 queries/s scheduled


def test_singlestream_trace(report_runs, tmp_path):
    run = read_run(report_runs["ss"])
    s = load_samples(_without_npz(run.performance.folder, tmp_path), "SingleStream")
    assert s.lateness_kind == "issue_gap"
    assert set(s.latency_ns.tolist()) == {500_000_000}  # every sample took the service time
    assert len(s.lateness_ns) == len(s.latency_ns) - 1


def test_no_per_sample_file(report_runs, tmp_path):
    run = read_run(report_runs["offline"])
    assert load_samples(_without_npz(run.performance.folder, tmp_path), "Offline") is None
    pts = percentile_points(run.perf["results"])
    assert pts[0][0] == 0.0 and pts[-1][0] == 100.0
    assert [p for p, _ in pts] == sorted(p for p, _ in pts)


def test_npz_format(tmp_path):
    # MultiStream, 3 queries of 2 samples: issued at 0, 10, 20 ms; each sample 4 ms after its query's issue;
    # the last sample never completed
    done = np.array([4, 4, 14, 14, 24, -1], dtype=np.int64) * 1_000_000
    np.savez(tmp_path / "podium_samples.npz", scheduled_ns=np.array([0, 10, 20]) * 1_000_000,
             issued_ns=np.array([0, 10, 20]) * 1_000_000 + 1000, done_ns=done, samples_per_query=2,
             scenario="MultiStream")
    s = load_samples(tmp_path, "MultiStream")
    assert s.source == "podium_samples.npz"
    assert s.latency_ns.tolist() == [3_999_000] * 5
    assert s.lateness_kind == "issue_gap"
    assert s.lateness_ns.tolist() == [6_001_000, 6_001_000]  # next issue 10.001 ms - previous done 4 ms
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(SampleDataError, match="not a podium samples file"):
        read_npz(tmp_path / "bad.npz")


def test_spl(tmp_path):
    p = tmp_path / "spl.txt"
    p.write_text("Time,01-01-2026 00:00:00.000,Watts,100.5,Volts,230\nTime,01-01-2026 00:00:01.500,Watts,110,x,y\n")
    assert read_spl(p) == [(0.0, 100.5), (1.5, 110.0)]
    assert read_spl(tmp_path / "none.txt") == []
    p.write_text("Time,yesterday,Watts,1,a,b\n")
    with pytest.raises(SampleDataError, match="spl.txt:1"):
        read_spl(p)
