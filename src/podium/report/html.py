"""``build_report``: one self-contained HTML file (inline CSS, figures as base64 PNG, no script, nothing
fetched) with the results table, latency distributions, throughput over the run, issue lateness, power,
accuracy against target, the system description and published figures to compare with; optionally the same
figures as PNG files.
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path
from typing import Any, Sequence

import podium
from podium.report import plots
from podium.report.model import ReportRun
from podium.report.published import CLAIM_LABEL, SCENARIO_UNIT, load_published, matching, run_value

#: Section ids, in page order (tests and readers can rely on them).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("results", "Results"),
    ("latency", "Latency distributions"),
    ("throughput", "Throughput over the run"),
    ("lateness", "Issue lateness"),
    ("power", "Power"),
    ("accuracy", "Accuracy against target"),
    ("system", "System description"),
    ("published", "Published MLPerf v2.1 figures"),
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;
color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17803d;font-weight:600}.bad{color:#c62828;font-weight:600}
.label{display:inline-block;background:#fff3cd;border:1px solid #e0c36b;border-radius:3px;padding:0 5px;
margin:1px 2px;font-size:.85em}
.label.invalid{background:#fde2e1;border-color:#e08b86}
.banner{background:#fff3cd;border:1px solid #e0c36b;padding:8px 12px;border-radius:4px;margin:12px 0}
.claim{background:#eef3fb;border:1px solid #9db4dd;padding:8px 12px;border-radius:4px}
img{max-width:100%;border:1px solid #eee;margin:6px 0}
.note{color:#666;font-style:italic}
ol.labels{font-size:.85em;color:#444;margin:4px 0 0 0}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _img(fig: Any, alt: str, name: str, png_dir: Path | None, written: list[Path]) -> str:
    data = plots.png_bytes(fig)
    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
        path = png_dir / f"{name}.png"
        path.write_bytes(data)
        written.append(path)
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


#: Labels longer than this are written out once, in the list under the results table, and shown elsewhere by
#: their head and key ("short run [1]"): repeated in full in every row they made rows 6-15 lines tall.
LONG_LABEL = 24


class LabelKeys:
    """Numbers the long labels of a report in order of first use; ``legend_html`` lists each one once."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}

    def key(self, label: str) -> int:
        return self.keys.setdefault(label, len(self.keys) + 1)

    def legend_html(self) -> str:
        if not self.keys:
            return ""
        items = "".join(f'<li id="label-{k}" value="{k}">{_e(lbl)}</li>' for lbl, k in self.keys.items())
        return f'<ol class="labels">{items}</ol>'


def _head(label: str) -> str:
    head = label.split(":", 1)[0].strip()
    return head if len(head) <= LONG_LABEL else head[:LONG_LABEL - 1].rstrip() + "…"


def _labels_html(labels: Sequence[str], keys: LabelKeys | None = None) -> str:
    out = []
    for lbl in labels:
        cls = "label invalid" if lbl.startswith("INVALID") else "label"
        if keys is not None and len(lbl) > LONG_LABEL:
            k = keys.key(lbl)
            out.append(f'<span class="{cls}">{_e(_head(lbl))} <a href="#label-{k}">[{k}]</a></span>')
        else:
            out.append(f'<span class="{cls}">{_e(lbl)}</span>')
    return "".join(out)


def _num(v: Any, digits: int = 3) -> str:
    if isinstance(v, bool) or v is None:
        return _e(v)
    if isinstance(v, (int, float)):
        return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"
    return _e(v)


def _metric_text(r: ReportRun) -> tuple[str, str]:
    m = r.metric
    v = m.get("value")
    if m.get("unit") == "ns" and isinstance(v, (int, float)):
        return f"{v / 1e6:,.3f}", "ms"
    return _num(v, 2), _e(m.get("unit"))


def _metric_name(r: ReportRun) -> str:
    """The headline's name without its unit suffix (the table has a unit column, in ms for latencies)."""
    return str(r.metric.get("name") or "").replace(" (ns)", "")


