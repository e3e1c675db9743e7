"""The report's figures (matplotlib, the ``[report]`` extra): latency distribution, throughput over the run,
issue lateness, power and accuracy against target. Each function returns a Figure or None when the runs hold
nothing to draw.
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

from podium.errors import PodiumError
from podium.loadgen import stats
from podium.report.model import ReportRun

#: Rates further apart than this (max/min of the runs' typical rates) get a log axis: on a linear one the slow
#: runs lie flat on zero.
LOG_RATE_RATIO = 10.0

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise PodiumError("the report needs matplotlib: pip install 'podium[report]'") from None
    return plt


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes (and closed)."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _title(run: ReportRun) -> str:
    flags = []
    if any(lbl.startswith("short run") for lbl in run.labels):
        flags.append("SHORT RUN")
    if any(lbl.startswith("random weights") for lbl in run.labels):
        flags.append("RANDOM WEIGHTS")
    if run.valid is False:
        flags.append("INVALID")
    return f"{run.name}: {run.benchmark} {run.scenario}" + (f"  [{', '.join(flags)}]" if flags else "")


def loadgen_percentile(values: np.ndarray, p: float) -> float:
    """The ``p`` (0..1) percentile of ``values`` by LoadGen's rule (sorted, ``v[int(n * p)]``, no
    interpolation): the rule of the report's tables and the MLPerf logs, so a plot's p99 is the table's p99."""
    return float(stats.percentile(np.sort(np.asarray(values)), p))


def _watts(run: ReportRun) -> float | None:
    w = run.power.get("average_watts", run.power.get("avg_watts"))
    return float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) else None


def latency_figure(run: ReportRun) -> Any | None:
    """Histogram of sample latencies (per-sample data) and the percentile curve (either source)."""
    plt = _plt()
    pts = run.percentiles
    s = run.samples
    if s is None and not pts:
        return None
    fig, axes = plt.subplots(1, 2 if s is not None else 1, figsize=(10 if s is not None else 6, 3.4), squeeze=False)
    ax_curve = axes[0][-1]
    if s is not None and len(s.latency_ns):
        lat_ms = s.latency_ns / 1e6
        ax = axes[0][0]
        ax.hist(lat_ms, bins=min(80, max(10, int(np.sqrt(len(lat_ms))))), color=PALETTE[0])
        lat_sorted = np.sort(s.latency_ns)
        for p, style in ((50, "--"), (90, ":"), (99, "-.")):
            v = stats.percentile(lat_sorted, p / 100) / 1e6
            ax.axvline(v, color="k", linestyle=style, linewidth=1, label=f"p{p} {v:.3f} ms")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("samples")
        ax.set_title(f"latency histogram ({len(lat_ms):,} samples, {s.source})", fontsize=9)
        ax.legend(fontsize=7)
        q = np.linspace(0, 100, 201)
        curve = [stats.percentile(lat_sorted, x / 100) / 1e6 for x in q]
        ax_curve.plot(q, curve, color=PALETTE[0], label="per-sample")
    if pts:
        ax_curve.plot([p for p, _ in pts], [v / 1e6 for _, v in pts], "o-" if s is None else "o",
                      color=PALETTE[1], label="reported percentiles")
    ax_curve.set_xlabel("percentile")
    ax_curve.set_ylabel("latency (ms)")
    ax_curve.set_title("latency by percentile", fontsize=9)
    ax_curve.legend(fontsize=7)
    fig.suptitle(_title(run), fontsize=10)
    fig.tight_layout()
    return fig


