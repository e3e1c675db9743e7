"""The run record has one writer: ``start_test`` writes ``podium/podium_result.json`` once, with every
contributor's part, after the official logs are closed; nothing touches the logs or the record afterwards."""

from __future__ import annotations

import collections
import hashlib
import json
import os
from pathlib import Path

import pytest

import podium.files
from podium.cli.main import main
from podium.loadgen import LogSettings, RunOptions, Scenario, TestMode, TestSettings, start_test
from podium.loadgen.record import RECORD_VERSION, RecordPart, RunRecord
from podium.loadgen.types import BaseSUT, SimpleQSL

OFFICIAL = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json")


class _EchoSUT(BaseSUT):
    def issue_queries(self, samples):
        self.complete([(s.id, b"\x01\x00\x00\x00") for s in samples])


def _digests(folder: Path) -> dict[str, str]:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in OFFICIAL if (folder / n).exists()}


class _Witness:
    """A contributor that sees the closed logs and adds a part (and one that fails)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.started = False

    def test_starting(self, outdir: Path, settings: TestSettings) -> None:
        self.started = not (outdir / "mlperf_log_detail.txt").exists()  # before any log is opened

    def test_ended(self, result) -> RecordPart:
        folder = Path(result.log_paths["detail"]).parent
        self.seen = _digests(folder)
        assert not (folder / "podium" / "podium_result.json").exists()  # the record is not written yet
        return RecordPart(values={"witness": {"files": sorted(self.seen)}}, labels=["witnessed"],
                          invalid_reasons=["the witness says so"], notes=["witness was here"])


class _Broken:
    def test_starting(self, outdir: Path, settings: TestSettings) -> None:
        pass

    def test_ended(self, result) -> RecordPart:
        raise RuntimeError("no part today")


def test_contributors_add_parts_to_one_write_and_the_logs_stay_as_closed(tmp_path):
    settings = TestSettings(scenario=Scenario.SingleStream, mode=TestMode.PerformanceOnly, min_duration_ms=50,
                            min_query_count=20, single_stream_expected_latency_ns=100_000)
    witness = _Witness()
    result = start_test(_EchoSUT(), SimpleQSL(16, 16), settings, LogSettings(outdir=str(tmp_path)),
                        options=RunOptions(), audit_config=None, extra_result={"run_id": "r1"},
                        contributors=[witness, _Broken()])
    assert witness.started
    assert _digests(tmp_path) == witness.seen and set(witness.seen) == set(OFFICIAL)  # byte-identical after
    rec = RunRecord.read(tmp_path / "podium" / "podium_result.json")
    assert rec.version == RECORD_VERSION and rec.run_id == "r1" and rec.mode == "PerformanceOnly"
    assert rec.section("witness") == {"files": sorted(OFFICIAL)}
    assert "witnessed" in rec.labels
    assert "the witness says so" in rec.section("performance")["invalid_reasons"]
    notes = rec.data["notes"]
    assert "witness was here" in notes
    assert any("_Broken failed to add its part (RuntimeError: no part today)" in n for n in notes)
    assert result.result_json == tmp_path / "podium" / "podium_result.json"


def test_a_contributor_that_cannot_start_stops_the_test_before_any_log(tmp_path):
    class NoStart(_Broken):
        def test_starting(self, outdir, settings):
            raise RuntimeError("meter offline")

    settings = TestSettings(scenario=Scenario.SingleStream, mode=TestMode.PerformanceOnly, min_duration_ms=50)
    with pytest.raises(RuntimeError, match="meter offline"):
        start_test(_EchoSUT(), SimpleQSL(16, 16), settings, LogSettings(outdir=str(tmp_path)),
                   audit_config=None, contributors=[NoStart()])
    assert not list(tmp_path.glob("mlperf_log_*"))


def test_podium_run_writes_each_record_once(tmp_path, monkeypatch):
    """A whole ``podium run`` (calibration probe, power ranging + testing runs, accuracy): each test's record
    is written exactly once, by the engine, and no one merges into one afterwards."""
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    writes: collections.Counter[str] = collections.Counter()
    real_replace = os.replace

    def counting_replace(src, dst, *a, **kw):
        if Path(dst).name == "podium_result.json":
            writes[str(Path(dst).parent.parent.relative_to(tmp_path / "r"))] += 1
        return real_replace(src, dst, *a, **kw)

    def no_merge(path, extra):
        raise AssertionError(f"{path}: a record was rewritten after the engine wrote it")

    monkeypatch.setattr(podium.files.os, "replace", counting_replace)
    monkeypatch.setattr(podium.files, "merge_json_atomic", no_merge)
    rc = main(["run", "--duration", "1", "--power", "sim", "--output", str(tmp_path / "r"), "--run-name", "x"])
    assert rc == 0
    assert writes and set(writes.values()) == {1}, writes
    assert {"x/performance/ranging", "x/performance/run_1", "x/accuracy"} <= set(writes)
    testing = json.loads((tmp_path / "r" / "x" / "performance" / "run_1" / "podium" / "podium_result.json")
                         .read_text())
    assert testing["power"]["measured"] is True and testing["power_valid"] is True
    assert testing["record_version"] == RECORD_VERSION
    accuracy = json.loads((tmp_path / "r" / "x" / "accuracy" / "podium" / "podium_result.json").read_text())
    assert accuracy["accuracy"]["passed"] is True