def _results_section(runs: Sequence[ReportRun], keys: LabelKeys) -> str:
    rows = []
    for r in runs:
        value, unit = _metric_text(r)
        # a short run's VALID says so: the LoadGen's VALID is not a valid MLPerf duration
        valid = "" if r.valid is None else (('<span class="ok">VALID</span>' + (" (short run)" if r.short_run else ""))
                                            if r.valid else '<span class="bad">INVALID</span>')
        acc = r.accuracy
        acc_text = ""
        if acc:
            cls = "ok" if acc.get("passed") else "bad"
            acc_text = (f'<span class="{cls}">{_num(acc.get("value"))}</span> / {_num(acc.get("target"))} '
                        f'{_e(acc.get("metric"))}')
        late = r.lateness
        late_text = (f"{late['p99_ns'] / 1e3:,.1f} µs ({_e(late.get('kind'))})"
                     if isinstance(late.get("p99_ns"), (int, float)) else "")
        watts = r.power.get("average_watts", r.power.get("avg_watts"))
        rows.append(
            f"<tr><td>{_e(r.name)}</td><td>{_e(r.benchmark)}</td><td>{_e(r.scenario)}</td><td>{_e(r.round)}</td>"
            f"<td>{_e(r.backend)}</td>"
            f"<td>{_e(_metric_name(r))}</td><td class=num>{value}</td><td>{unit}</td><td>{valid}</td>"
            f"<td>{acc_text}</td><td class=num>{late_text}</td>"
            f"<td class=num>{_num(watts, 1) if watts is not None else ''}</td>"
            f"<td>{_labels_html(r.labels, keys)}</td></tr>")
    head = ("<tr><th>run</th><th>benchmark</th><th>scenario</th><th>round</th><th>backend</th><th>metric</th>"
            "<th>value</th>"
            "<th>unit</th><th>validity</th><th>accuracy / target</th><th>issue lateness p99</th><th>power (W)</th>"
            "<th>labels</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _power_table(runs: Sequence[ReportRun]) -> str:
    rows = []
    for r in runs:
        p = r.power
        if not p:
            continue
        metric = p.get("official_metric") if isinstance(p.get("official_metric"), dict) else {}
        eff = p.get("efficiency") if isinstance(p.get("efficiency"), dict) else {}
        watts = p.get("average_watts", p.get("avg_watts"))
        rows.append(f"<tr><td>{_e(r.name)}</td><td>{_e(p.get('status', 'measured'))}</td>"
                    f"<td class=num>{_num(watts, 1) if watts is not None else ''}</td>"
                    f"<td class=num>{_num(p.get('energy_j'), 1) if p.get('energy_j') is not None else ''}</td>"
                    f"<td>{_num(metric.get('value'), 3) + ' ' + _e(metric.get('unit')) if metric else ''}</td>"
                    f"<td>{_num(eff.get('value'), 2) + ' ' + _e(eff.get('unit')) if eff else ''}</td>"
                    f"<td>{_labels_html([str(x) for x in p.get('labels') or []])}</td></tr>")
    if not rows:
        return ""
    return ("<table><tr><th>run</th><th>status</th><th>average W</th><th>energy J</th><th>MLPerf power metric</th>"
            "<th>efficiency</th><th>labels</th></tr>" + "".join(rows) + "</table>")


def _system_section(runs: Sequence[ReportRun], description: dict[str, Any] | None) -> str:
    out = []
    if description:
        out.append("<h3>System description (v2.1 fields)</h3><table>")
        out += [f"<tr><th>{_e(k)}</th><td>{_e(v) if v not in ('', None) else '<span class=note>to fill</span>'}"
                f"</td></tr>" for k, v in description.items()]
        out.append("</table>")
    systems: dict[str, list[str]] = {}
    info: dict[str, dict[str, Any]] = {}
    for r in runs:
        key = repr(sorted(r.system.items()))
        systems.setdefault(key, []).append(r.name)
        info[key] = r.system
    for key, names in systems.items():
        if not info[key]:
            continue
        out.append(f"<h3>Machine of {_e(', '.join(names))}</h3><table>")
        out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in info[key].items()]
        out.append("</table>")
    return "".join(out) or '<p class="note">No system information recorded with these runs.</p>'


_QUALIFIER = {"at least": "&ge; ", "up to": "&le; ", "about": "~ "}


def _published_section(runs: Sequence[ReportRun], keys: LabelKeys) -> str:
    header, figures = load_published()
    parts = [f'<div class="claim"><b>{CLAIM_LABEL}S</b>: {_e(header["source"])}. {_e(header["caveat"])}</div>']
    any_match = False
    for r in runs:
        found = matching(figures, r.benchmark, r.scenario if r.scenario in ("Offline", "Server", "SingleStream",
                                                                            "MultiStream") else None)
        if not found:
            continue
        any_match = True
        mine = run_value(r.scenario, r.metric)
        unit = SCENARIO_UNIT.get(r.scenario, "")
        parts.append(f"<h3>{_e(r.name)}: {_e(r.benchmark)} {_e(r.scenario)}"
                     f"{' = ' + _num(mine, 3) + ' ' + _e(unit) if mine is not None else ''} "
                     f"{_labels_html(r.labels, keys)}</h3>")
        parts.append("<table><tr><th>source</th><th>submitter</th><th>system</th><th>benchmark</th><th>scenario</th>"
                     "<th>value</th><th>unit</th><th>accelerators</th><th>per accelerator</th><th>note</th></tr>")
        for f in found:
            per = f.per_accelerator
            parts.append(
                f"<tr><td>{CLAIM_LABEL}</td><td>{_e(f.submitter)}</td><td>{_e(f.system)}</td>"
                f"<td>{_e(f.benchmark or f.model)}</td><td>{_e(f.scenario or 'not stated')}</td>"
                f"<td class=num>{_QUALIFIER.get(f.qualifier, '')}{_num(f.value, 3 if f.unit == 'ms' else 2)}</td>"
                f"<td>{_e(f.unit)}</td><td class=num>{_e(f.accelerators)}</td>"
                f"<td class=num>{_num(per, 1) if per is not None else ''}</td><td>{_e(f.note)}</td></tr>")
        parts.append("</table>")
    if not any_match:
        parts.append('<p class="note">No published figure is about these benchmarks.</p>')
    return "".join(parts)


