"""The report's figures read right: a log throughput axis for rates far apart, lateness names that do not
overlap, an accuracy axis zoomed to show the margin, LoadGen's percentile rule in plots as in tables, and
long labels written once."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from podium.loadgen import stats  # noqa: E402
from podium.report import plots  # noqa: E402
from podium.report.html import build_report  # noqa: E402
from podium.report.model import ReportRun, from_run  # noqa: E402
from podium.report.runs import read_run  # noqa: E402
from podium.report.samples import SampleData  # noqa: E402


def _run(name: str, *, samples: SampleData | None = None, lateness: dict | None = None,
         accuracy: dict | None = None, labels: list[str] | None = None) -> ReportRun:
    return ReportRun(name=name, benchmark="resnet", scenario="Server", backend="onnxruntime",
                     metric={"name": "completed samples per second", "value": 10.0, "unit": "samples/s"},
                     valid=True, accuracy=accuracy or {}, lateness=lateness or {}, power={}, results={}, system={},
                     settings={}, labels=labels or [], samples=samples)


def _samples(rate_per_s: float, seconds: float = 10.0, lateness_ns: np.ndarray | None = None) -> SampleData:
    done = np.arange(0, seconds, 1.0 / rate_per_s)[1:] * 1e9
    done = done.astype(np.int64)
    lat = np.full(len(done), 1_000_000, dtype=np.int64)
    return SampleData("Server", lat, done, lateness_ns, "issue_lateness" if lateness_ns is not None else "none",
                      "test")


def test_throughput_uses_a_log_axis_when_rates_differ_more_than_10x():
    fig = plots.throughput_figure([_run("fast", samples=_samples(2000)), _run("slow", samples=_samples(20))])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo < 20 < 2000 < hi  # the slow run is on the axis, not flat on a zero baseline
    plots._plt().close(fig)
    fig = plots.throughput_figure([_run("a", samples=_samples(200)), _run("b", samples=_samples(120))])
    assert fig.axes[0].get_yscale() == "linear"
    plots._plt().close(fig)


def test_lateness_run_names_do_not_overlap():
    runs = [_run(f"20261207-06{i:02d}00-resnet-Server", lateness={"kind": "issue_lateness", "p50_ns": 1000 * i,
                                                                  "p99_ns": 5000 * i, "max_ns": 9000 * i})
            for i in range(1, 9)]
    fig = plots.lateness_figure(runs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert len(boxes) == 8
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    # the kind is said once, in the title, not under every bar
    assert all("\n" not in t.get_text() for t in ax.get_xticklabels())
    assert "issue_lateness" in ax.get_title()
    plots._plt().close(fig)


def test_accuracy_axis_is_zoomed_around_value_and_target():
    runs = [_run("r1", accuracy={"metric": "acc", "value": 76.1, "target": 75.6954, "passed": True}),
            _run("r2", accuracy={"metric": "acc", "value": 75.9, "target": 75.6954, "passed": True})]
    fig = plots.accuracy_figure(runs)
    lo, hi = fig.axes[0].get_xlim()
    assert lo < 75.6954 and 76.1 < hi
    assert hi - lo < 2.0  # was 0 .. 87.5: a 0.4-point margin was invisible
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "+0.405 vs target 75.695" in texts
    plots._plt().close(fig)
    assert plots.accuracy_range([80.0], [80.0]) == pytest.approx((79.2, 80.8))


def _legend(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_plots_use_loadgen_percentiles_as_the_tables(tmp_path):
    rng = np.random.default_rng(7)
    # 150 values: LoadGen's p99 is v[148]; numpy interpolates between v[147] and v[148].
    late = np.sort(rng.integers(1_000, 900_000, size=150)).astype(np.int64)
    s = _samples(15, lateness_ns=late)
    s.latency_ns = np.sort(rng.integers(1_000_000, 90_000_000, size=len(s.done_ns))).astype(np.int64)
    p99_late = stats.percentile(late, 0.99)
    assert f"{p99_late / 1e3:,.1f}" != f"{np.percentile(late, 99) / 1e3:,.1f}"  # the data tells them apart
    run = _run("srv", samples=s, lateness={"kind": "issue_lateness", "p50_ns": stats.percentile(late, 0.5),
                                           "p99_ns": p99_late, "max_ns": int(late[-1])})
    fig = plots.lateness_figure([run])
    plot_text = " ".join(_legend(fig))
    plots._plt().close(fig)
    out = tmp_path / "r.html"
    build_report([run], out)
    html = out.read_text(encoding="utf-8")
    table_p99 = re.search(r"<td class=num>([\d,.]+) µs \(issue_lateness\)</td>", html).group(1)
    assert f"p99 {table_p99} µs" in plot_text  # one number in the plot and the table
    fig = plots.latency_figure(run)
    lat_p99 = stats.percentile(s.latency_ns, 0.99) / 1e6
    assert f"p99 {lat_p99:.3f} ms" in _legend(fig)
    assert f"p99 {np.percentile(s.latency_ns, 99) / 1e6:.3f} ms" not in _legend(fig)
    plots._plt().close(fig)


def test_a_long_label_is_written_once_and_rows_refer_to_it(report_runs, tmp_path):
    names = ("offline-a", "offline-b", "offline-c")
    runs = [from_run(read_run(report_runs["offline"]), name=n) for n in names]
    long = next(lbl for lbl in runs[0].labels if lbl.startswith("random weights"))
    assert len(long) > 24
    out = tmp_path / "r.html"
    build_report(runs, out)
    html = out.read_text(encoding="utf-8")
    assert html.count(long) == 1  # once, in the list under the results table
    k = re.search(rf'<li id="label-(\d+)" value="\d+">{re.escape(long)}</li>', html).group(1)
    results = html[html.index('<section id="results">'):]
    results = results[:results.index("</section>")]
    rows = re.findall(r"<tr><td>(offline-[abc])</td>.*?</tr>", results)
    assert rows == list(names)
    for n in names:
        row = re.search(rf"<tr><td>{n}</td>.*?</tr>", results).group(0)
        assert f'random weights <a href="#label-{k}">[{k}]</a>' in row
