"""The report opened in a real headless browser (Chromium): it renders, with its figures. Skipped without
Chromium (Debian: apt-get install chromium)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "scripts" / "screenshot_report.py")
shot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shot)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shot.find_chromium() is None, reason="no chromium (apt-get install chromium)")]


def test_report_screenshot_shows_the_report(report_runs, tmp_path):
    from podium.report.html import build_report
    from podium.report.model import from_run
    from podium.report.runs import read_run

    html = tmp_path / "report.html"
    build_report([from_run(read_run(report_runs[k])) for k in ("server", "ss", "offline")], html)
    png = shot.screenshot(html, tmp_path / "report.png", width=1280, height=2000)
    facts = shot.inspect(png)
    assert (facts["width"], facts["height"]) == (1280, 2000)
    assert shot.looks_right(facts) == [], facts


def test_blank_page_is_caught(tmp_path):
    html = tmp_path / "blank.html"
    html.write_text("<!DOCTYPE html><html><body></body></html>")
    facts = shot.inspect(shot.screenshot(html, tmp_path / "blank.png", width=800, height=600))
    assert shot.looks_right(facts)
