"""Official-demo-style harnesses on ``podium.mlperf_loadgen`` write the same files, with the same contents, as
the same harnesses on podium's native API (both on the simulated clock, so every figure is exact)."""

from __future__ import annotations

import json

import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from tests.mlperf_loadgen.harnesses import PAIRS

# Detail-log keys whose values are wall-clock readings of the machine, not of the (simulated) test.
WALL_CLOCK_KEYS = {"test_datetime", "loadgen_build_date_local", "loadgen_build_date_utc"}


def _detail(path):
    records = read_detail_log(path)
    for r in records:
        if r["key"] in WALL_CLOCK_KEYS:
            r["value"] = "<wall clock>"
    return records


def _result_json(path):
    d = json.loads(path.read_text())
    d.pop("log_files")
    return d


def run_pair(name, sim, tmp_path):
    binding, native = PAIRS[name]
    a, b = tmp_path / "binding", tmp_path / "native"
    info = binding(sim(), a)
    native(SimClock(), b)
    return a, b, info


@pytest.mark.parametrize("name", list(PAIRS))
def test_binding_harness_writes_what_the_native_api_writes(name, sim, tmp_path):
    a, b, _ = run_pair(name, sim, tmp_path)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert files == ["mlperf_log_accuracy.json", "mlperf_log_detail.txt", "mlperf_log_summary.txt",
                     "mlperf_log_trace.json", "podium"]
    da, db = _detail(a / "mlperf_log_detail.txt"), _detail(b / "mlperf_log_detail.txt")
    assert [r["key"] for r in da] == [r["key"] for r in db]
    assert da == db
    assert (a / "mlperf_log_summary.txt").read_text() == (b / "mlperf_log_summary.txt").read_text()
    assert (a / "mlperf_log_accuracy.json").read_bytes() == (b / "mlperf_log_accuracy.json").read_bytes()
    assert (a / "mlperf_log_trace.json").read_bytes() == (b / "mlperf_log_trace.json").read_bytes()
    assert _result_json(a / "podium" / "podium_result.json") == _result_json(b / "podium" / "podium_result.json")
    # the comparison is not vacuous: the run did something, and logged response bytes
    result = json.loads((a / "podium" / "podium_result.json").read_text())
    assert result["performance"]["sample_count"] > 0
    assert result["accuracy_log_entries"] > 0
    assert not result["errors"]
    log = json.loads((a / "mlperf_log_accuracy.json").read_text())
    assert all(e["data"] for e in log)


def test_names_are_those_of_the_official_trampolines(sim, tmp_path):
    for name, sut_name in (("Server", "PySUT"), ("Server-FastSUT", "PyFastSUT")):
        out = tmp_path / name
        PAIRS[name][0](sim(), out)
        recs = {r["key"]: r["value"] for r in read_detail_log(out / "mlperf_log_detail.txt")}
        assert recs["sut_name"] == sut_name
        assert recs["qsl_name"] == "PyQSL"
        assert f"SUT name : {sut_name}" in (out / "mlperf_log_summary.txt").read_text()


def test_fast_sut_gets_python_lists_of_ints(sim, tmp_path):
    info = PAIRS["Server-FastSUT"][0](sim(), tmp_path)
    assert info["calls"] and all(c == (list, list, 1) for c in info["calls"])


def test_response_cb_is_called_exactly_for_the_logged_samples(sim, tmp_path):
    info = PAIRS["Server-response_cb"][0](sim(), tmp_path)
    log = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    # podium's response ids are sequence ids + 1
    logged = sorted(e["seq_id"] + 1 for e in log)
    assert sorted(info["copied"]) == logged
    assert len(info["copied"]) == len(set(info["copied"]))
    result = lg._last_result
    assert result.accuracy_log_entries == len(log)
    # all 64 samples in accuracy mode plus some, not all, of the performance run
    perf_samples = result.performance.sample_count
    assert 64 < len(log) < 64 + perf_samples
