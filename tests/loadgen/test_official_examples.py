"""Podium reruns the settings of the official v2.1 example logs and must write the same layout, keys, order,
formats, loaded sets, schedules and accuracy-log pairs.

The example logs are data kept in the repository: tests/data/official_examples/official-v2.1 (a copy of the
spec's examples/official-v2.1, see its README.md), so these tests run from a plain clone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from podium.loadgen import LogSettings, Scenario, SimpleQSL, TestMode, TestSettings, start_test
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from tests.loadgen.simsut import SimSUT

SEEDS = dict(qsl_rng_seed=14284205019438841327, sample_index_rng_seed=4163916728725999944,
             schedule_rng_seed=299063814864929621)

CASES = {
    "SingleStream": dict(scenario=Scenario.SingleStream, min_query_count=256,
                         single_stream_expected_latency_ns=600000),
    "MultiStream": dict(scenario=Scenario.MultiStream, min_query_count=256,
                        multi_stream_expected_latency_ns=700000),
    "Server": dict(scenario=Scenario.Server, min_query_count=256, server_target_qps=500,
                   server_target_latency_ns=15000000),
    "Offline": dict(scenario=Scenario.Offline, min_query_count=1, offline_expected_qps=2000),
    "Offline-accuracy": dict(scenario=Scenario.Offline, mode=TestMode.AccuracyOnly, offline_expected_qps=2000),
}

# Keys whose values depend on the machine, the build or the clock, not on the settings.
MEASURED = re.compile(r"^(loadgen_|test_datetime|get_sut_name|power_|result_|early_stopping_|sut_name|qsl_name)")


def _run(name: str, outdir: Path):
    kw = dict(CASES[name])
    settings = TestSettings(mode=kw.pop("mode", TestMode.PerformanceOnly), min_duration_ms=2000, **SEEDS, **kw)
    clock = SimClock()
    sut = SimSUT(clock, service_ns=500_000, workers=2)
    sut.name = "PySUT"
    qsl = SimpleQSL(1024, 256, name="PyQSL")
    return start_test(sut, qsl, settings, LogSettings(outdir=str(outdir)), clock=clock, audit_config=None)


def _mask(line: str) -> str:
    return re.sub(r"\d+(\.\d+)?(e[+-]\d+)?", "N", line)


@pytest.mark.parametrize("name", list(CASES))
def test_detail_log_keys_values_and_order(name, tmp_path, spec_examples):
    _run(name, tmp_path)
    ours = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    theirs = read_detail_log(spec_examples / name / "mlperf_log_detail.txt")
    assert [r["key"] for r in ours] == [r["key"] for r in theirs]
    for a, b in zip(ours, theirs):
        assert set(a) == set(b) and set(a["metadata"]) == set(b["metadata"])
        assert a["event_type"] == b["event_type"] and a["namespace"] == b["namespace"]
        if not MEASURED.match(a["key"]):
            assert a["value"] == b["value"], a["key"]


@pytest.mark.parametrize("name", list(CASES))
def test_detail_lines_formatted_like_official(name, tmp_path, spec_examples):
    _run(name, tmp_path)
    ours = (tmp_path / "mlperf_log_detail.txt").read_text().splitlines()
    theirs = (spec_examples / name / "mlperf_log_detail.txt").read_text().splitlines()
    strip = re.compile(r'"file": "[^"]*", "line_no": \d+, "pid": \d+, "tid": \d+')
    for a, b in zip(ours, theirs):
        key = json.loads(b[len(":::MLLOG "):])["key"]
        if MEASURED.match(key):
            continue
        a2 = re.sub(r'"time_ms": \d+\.\d{6}', '"time_ms": T', strip.sub("M", a))
        b2 = re.sub(r'"time_ms": \d+\.\d{6}', '"time_ms": T', strip.sub("M", b))
        assert a2 == b2


@pytest.mark.parametrize("name", list(CASES))
def test_summary_layout_line_by_line(name, tmp_path, spec_examples):
    _run(name, tmp_path)
    ours = (tmp_path / "mlperf_log_summary.txt").read_text().splitlines()
    theirs = (spec_examples / name / "mlperf_log_summary.txt").read_text().splitlines()
    assert len(ours) == len(theirs)
    in_params = False
    for a, b in zip(ours, theirs):
        if b == "Test Parameters Used":
            in_params = True
        if in_params:
            assert a == b  # settings, not measurements: must be identical
        else:
            assert _mask(a) == _mask(b)


def test_offline_accuracy_log_pairs_identical(tmp_path, spec_examples):
    result = _run("Offline-accuracy", tmp_path)
    ours = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    theirs = json.loads((spec_examples / "Offline-accuracy" / "mlperf_log_accuracy.json").read_text())
    key = lambda e: (e["seq_id"], e["qsl_idx"], e["data"])  # noqa: E731
    assert sorted(map(key, ours)) == sorted(map(key, theirs))
    assert result.accuracy_log_entries == 1024
    text = (tmp_path / "mlperf_log_accuracy.json").read_text()
    assert text.startswith("[\n{ \"seq_id\" : ") and text.endswith(" }\n]\n")


@pytest.mark.parametrize("name", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_performance_accuracy_log_is_empty_like_official(name, tmp_path, spec_examples):
    _run(name, tmp_path)
    assert (tmp_path / "mlperf_log_accuracy.json").read_text() == (
        spec_examples / name / "mlperf_log_accuracy.json").read_text() == "[\n]\n"


def test_invalid_reason_identical_to_official_including_trailing_space(tmp_path, spec_examples):
    # The official appends "<recommendation> " per failed constraint and logs the text as it is.
    _run("Offline", tmp_path)
    ours = {r["key"]: r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt")}
    theirs = {r["key"]: r["value"] for r in read_detail_log(spec_examples / "Offline" / "mlperf_log_detail.txt")}
    assert theirs["result_invalid_reason"].endswith(". ")
    assert ours["result_invalid_reason"] == theirs["result_invalid_reason"]
