"""``podium submission table``: every measured scenario is printed and written (a draft tree used to print
nothing, exit 1 and write a header-only CSV), problems are one line, the table fits 80 columns."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from podium.submission import RunInput, check_submission, package_submission
from podium.submission.table import HEADER
from tests.submission.cli import run_cli
from tests.submission.fake_runs import make_run


@pytest.fixture(scope="module")
def draft_tree(tmp_path_factory, fake_machine, system_json) -> Path:
    """A closed tree of two short runs packaged with --draft: measured, but no scenario is accepted."""
    base = tmp_path_factory.mktemp("draft")
    runs = [make_run(base / s, scenario=s, full=False, compliance=False) for s in ("Offline", "Server")]
    out = base / "sub"
    package_submission([RunInput(r) for r in runs], division="closed", submitter="SimOrg", system="simsys",
                       out=out, status="available", system_type="datacenter", system_json=system_json,
                       machine=fake_machine, draft=True)
    return out


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_draft_tree_table_prints_rows_and_writes_every_row(draft_tree, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rep = check_submission(draft_tree)
    assert not rep.rows and len(rep.measured) == 2  # the old command wrote rep.rows: header only
    out_csv = tmp_path / "results.csv"
    assert run_cli(["submission", "table", str(draft_tree), "--csv", str(out_csv)]) == 0
    cap = capsys.readouterr()
    assert "Offline" in cap.out and "Server" in cap.out and "smp/s" in cap.out and "q/s" in cap.out
    assert f"wrote 2 results to {out_csv}" in cap.out
    err_lines = [ln for ln in cap.err.splitlines() if ln.strip()]
    assert len(err_lines) == 1 and "errors; 2 of 2 results would not be accepted" in err_lines[0]
    rows = _csv_rows(out_csv.read_text())
    assert rows[0] == list(HEADER) and len(rows) == 3
    by_scen = {r[8]: dict(zip(HEADER, r, strict=True)) for r in rows[1:]}
    assert set(by_scen) == {"Offline", "Server"}
    assert all(int(r["errors"]) > 0 for r in by_scen.values())


def test_csv_to_stdout_stays_clean(draft_tree, capsys):
    assert run_cli(["submission", "table", str(draft_tree), "--csv", "-"]) == 0
    cap = capsys.readouterr()
    rows = _csv_rows(cap.out)
    assert rows[0] == list(HEADER) and len(rows) == 3  # no table or message mixed into the CSV
    assert "would not be accepted" in cap.err


def test_accepted_tree_has_ok_status_and_no_error_line(packaged, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert run_cli(["submission", "table", str(packaged)]) == 0
    cap = capsys.readouterr()
    assert cap.err == "" and len(re.findall(r"\bok\s*$", cap.out, re.M)) == 2


def test_table_fits_80_columns_with_key_values_whole(draft_tree):
    from podium.cli.cmd_submission import results_table

    rep = check_submission(draft_tree)
    con = Console(width=80, record=True, file=io.StringIO())
    con.print(results_table(rep, draft_tree))
    text = con.export_text()
    assert max(len(ln) for ln in text.splitlines()) <= 80
    for value in ("resnet", "Offline", "Server", "40.00 smp/s", "80.469"):
        assert value in text


def test_no_results_and_unwritable_csv_are_one_line_errors(tmp_path, packaged, capsys):
    (tmp_path / "empty").mkdir()
    assert run_cli(["submission", "table", str(tmp_path / "empty")]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "no measured results" in out[0] and "layout" in out[0]
    assert run_cli(["submission", "table", str(packaged), "--csv", str(tmp_path / "nope" / "x.csv")]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("podium: error: --csv ") and "cannot write it" in out[-1]
