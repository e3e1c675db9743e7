"""``podium list``, ``podium results`` and ``podium compare`` fit an 80-column terminal: no line is longer, and
key values (names, times, results, ratios) are never broken over two lines or cut off."""

from __future__ import annotations

import re

import pytest

from tests.submission.cli import run_cli


@pytest.fixture(autouse=True)
def _80_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "50")


def _lines(text: str) -> list[str]:
    lines = text.splitlines()
    assert lines
    longest = max(lines, key=len)
    assert len(longest) <= 80, longest
    return lines


def test_list_fits_80_columns(capsys):
    from podium.benchmarks import list_benchmarks
    from podium.cli.main import main

    assert main(["list"]) == 0
    lines = _lines(capsys.readouterr().out)
    for b in list_benchmarks():
        row = next((ln for ln in lines if ln.split() and ln.split()[0] == b.name), None)
        assert row is not None, b.name  # the name whole, at the start of one line
        assert b.conf_model in row.split()
        short = {"SingleStream": "SS", "MultiStream": "MS", "Server": "Srv", "Offline": "Off"}
        assert " ".join(short[s] for s in b.scenarios) in row  # every scenario on the benchmark's line
        assert re.search(r"\b(ready|synthetic|needs files|needs a server)\b", row)


def test_results_table_fits_80_columns(report_runs, store_path, capsys):
    assert run_cli(["results", "--add", str(report_runs["server"]), "--add", str(report_runs["ss"]),
                    "--add", str(report_runs["offline"])]) == 0
    capsys.readouterr()
    assert run_cli(["results"]) == 0
    lines = _lines(capsys.readouterr().out)
    rows = [ln for ln in lines if re.match(r"\s*\d+\s+\d\d-\d\d \d\d:\d\d\s", ln)]
    assert len(rows) == 3  # id and finished time whole on each row's first line
    for ln in rows:
        assert "resnet" in ln.split()
        assert re.search(r"\d[\d,]*\.\d\d (/s|ms)", ln)  # the result whole, with its unit
        assert re.search(r"\b\d+\.\d\d\b", ln.split("resnet", 1)[1])  # accuracy
    text = "\n".join(lines)
    assert "SHORT" in text and "RANDOM-W" in text and "250.0" in text  # flags and the W column
    assert "SS = SingleStream" in text


def test_compare_fits_80_columns(report_runs, capsys):
    assert run_cli(["compare", str(report_runs["offline"]), "--accelerators", "1"]) == 0
    lines = _lines(capsys.readouterr().out)
    header = next(ln for ln in lines if "who / system" in ln)
    assert header.rstrip().endswith("ratio") and "per acc." in header  # no column cut off at the edge
    claims = [ln for ln in lines if ln.startswith("CLAIM ") and not ln.startswith("CLAIM =")]
    assert len(claims) >= 5
    # value, unit and (where counts are known) per-accelerator figure and ratio whole on the row's first line
    assert all(re.search(r"[\d,]+\s+(smp/s|inf/s|q/s|ms)\b", ln) for ln in claims)
    assert sum(1 for ln in claims if re.search(r"\s\d[\d.e+-]*x$", ln.rstrip())) >= 3
    yours = next(ln for ln in lines if ln.startswith("YOURS"))
    assert re.search(r"\s[\d,.]+\s+smp/s\s+1\s", yours)
    text = "\n".join(lines)
    assert text.count("random weights: performance only, accuracy is meaningless") == 1  # once, as a note