def throughput_figure(runs: Sequence[ReportRun]) -> Any | None:
    """Completed samples per second over each run (runs with per-sample data)."""
    plt = _plt()
    have = [r for r in runs if r.samples is not None and len(r.samples.done_ns)]
    if not have:
        return None
    fig, ax = plt.subplots(figsize=(10, 3.4))
    series = []
    for r in have:
        assert r.samples is not None
        series.append(r.samples.throughput())
    typical = [float(np.median(rate[rate > 0])) for _, rate in series if np.any(rate > 0)]
    log = len(typical) > 1 and max(typical) > LOG_RATE_RATIO * min(typical)
    for i, (r, (t, rate)) in enumerate(zip(have, series, strict=True)):
        # On a log axis an empty bin cannot be drawn: leave a gap rather than a drop to an invented floor.
        y = np.where(rate > 0, rate, np.nan) if log else rate
        ax.plot(t, y, color=PALETTE[i % len(PALETTE)], label=_title(r))
    ax.set_xlabel("time since the series started (s)")
    if log:
        ax.set_yscale("log")
        ax.set_ylabel("completed samples / s (log scale)")
        ax.set_title(f"throughput over the run (log scale: rates differ by more than {LOG_RATE_RATIO:g}x)",
                     fontsize=10)
    else:
        ax.set_ylabel("completed samples / s")
        ax.set_title("throughput over the run", fontsize=10)
        ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def lateness_figure(runs: Sequence[ReportRun]) -> Any | None:
    """Issue lateness: distributions where per-sample data exists, else the stored p50/p99/max."""
    plt = _plt()
    dist = [r for r in runs if r.samples is not None and r.samples.lateness_ns is not None
            and len(r.samples.lateness_ns)]
    figures = [r for r in runs if r.lateness.get("p99_ns") is not None]
    if not dist and not figures:
        return None
    ncols = 2 if dist and figures else 1
    # Taller when there are many runs: their names stand upright under the bars.
    fig, axes = plt.subplots(1, ncols, figsize=(10, 3.4 if len(figures) <= 3 else 4.4), squeeze=False)
    col = 0
    if dist:
        ax = axes[0][col]
        for i, r in enumerate(dist):
            assert r.samples is not None and r.samples.lateness_ns is not None
            us = r.samples.lateness_ns / 1e3
            color = PALETTE[i % len(PALETTE)]
            p99 = loadgen_percentile(r.samples.lateness_ns, 0.99) / 1e3
            ax.hist(us, bins=60, histtype="step", color=color, label=f"{r.name} ({r.samples.lateness_kind})")
            # The table's rule and format (LoadGen percentile, 0.1 µs), so both show one p99.
            ax.axvline(p99, color=color, linestyle="-.", linewidth=1, label=f"{r.name} p99 {p99:,.1f} µs")
        ax.set_xlabel("µs")
        ax.set_ylabel("queries")
        ax.set_yscale("log")
        ax.set_title("issue lateness per query", fontsize=9)
        ax.legend(fontsize=7)
        col += 1
    if figures:
        ax = axes[0][col]
        x = np.arange(len(figures))
        w = 0.27
        for j, (key, label) in enumerate((("p50_ns", "p50"), ("p99_ns", "p99"), ("max_ns", "max"))):
            ax.bar(x + (j - 1) * w, [(r.lateness.get(key) or 0) / 1e3 for r in figures], w, label=label,
                   color=PALETTE[j])
        # Names only under the bars (the kinds go in the title), upright once there are several runs or long
        # names: side by side, horizontal names ran into each other (and slanted ones still share their space).
        names = [r.name for r in figures]
        upright = len(figures) > 3 or max(len(n) for n in names) * len(figures) > 40
        ax.set_xticks(x, names, fontsize=7, rotation=90 if upright else 0)
        kinds = sorted({str(r.lateness.get("kind") or "") for r in figures} - {""})
        ax.set_ylabel("µs")
        ax.set_title("issue lateness (reported" + (f": {', '.join(kinds)}" if kinds else "") + ")", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def accuracy_figure(runs: Sequence[ReportRun]) -> Any | None:
    """Each run's accuracy beside its target."""
    plt = _plt()
    have = [r for r in runs if isinstance(r.accuracy.get("value"), (int, float))]
    if not have:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.9 + 0.45 * len(have)))
    y = np.arange(len(have))
    vals = [float(r.accuracy["value"]) for r in have]
    targets = [float(t) if isinstance(t := r.accuracy.get("target"), (int, float)) else None for r in have]
    lo, hi = accuracy_range(vals, [t for t in targets if t is not None])
    # Points, not bars from zero: the axis is zoomed around the values and targets so the margin shows, and a
    # bar cut at the axis' left edge would mislead.
    for i, r in enumerate(have):
        color = "#2ca02c" if r.accuracy.get("passed") else "#d62728"
        t = targets[i]
        if t is not None:
            ax.plot([t, vals[i]], [i, i], color=color, linewidth=1.5, alpha=0.6)
            ax.plot([t, t], [i - 0.35, i + 0.35], color="k", linewidth=2)
        ax.plot([vals[i]], [i], "o", color=color, markersize=7)
        margin = f" ({vals[i] - t:+.3f} vs target {t:.3f})" if t is not None else ""
        rw = " (random weights)" if any(lbl.startswith("random weights") for lbl in r.labels) else ""
        ax.annotate(f"{vals[i]:.3f}{margin}{rw}", (vals[i], i), xytext=(0, 7), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_yticks(y, [f"{r.name} ({r.accuracy.get('metric', '')})" for r in have], fontsize=8)
    ax.set_ylim(-0.6, len(have) - 0.2)
    ax.set_xlabel("accuracy (dot: value; black bar: target; axis zoomed around them)")
    ax.set_title("accuracy against target", fontsize=10)
    ax.set_xlim(lo, hi)
    fig.tight_layout()
    return fig


def accuracy_range(values: Sequence[float], targets: Sequence[float]) -> tuple[float, float]:
    """The accuracy axis: the span of the values and targets with a margin each side (at least 1% of the
    largest magnitude, so one value on its target still gets a readable axis), not 0..100, where a margin of
    0.4 points is invisible."""
    pts = [float(v) for v in list(values) + list(targets)]
    lo, hi = min(pts), max(pts)
    pad = max((hi - lo) * 0.25, max(abs(lo), abs(hi)) * 0.01, 1e-3)
    return lo - pad, hi + pad


def power_figure(runs: Sequence[ReportRun]) -> Any | None:
    """Power over the run (the run's spl.txt) or the average per run (the ``power`` block)."""
    plt = _plt()
    have = [r for r in runs if r.power_trace or isinstance(_watts(r), float)]
    if not have:
        return None
    fig, ax = plt.subplots(figsize=(10, 3.4))
    traced = [r for r in have if r.power_trace]
    if traced:
        for i, r in enumerate(traced):
            arr = np.asarray(r.power_trace, dtype=float)
            ax.plot(arr[:, 0], arr[:, 1], color=PALETTE[i % len(PALETTE)], label=_title(r))
        ax.set_xlabel("time (s)")
        ax.set_ylabel("W")
        ax.set_title("power over the run", fontsize=10)
        ax.legend(fontsize=7)
    else:
        avg = [_watts(r) or 0.0 for r in have]
        ax.bar(range(len(have)), avg, color=PALETTE[0])
        ax.set_xticks(range(len(have)), [r.name for r in have], fontsize=7)
        ax.set_ylabel("average W")
        ax.set_title("average power", fontsize=10)
    fig.tight_layout()
    return fig
