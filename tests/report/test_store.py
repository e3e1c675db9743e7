"""The results store: recording runs, de-duplication, filters, sort, export, and the command line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from podium.report.runs import RunFolderError, read_run
from podium.report.store import ResultsStore, ResultsStoreError, default_path, record_run, write_csv, write_json


def test_default_path_env_override(monkeypatch, tmp_path):
    monkeypatch.delenv("PODIUM_RESULTS_DB", raising=False)
    assert str(default_path()).endswith(".local/share/podium/results.sqlite")
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"


def test_record_run_holds_the_figures(report_runs, store_path):
    rid = record_run(report_runs["server"])
    assert store_path.is_file()
    with ResultsStore() as store:
        row = store.get(rid)
    run = read_run(report_runs["server"])
    assert row["benchmark"] == "resnet" and row["scenario"] == "Server" and row["backend"] == "onnxruntime"
    assert row["valid"] == 1 and row["short_run"] == 0
    assert row["metric_value"] == pytest.approx(run.metric["value"])
    assert row["accuracy_value"] == pytest.approx(80.469) and row["accuracy_passed"] == 1
    assert row["lateness_kind"] == "issue_lateness" and row["lateness_p99_ns"] is not None
    assert row["latency_p99_ns"] == run.perf["results"]["result_99.00_percentile_latency_ns"]
    assert row["settings"]["min_duration_ms"] == 600000
    assert row["modes"] == "accuracy,performance"


def test_same_run_recorded_once(report_runs, store_path):
    a = record_run(report_runs["server"])
    b = record_run(report_runs["server"])
    c = record_run(report_runs["ss"])
    assert a == b != c
    with ResultsStore() as store:
        assert store.count() == 2


def test_labels_power_and_validity(report_runs, store_path):
    ids = {k: record_run(v) for k, v in report_runs.items()}
    with ResultsStore() as store:
        ss, off = store.get(ids["ss"]), store.get(ids["offline"])
    assert ss["short_run"] == 1 and ss["valid"] == 0
    assert any(lbl.startswith("short run") for lbl in ss["labels"]) and any("INVALID" in lbl for lbl in ss["labels"])
    assert off["random_weights"] == 1 and any("random weights" in lbl for lbl in off["labels"])
    assert off["power_watts"] == 250.0 and off["energy_joules"] == 2500.0
    assert any("SIMULATED" in lbl for lbl in off["labels"])


def test_query_filters_sort_limit(report_runs, store_path):
    for v in report_runs.values():
        record_run(v)
    with ResultsStore() as store:
        assert [r["scenario"] for r in store.query(scenario="server")] == ["Server"]
        assert {r["scenario"] for r in store.query(valid=True)} == {"Server", "Offline"}
        assert [r["scenario"] for r in store.query(full_length=False)] == ["SingleStream"]
        by_value = store.query(sort="metric_value", descending=True)
        values = [r["metric_value"] for r in by_value]
        assert values == sorted(values, reverse=True)
        assert len(store.query(limit=2)) == 2
        assert store.query(since="2999-01-01") == []
        assert len(store.query(until="2999-01-01")) == 3
        with pytest.raises(ResultsStoreError, match="--sort nope"):
            store.query(sort="nope")
        with pytest.raises(ResultsStoreError, match="--limit 0"):
            store.query(limit=0)
        assert store.delete([by_value[0]["id"]]) == 1 and store.count() == 2


def test_export_csv_and_json(report_runs, store_path):
    record_run(report_runs["server"])
    with ResultsStore() as store:
        rows = store.query()
    buf = io.StringIO()
    write_csv(rows, buf, ["id", "benchmark", "metric_value", "labels"])
    parsed = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert parsed[0]["benchmark"] == "resnet" and json.loads(parsed[0]["labels"]) == []
    buf = io.StringIO()
    write_json(rows, buf)
    data = json.loads(buf.getvalue())
    assert data[0]["scenario"] == "Server" and isinstance(data[0]["settings"], dict)


def test_not_a_store_and_newer_schema(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("this is not sqlite" * 100)
    with pytest.raises(ResultsStoreError, match="not a podium results store"):
        ResultsStore(bad)
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(ResultsStoreError, match="newer podium"):
        ResultsStore(newer)


def test_read_run_errors(tmp_path):
    with pytest.raises(RunFolderError, match="no such run folder"):
        read_run(tmp_path / "missing")
    with pytest.raises(RunFolderError, match="not a podium run folder"):
        read_run(tmp_path)
    (tmp_path / "performance").mkdir()
    (tmp_path / "performance" / "podium_result.json").write_text("{nope")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        read_run(tmp_path)


def test_read_run_accepts_a_part_folder(report_runs):
    run = read_run(report_runs["server"] / "performance")
    assert list(run.parts) == ["performance"] and run.scenario == "Server"


def test_cli_results(report_runs, store_path, capsys, tmp_path):
    from tests.submission.cli import run_cli

    assert run_cli(["results", "--add", str(report_runs["server"]), "--add", str(report_runs["ss"])]) == 0
    capsys.readouterr()
    assert run_cli(["results", "--format", "json", "--scenario", "SingleStream"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in data] == ["SingleStream"]
    out = tmp_path / "r.csv"
    assert run_cli(["results", "--format", "csv", "--out", str(out), "--columns", "id,scenario,valid"]) == 0
    assert out.read_text().splitlines()[0] == "id,scenario,valid"
    assert run_cli(["results", "--sort", "metric_value", "--desc"]) == 0
    assert "resnet" in capsys.readouterr().out
    assert run_cli(["results", "--columns", "id,bogus"]) == 2
