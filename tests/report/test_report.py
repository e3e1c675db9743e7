"""The HTML report: self-contained, one section per topic, figures inlined as PNG, honest labels."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from podium.report.html import SECTIONS, build_report  # noqa: E402
from podium.report.model import from_row, from_run  # noqa: E402
from podium.report.runs import read_run  # noqa: E402
from podium.report.store import ResultsStore, record_run  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Collects section ids, images and every URL the page references."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.current: str | None = None
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.current = a.get("id")
            self.sections[self.current] = []
        if tag == "img":
            self.images.append({**a, "section": self.current})
        for key in ("src", "href"):
            if a.get(key):
                self.urls.append(a[key])

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        self.text.append(data)
        if self.current:
            self.sections[self.current].append(data)


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


@pytest.fixture(scope="module")
def report(report_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    runs = [from_run(read_run(report_runs[k])) for k in ("server", "ss", "offline")]
    files = build_report(runs, out / "report.html", png_dir=out / "png",
                         system_description={"host_processor_model_name": "Test CPU", "cooling": ""})
    return out, files


def test_every_section_present_in_order(report):
    out, _ = report
    page = parse(out / "report.html")
    assert list(page.sections) == [sid for sid, _ in SECTIONS]
    assert page.tags[0] == "html" and "script" not in page.tags


def test_self_contained(report):
    out, _ = report
    page = parse(out / "report.html")
    # nothing to fetch: images are data URLs, links are in-page anchors
    assert all(u.startswith("data:image/png;base64,") or u.startswith("#") for u in page.urls), page.urls
    assert "http://" not in (out / "report.html").read_text() and "https://" not in (out / "report.html").read_text()
    for img in page.images:
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == PNG
        assert img["alt"]


def test_figures_by_section(report):
    out, files = report
    page = parse(out / "report.html")
    where = [img["section"] for img in page.images]
    assert where.count("latency") == 3  # one per run (two with per-sample data, one from percentiles)
    for sid in ("throughput", "lateness", "power", "accuracy"):
        assert where.count(sid) == 1, sid
    pngs = sorted(p.name for p in files[1:])
    assert pngs == ["accuracy.png", "latency_1.png", "latency_2.png", "latency_3.png", "lateness.png", "power.png",
                    "throughput.png"]
    assert all(p.read_bytes()[:8] == PNG for p in files[1:])


def test_results_labels_and_sections_content(report):
    out, _ = report
    page = parse(out / "report.html")
    results = " ".join(page.sections["results"])
    assert "VALID" in results and "INVALID" in results
    assert "short run" in results and "random weights" in results
    assert "resnet" in results and "Server" in results and "SingleStream" in results
    power = " ".join(page.sections["power"])
    assert "250.0" in power and "SIMULATED" in power
    system = " ".join(page.sections["system"])
    assert "Test CPU" in system and "to fill" in system and "Simulated CPU" in system
    published = " ".join(page.sections["published"])
    assert "PUBLISHED CLAIM" in published and "Biren" in published  # resnet Offline figures
    banner = " ".join(page.text)
    assert "Read with care" in banner


def test_report_from_the_store(report_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "db.sqlite"))
    ids = [record_run(report_runs[k]) for k in ("server", "offline")]
    with ResultsStore() as store:
        rows = store.query()
    runs = [from_row(r) for r in rows]
    assert [r.name.split()[0] for r in runs] == [f"#{i}" for i in ids]
    assert runs[0].samples is not None  # the folder still exists: per-sample data read
    gone = dict(rows[1], run_dir=str(tmp_path / "deleted"))
    stored = from_row(gone)
    assert stored.samples is None and "no longer on disk" in stored.notes[0]
    assert stored.power["average_watts"] == 250.0
    build_report([runs[0], stored], tmp_path / "r.html")
    page = parse(tmp_path / "r.html")
    assert list(page.sections) == [sid for sid, _ in SECTIONS]


def test_cli_report(report_runs, tmp_path, capsys, monkeypatch):
    from tests.submission.cli import run_cli

    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "db.sqlite"))
    assert run_cli(["report", str(report_runs["ss"]), "--out", str(tmp_path / "a.html")]) == 0
    assert (tmp_path / "a.html").is_file()
    assert run_cli(["report", "--out", str(tmp_path / "b.html")]) == 2
    assert "no runs" in capsys.readouterr().out
    assert run_cli(["report", "--all", "--out", str(tmp_path / "b.html")]) == 2  # empty store
    record_run(report_runs["server"])
    assert run_cli(["report", "--all", "--last", "1", "--out", str(tmp_path / "b.html"), "--png-dir",
                    str(tmp_path / "png")]) == 0
    assert (tmp_path / "png" / "latency_1.png").is_file()



def test_a_short_runs_valid_says_short_run(report_runs, tmp_path):
    import dataclasses

    server = from_run(read_run(report_runs["server"]))
    assert server.valid is True and not server.short_run
    short = dataclasses.replace(server, name="short", labels=["short run: min_duration 5 s - not a valid MLPerf "
                                                                "duration"])
    build_report([server, short], tmp_path / "report.html", png_dir=tmp_path / "png")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    # one VALID stands alone (the full-length run), the short run's says it is one
    assert html.count('<span class="ok">VALID</span> (short run)') == 1
    assert html.count('<span class="ok">VALID</span></td>') == 1
