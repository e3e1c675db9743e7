"""Failures end the test, never the logs: SUT/QSL exceptions, Ctrl-C, and a disk that fills up."""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
import time

import pytest

from podium.errors import PodiumError, RunInterrupted
from podium.loadgen import LogSettings, RunOptions, Scenario, TestMode, TestSettings, start_test
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from podium.loadgen.types import SimpleQSL
from tests.loadgen.simsut import SimSUT

SEEDS = dict(qsl_rng_seed=1, sample_index_rng_seed=2, schedule_rng_seed=3)


def _settings(**kw):
    base = dict(scenario=Scenario.Offline, mode=TestMode.PerformanceOnly, offline_expected_qps=1000,
                min_duration_ms=50, min_query_count=1)
    base.update(kw)
    return TestSettings(**SEEDS, **base)


class RaisingSUT(SimSUT):
    def __init__(self, clock, when: str) -> None:
        super().__init__(clock, 1000)
        self.when = when

    def issue_queries(self, samples):
        if self.when == "issue":
            raise ValueError("bad batch shape")
        super().issue_queries(samples)

    def flush_queries(self):
        if self.when == "flush":
            raise RuntimeError("flush broke")


class RaisingQSL(SimpleQSL):
    def __init__(self, total, perf, when: str) -> None:
        super().__init__(total, perf)
        self.when = when

    def load_samples(self, indices):
        if self.when == "load":
            raise OSError(errno.EIO, "cannot read the data set")

    def unload_samples(self, indices):
        if self.when == "unload":
            raise KeyError("gone")


@pytest.mark.parametrize("where, named", [
    ("issue", "SUT issue_queries raised ValueError: bad batch shape"),
    ("flush", "SUT flush_queries raised RuntimeError: flush broke"),
    ("load", "QSL load_samples raised OSError"),
    ("unload", "QSL unload_samples raised KeyError"),
])
def test_an_exception_in_the_sut_or_qsl_is_named_in_every_log(tmp_path, where, named):
    clock = SimClock()
    sut = RaisingSUT(clock, where if where in ("issue", "flush") else "")
    qsl = RaisingQSL(64, 64, where if where in ("load", "unload") else "")
    res = start_test(sut, qsl, _settings(), LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    assert res.failure is not None and named in res.failure and not res.valid
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary and named in summary
    assert "No errors encountered" not in summary
    errors = [r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt") if r["metadata"]["is_error"]]
    assert any(named in e for e in errors)
    result = json.loads((tmp_path / "podium" / "podium_result.json").read_text())
    assert named in result["failure"] and result["valid"] is False


def test_ctrl_c_stops_at_once_writes_invalid_logs_and_raises(tmp_path):
    """SIGINT in the main thread while an Offline query is outstanding: no waiting for the SUT."""

    class SlowSUT(SimSUT):  # takes a sample, answers half, then hangs (a real backend still busy)
        def issue_queries(self, samples):
            self.complete([(s.id, b"\0\0\0\0") for s in samples[: len(samples) // 2]])
            threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()

    from podium.loadgen.clock import RealClock

    sut = SlowSUT(SimClock(), 1000)
    settings = _settings(offline_expected_qps=100)
    t0 = time.monotonic()
    with pytest.raises(RunInterrupted) as info:
        start_test(sut, SimpleQSL(64, 64), settings, LogSettings(outdir=str(tmp_path)), clock=RealClock(),
                   audit_config=None, options=RunOptions(completion_timeout_s=60))
    elapsed = time.monotonic() - t0
    res = info.value.result
    assert res is not None and res.interrupted and not res.valid
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary and "Interrupted (Ctrl-C)" in summary
    data = json.loads((tmp_path / "podium" / "podium_result.json").read_text())
    assert data["interrupted"] is True and data["valid"] is False
    series = res.series[-1]
    assert 0 < series.completed_samples < series.issued_samples  # half answered, the rest outstanding
    assert res.performance is not None and res.performance.sample_count == series.completed_samples
    assert elapsed < 5  # the completion timeout is 60 s: Ctrl-C did not wait for the outstanding samples
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch):
    import podium.files as files

    real_replace = os.replace

    def full_disk(src, dst):
        if str(dst).endswith("mlperf_log_summary.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", full_disk)
    clock = SimClock()
    with pytest.raises(PodiumError) as info:
        start_test(SimSUT(clock, 1000), SimpleQSL(64, 64), _settings(), LogSettings(outdir=str(tmp_path)),
                   clock=clock, audit_config=None)
    issued = json.loads((tmp_path / "podium" / "podium_result.json").read_text())["series"][-1]["issued_samples"]
    message = str(info.value)
    assert "\n" not in message and "mlperf_log_summary.txt" in message and "No space left" in message
    assert not (tmp_path / "mlperf_log_summary.txt").exists()
    assert not [p for p in tmp_path.rglob("*.tmp")]  # no half-written temporary file is left behind
    # every other file was still written whole
    assert json.loads((tmp_path / "podium" / "podium_result.json").read_text())["mode"] == "PerformanceOnly"
    import numpy as np

    assert np.load(tmp_path / "podium" / "podium_samples.npz")["done_ns"].size == issued


def test_a_stale_summary_from_an_earlier_test_is_removed_when_a_test_starts(tmp_path):
    (tmp_path / "mlperf_log_summary.txt").write_text("Result is : VALID\n")
    clock = SimClock()
    sut = RaisingSUT(clock, "")
    qsl = RaisingQSL(64, 64, "load")
    start_test(sut, qsl, _settings(), LogSettings(outdir=str(tmp_path)), clock=clock, audit_config=None)
    assert "Result is : VALID" not in (tmp_path / "mlperf_log_summary.txt").read_text()
