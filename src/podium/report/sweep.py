"""An LLM sweep's report: the Pareto front of system tokens/s against tokens/s per user, as a PNG
(matplotlib) and as a self-contained HTML page whose chart shows each point's figures on hover and switches
its x axis (tokens/s per user, TTFT p90, concurrency or rate); with the points' table and the labels.

Input is the sweep's summary (``sweep.json``: ``points``, each with the figures of ``podium.llm.metrics``,
and ``pareto``, the front's indices), so this module needs nothing of the client.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Sequence

from podium.report.plots import _plt, png_bytes


def pareto_figure(summary: dict[str, Any]) -> Any | None:
    """System tokens/s against tokens/s per user, the front drawn as a step line (None: nothing to draw)."""
    pts = [p for p in summary.get("points", []) if p.get("tps_per_user") and p.get("system_tps") is not None]
    if not pts:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    xs = [p["tps_per_user"] for p in pts]
    ys = [p["system_tps"] for p in pts]
    ax.scatter(xs, ys, color="#1f77b4", zorder=3, label="points")
    for p in pts:
        ax.annotate(_point_name(p), (p["tps_per_user"], p["system_tps"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    front = [summary["points"][i] for i in summary.get("pareto", [])]
    if front:
        ax.step([p["tps_per_user"] for p in front], [p["system_tps"] for p in front], where="post",
                color="#d62728", label="Pareto front", zorder=2)
    ax.set_xlabel("tokens/s per user (1000 / TPOT p90)")
    ax.set_ylabel("system output tokens/s")
    ax.set_title(summary.get("title", "LLM sweep"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    labels = summary.get("labels") or []
    if labels:
        import textwrap

        text = "\n".join(textwrap.fill(x, 130) for x in labels)
        fig.subplots_adjust(bottom=0.12 + 0.035 * text.count("\n"))
        fig.text(0.01, 0.005, text, fontsize=7, color="#a04000", va="bottom")
    return fig


def _point_name(p: dict[str, Any]) -> str:
    return f"c={p['value']:g}" if p.get("mode") == "concurrency" else f"{p['value']:g}/s"


def write_sweep_report(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """``pareto.png`` and ``sweep.html`` into ``out_dir``; the paths written."""
    written = []
    fig = pareto_figure(summary)
    if fig is not None:
        png = out_dir / "pareto.png"
        png.write_bytes(png_bytes(fig))
        written.append(png)
    page = out_dir / "sweep.html"
    page.write_text(sweep_html(summary), encoding="utf-8")
    written.append(page)
    return written


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return html.escape(str(v))


def _rows(points: Sequence[dict[str, Any]], front: set[int]) -> str:
    out = []
    for i, p in enumerate(points):
        ttft, tpot = p.get("ttft_ms") or {}, p.get("tpot_ms") or {}
        out.append("<tr" + (' class="front"' if i in front else "") + ">" + "".join(
            f"<td>{c}</td>" for c in (
                _point_name(p), p.get("requests"), p.get("failed"), _fmt(p.get("system_tps")),
                _fmt(p.get("tps_per_user"), 2), _fmt(ttft.get("p50")), _fmt(ttft.get("p90")), _fmt(ttft.get("p99")),
                _fmt(tpot.get("p50"), 2), _fmt(tpot.get("p90"), 2), _fmt(tpot.get("p99"), 2),
                "—" if p.get("goodput") is None else f"{100 * p['goodput']:.1f} %",
                "—" if p.get("valid") is None else ("VALID" if p["valid"] else "INVALID"),
                html.escape(p.get("client_limited") or "")))
            + "</tr>")
    return "\n".join(out)


_SCRIPT = """
const data = %s;
const axes = {tps_per_user: 'tokens/s per user (1000 / TPOT p90)', ttft_p90: 'TTFT p90 (ms)', value: '%s'};
function val(p, k) { return k === 'ttft_p90' ? (p.ttft_ms ? p.ttft_ms.p90 : null) : p[k]; }
function draw(k) {
  const W = 720, H = 420, L = 70, B = 50, svg = document.getElementById('chart');
  const pts = data.points.map((p, i) => ({p, i, x: val(p, k), y: p.system_tps})).filter(q => q.x != null && q.y != null);
  if (!pts.length) { svg.innerHTML = '<text x="20" y="40">no points to draw</text>'; return; }
  const xmax = Math.max(...pts.map(q => q.x)) * 1.1 || 1, ymax = Math.max(...pts.map(q => q.y)) * 1.1 || 1;
  const X = x => L + (W - L - 20) * x / xmax, Y = y => H - B - (H - B - 20) * y / ymax;
  let s = `<line x1="${L}" y1="${H-B}" x2="${W-20}" y2="${H-B}" stroke="#333"/><line x1="${L}" y1="20" x2="${L}" y2="${H-B}" stroke="#333"/>`;
  for (let t = 0; t <= 4; t++) {
    s += `<text x="${X(xmax*t/4)}" y="${H-B+16}" font-size="11" text-anchor="middle">${(xmax*t/4).toFixed(1)}</text>`;
    s += `<text x="${L-6}" y="${Y(ymax*t/4)+4}" font-size="11" text-anchor="end">${(ymax*t/4).toFixed(0)}</text>`;
  }
  s += `<text x="${(W+L)/2}" y="${H-10}" font-size="12" text-anchor="middle">${axes[k]}</text>`;
  s += `<text x="14" y="${H/2}" font-size="12" transform="rotate(-90 14 ${H/2})" text-anchor="middle">system output tokens/s</text>`;
  if (k === 'tps_per_user') {
    const f = data.pareto.map(i => data.points[i]).filter(p => p.tps_per_user != null);
    s += '<polyline fill="none" stroke="#d62728" stroke-width="2" points="' + f.map(p => `${X(p.tps_per_user)},${Y(p.system_tps)}`).join(' ') + '"/>';
  }
  for (const q of pts) {
    const p = q.p, front = data.pareto.includes(q.i);
    const tip = `${p.mode} ${p.value}: ${p.system_tps.toFixed(1)} tok/s, ${p.tps_per_user ? p.tps_per_user.toFixed(2) : '-'} tok/s/user, TTFT p90 ${p.ttft_ms ? p.ttft_ms.p90.toFixed(1) : '-'} ms, goodput ${p.goodput == null ? '-' : (100*p.goodput).toFixed(1) + ' %%'}`;
    s += `<circle cx="${X(q.x)}" cy="${Y(q.y)}" r="6" fill="${front ? '#d62728' : '#1f77b4'}"><title>${tip}</title></circle>`;
  }
  svg.innerHTML = s;
}
document.getElementById('axis').addEventListener('change', e => draw(e.target.value));
draw('tps_per_user');
"""


def sweep_html(summary: dict[str, Any]) -> str:
    """The self-contained page (no network: inline SVG and script)."""
    points = summary.get("points", [])
    front = set(summary.get("pareto", []))
    mode = points[0].get("mode") if points else "concurrency"
    value_axis = "concurrency" if mode == "concurrency" else "rate (requests/s)"
    labels = "".join(f"<li>{html.escape(x)}</li>" for x in summary.get("labels") or [])
    notes = "".join(f"<li>{html.escape(x)}</li>" for x in summary.get("notes") or [])
    data = json.dumps({"points": points, "pareto": sorted(front)}).replace("</", "<\\/")
    head = ("<tr><th>point</th><th>requests</th><th>failed</th><th>system tok/s</th><th>tok/s per user</th>"
            "<th>TTFT p50</th><th>TTFT p90</th><th>TTFT p99</th><th>TPOT p50</th><th>TPOT p90</th><th>TPOT p99</th>"
            "<th>goodput</th><th>LoadGen</th><th>client</th></tr>")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(summary.get("title", "LLM sweep"))}</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}tr.front td{{background:#fdecea}}
.labels{{color:#a04000}}</style></head><body>
<h1>{html.escape(summary.get("title", "LLM sweep"))}</h1>
<ul class="labels">{labels}</ul>
<p>SLOs: {html.escape(summary.get("slo_text") or "none")} · endpoints: {html.escape(", ".join(summary.get("endpoints", [])))}
· model {html.escape(str(summary.get("model")))} · podium {html.escape(str(summary.get("podium_version", "")))}</p>
<p>x axis: <select id="axis"><option value="tps_per_user">tokens/s per user</option><option value="ttft_p90">TTFT p90</option>
<option value="value">{value_axis}</option></select> (hover a point for its figures; red: the Pareto front)</p>
<svg id="chart" width="720" height="420" role="img" aria-label="Pareto chart"></svg>
<h2>Points</h2><p>Times in ms; tokens/s per user = 1000 / TPOT p90. Rows on the Pareto front are shaded.</p>
<table>{head}{_rows(points, front)}</table>
<ul>{notes}</ul>
<script>{_SCRIPT % (data, value_axis)}</script>
</body></html>
"""