def build_report(runs: Sequence[ReportRun], out: str | Path, *, png_dir: str | Path | None = None,
                 system_description: dict[str, Any] | None = None, title: str = "podium report") -> list[Path]:
    """Write the HTML report of ``runs`` to ``out`` (and PNGs to ``png_dir``); returns the files written."""
    if not runs:
        from podium.errors import PodiumError

        raise PodiumError("no runs to report: pass run folders or --all")
    out_path = Path(out)
    png = Path(png_dir) if png_dir is not None else None
    written: list[Path] = []
    body: dict[str, str] = {}
    keys = LabelKeys()
    # Keys are numbered here, in the results table's order; the list under the table is completed at the end,
    # once the banner and the published section have used their labels too.
    body["results"] = _results_section(runs, keys)

    lat = []
    for i, r in enumerate(runs):
        fig = plots.latency_figure(r)
        if fig is not None:
            src = ("per-sample data: " + r.samples.source) if r.samples is not None else \
                "reported percentiles only (no per-sample file with this run)"
            lat.append(f"<p class=note>{_e(r.name)}: {_e(src)}</p>"
                       + _img(fig, f"latency of {r.name}", f"latency_{i + 1}", png, written))
    body["latency"] = "".join(lat) or '<p class="note">No latency figures in these runs.</p>'

    fig = plots.throughput_figure(runs)
    body["throughput"] = (_img(fig, "throughput over the run", "throughput", png, written) if fig is not None else
                          '<p class="note">Throughput over the run needs per-sample times: run with tracing on '
                          "(mlperf_log_trace.json) or with per-sample output (podium_samples.npz).</p>")
    fig = plots.lateness_figure(runs)
    body["lateness"] = ("<p class=note>How late queries were issued (Server: issue time minus scheduled time; "
                        "SingleStream/MultiStream: gap between a query completing and the next being issued). "
                        "The official LoadGen does not report this.</p>"
                        + (_img(fig, "issue lateness", "lateness", png, written) if fig is not None else
                           '<p class="note">No issue-lateness figures in these runs.</p>'))
    fig = plots.power_figure(runs)
    body["power"] = _power_table(runs) + (_img(fig, "power", "power", png, written) if fig is not None else
                                          '<p class="note">No power was measured in these runs.</p>')
    fig = plots.accuracy_figure(runs)
    body["accuracy"] = (_img(fig, "accuracy against target", "accuracy", png, written) if fig is not None else
                        '<p class="note">No accuracy results in these runs.</p>')
    body["system"] = _system_section(runs, system_description)
    body["published"] = _published_section(runs, keys)

    labels = sorted({lbl for r in runs for lbl in r.labels})
    banner = ""
    if labels:
        banner = ('<div class="banner"><b>Read with care:</b> ' + _labels_html(labels, keys)
                  + (" (labels in full under the results table)" if keys.keys else "") + "</div>")
    body["results"] += keys.legend_html()
    notes = [f"<li>{_e(r.name)}: {_e(n)}</li>" for r in runs for n in r.notes]
    nav = " · ".join(f'<a href="#{sid}">{_e(t)}</a>' for sid, t in SECTIONS)
    page = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{len(runs)} run(s) · written by podium {_e(podium.__version__)} on '
        f'{_e(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))}</p>',
        banner, f"<nav>{nav}</nav>",
    ]
    if notes:
        page.append(f"<ul class=note>{''.join(notes)}</ul>")
    for sid, heading in SECTIONS:
        page.append(f'<section id="{sid}"><h2>{_e(heading)}</h2>{body[sid]}</section>')
    page.append("</body></html>")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("\n".join(page) + "\n", encoding="utf-8")
    return [out_path] + written
