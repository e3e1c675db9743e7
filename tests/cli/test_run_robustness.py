"""``podium run`` at the edges: Ctrl-C, one folder per run, piped output, a run name already taken."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.cli.main import main


def _podium(args: list[str], env_db: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PODIUM_RESULTS_DB": str(env_db), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "podium.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def _store_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("select * from runs").fetchall()


@pytest.mark.parametrize("scenario", ["Offline", "Server"])
def test_ctrl_c_stops_within_a_second_writes_invalid_logs_records_and_exits_130(tmp_path, scenario):
    out, db = tmp_path / "res", tmp_path / "store.sqlite"
    # Offline: a fixed query size (3M samples: some seconds of work here), so generating it takes no time and
    # samples complete within the wait below; the measured default would make a query of ~15M samples
    sizing = ["--expected-qps", "50000"] if scenario == "Offline" else []
    proc = _podium(["run", "--scenario", scenario, "--duration", "60", *sizing, "--output", str(out)], db)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("*/performance/mlperf_log_detail.txt")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # well inside the performance series
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert took < 5, f"Ctrl-C took {took:.1f} s"  # < 1 s of engine time plus interpreter shutdown
    assert "terminate called" not in stderr
    run_dir = (out / "latest").resolve()
    summary = (run_dir / "performance" / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary and "Interrupted (Ctrl-C)" in summary
    result = json.loads((run_dir / "performance" / "podium" / "podium_result.json").read_text())
    assert result["interrupted"] is True and result["performance"]["sample_count"] > 0
    assert not (run_dir / "accuracy").exists()  # nothing runs after the interrupt
    assert len(_store_rows(db)) == 1
    assert "interrupted" in stdout


def test_every_run_gets_its_own_folder_and_latest_points_at_the_newest(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(out)]) == 0
    first = (out / "latest").resolve()
    first_summary = (first / "performance" / "mlperf_log_summary.txt").read_text()
    assert main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(out)]) == 0
    second = (out / "latest").resolve()
    text = capsys.readouterr().out
    assert "steps: loading model" in text and "performance" in text.split("steps:")[1]  # each step, timed
    assert first != second and first.parent == second.parent == out.resolve()
    assert (first / "performance" / "mlperf_log_summary.txt").read_text() == first_summary  # untouched
    ids = [json.loads((d / "performance" / "podium" / "podium_result.json").read_text())["run_id"]
           for d in (first, second)]
    assert ids == [first.name, second.name]
    assert os.readlink(out / "latest") == second.name  # relative: the results folder can move


def test_a_taken_run_name_is_refused_unless_force(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(out),
                 "--run-name", "base"]) == 0
    marker = out / "base" / "performance" / "mlperf_log_summary.txt"
    before = marker.read_text()
    capsys.readouterr()
    assert main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(out),
                 "--run-name", "base"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--run-name base" in err[0] and "--force" in err[0]
    assert marker.read_text() == before
    assert main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(out),
                 "--run-name", "base", "--force"]) == 0
    assert (out / "base" / "performance" / "podium" / "podium_result.json").is_file()


def test_piped_output_prints_plain_progress_lines(tmp_path):
    proc = _podium(["run", "--mode", "performance", "--duration", "3", "--output", str(tmp_path / "r")],
                   tmp_path / "db.sqlite")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    progress = [ln for ln in stderr.splitlines() if ln.startswith("podium: performance")]
    assert progress and "issued" in progress[-1] and "completed" in progress[-1]
    assert "\x1b[" not in stderr  # plain text, no terminal control codes


@pytest.mark.parametrize("argv, expected", [
    (["run", "--duration", "abc"], "argument --duration: invalid float value: 'abc'"),
    (["run", "--benchmark", "resnet50"], "did you mean 'resnet'?"),
    (["run", "--data-dir", "/tmp"], "benchmark digits ships its own data"),
    # refused before the performance run, not after it (it used to measure for 16 s first)
    (["run", "--compliance", "TEST05", "--mode", "performance"], "--compliance: needs a performance run and an"),
])
def test_rough_edges_are_one_line(argv, expected, capsys, tmp_path):
    with pytest.raises(SystemExit) if "abc" in argv else _nothing():
        rc = main(argv + ["--output", str(tmp_path / "out")])
        assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "out").exists()  # bad input leaves no run folder behind


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_progress_rate_restarts_with_each_test_and_is_never_negative(monkeypatch):
    import podium.loadgen.session as lgsession
    from podium.cli.cmd_run import _Progress

    frames = iter([
        {"series": "PerformanceOnly", "series_elapsed_s": 9.0, "issued": 100, "completed": 2_000_000,
         "generated": 100},
        # the next compliance test started: same series name, counts from zero again
        {"series": "PerformanceOnly", "series_elapsed_s": 0.5, "issued": 100, "completed": 50_000, "generated": 100},
        {"series": "PerformanceOnly", "series_elapsed_s": 1.5, "issued": 100, "completed": 150_000,
         "generated": 100},
    ])
    monkeypatch.setattr(lgsession, "progress", lambda: next(frames))
    prog = _Progress(console=None)  # type: ignore[arg-type]
    lines = [prog.line() for _ in range(3)]
    assert "samples/s" not in lines[0] and "samples/s" not in lines[1]  # no rate across two tests
    assert "samples/s" in lines[2] and "-" not in lines[2].split("of")[-1]


def test_a_run_without_a_rate_shows_n_a_not_a_traceback(tmp_path, capsys, monkeypatch):
    # An Offline run interrupted before anything completed has no samples/s (None); the table used to crash
    import podium.loadgen.record as record

    real = record.headline
    monkeypatch.setattr(record, "headline", lambda perf, rules=None: {**real(perf, rules), "value": None})
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    rc = main(["run", "--mode", "performance", "--duration", "0.5", "--output", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert "n/a (nothing completed)" in out and rc in (0, 1)
