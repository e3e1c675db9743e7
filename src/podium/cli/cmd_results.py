"""``podium results``: query the local results store (filters, sort, CSV/JSON export); add or remove runs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich import box
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from podium.errors import PodiumError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from podium.report.store import COLUMN_NAMES, ENV_VAR

    p = sub.add_parser("results", help="the results of past runs (local store; filter, sort, export)",
                       description="Query the local results store that every podium run records into "
                       f"(~/.local/share/podium/results.sqlite; ${ENV_VAR} overrides).")
    p.add_argument("--benchmark")
    p.add_argument("--scenario")
    p.add_argument("--backend")
    v = p.add_mutually_exclusive_group()
    v.add_argument("--valid", dest="valid", action="store_const", const=True, help="only VALID runs")
    v.add_argument("--invalid", dest="valid", action="store_const", const=False, help="only INVALID runs")
    d = p.add_mutually_exclusive_group()
    d.add_argument("--full-length", dest="full_length", action="store_const", const=True,
                   help="only runs of at least 600 s")
    d.add_argument("--short", dest="full_length", action="store_const", const=False, help="only short runs")
    p.add_argument("--since", metavar="DATE", help="finished on or after (YYYY-MM-DD or ISO time, UTC)")
    p.add_argument("--until", metavar="DATE", help="finished on or before")
    p.add_argument("--id", dest="ids", type=int, action="append", metavar="ID", help="only this row (repeatable)")
    p.add_argument("--sort", default="id", metavar="COLUMN", help=f"sort column: {', '.join(COLUMN_NAMES)}")
    p.add_argument("--desc", action="store_true", help="sort descending")
    p.add_argument("--limit", type=int)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--columns", metavar="A,B,...", help="columns to show/export (default: a summary for the "
                   "table, every column for csv/json)")
    p.add_argument("--out", metavar="FILE", help="write csv/json here instead of stdout")
    p.add_argument("--add", metavar="RUN", action="append", default=[], help="record a finished run folder")
    p.add_argument("--delete", metavar="ID", type=int, action="append", default=[], help="remove a row")
    p.add_argument("--sweeps", action="store_true", help="the LLM sweep points (podium sweep) instead of runs")
    p.add_argument("--sweep", metavar="NAME", help="with --sweeps: only this sweep's points")
    p.add_argument("--db", metavar="FILE", help=f"store file (default: ${ENV_VAR} or ~/.local/share/podium/...)")
    p.set_defaults(func=run)


#: Short scenario names for narrow tables (the caption says what they stand for).
SCENARIO_SHORT = {"SingleStream": "SS", "MultiStream": "MS"}
SCENARIO_NOTE = "SS = SingleStream, MS = MultiStream"


def narrow_table(title: str, **kwargs: Any) -> Table:
    """A rich table without vertical rules (two spaces between columns, a rule under the header): in 80
    columns it has room for ~20 more characters of content than a boxed table, so rows stay one line."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                 padding=(0, 1, 0, 0), **kwargs)


def _fmt(col: str, v: Any) -> str:
    if v is None:
        return ""
    if col == "valid" or col.endswith("_passed"):
        return {1: "yes", 0: "NO"}.get(v, str(v))
    if col.endswith("_ns") and isinstance(v, (int, float)):
        return f"{v / 1e6:.3f} ms"
    if isinstance(v, float):
        return f"{v:,.3f}"
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    return str(v)


def run(args: argparse.Namespace) -> int:
    from podium.report.runs import read_run
    from podium.report.store import COLUMN_NAMES, ResultsStore

    if args.sweeps or args.sweep:
        return _sweeps(args)
    columns = None
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        bad = [c for c in columns if c not in COLUMN_NAMES]
        if bad:
            raise PodiumError(f"--columns {bad[0]}: expected names from {', '.join(COLUMN_NAMES)}")
    with ResultsStore(args.db) as store:
        for folder in args.add:
            rid = store.add(read_run(folder))
            print(f"recorded {folder} as id {rid}", file=sys.stderr)
        if args.delete:
            n = store.delete(args.delete)
            print(f"removed {n} row(s)", file=sys.stderr)
        if (args.add or args.delete) and not any((args.benchmark, args.scenario, args.backend, args.ids,
                                                  args.since, args.until, args.valid is not None)):
            return 0
        rows = store.query(benchmark=args.benchmark, scenario=args.scenario, backend=args.backend, valid=args.valid,
                           since=args.since, until=args.until, full_length=args.full_length, ids=args.ids,
                           sort=args.sort, descending=args.desc, limit=args.limit)
        path = store.path
    if args.format in ("csv", "json"):
        _export(args, rows, columns)
        return 0
    if columns:
        t = narrow_table(f"{len(rows)} run(s) in {path}")
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*[escape(_fmt(c, r.get(c))) for c in columns])
    else:
        t = _brief_table(rows, f"{len(rows)} run(s) in {path}")
    Console().print(t)
    return 0


def _flags(r: dict[str, Any]) -> str:
    """Short forms of the honest labels, for a narrow table (``--columns labels`` shows them whole)."""
    out = [str(r.get("round") or "v2.1")]  # the MLPerf round the run followed
    if r.get("short_run"):
        out.append("SHORT")
    if r.get("random_weights"):
        out.append("RANDOM-W")
    if r.get("valid") == 0:
        out.append("INVALID")
    if any("SIMULATED" in str(lbl) for lbl in r.get("labels") or []):
        out.append("SIM-POWER")
    return " ".join(out)


def _brief_table(rows: list[dict[str, Any]], title: str) -> Table:
    """The default ``podium results`` table; fits 80 columns: key values never wrap (only flags fold), SS/MS
    for the stream scenarios, the W column only when a run measured power."""
    with_power = any(r.get("power_watts") is not None for r in rows)
    short = any(r.get("scenario") in SCENARIO_SHORT for r in rows)
    t = narrow_table(title, caption=SCENARIO_NOTE if short else None, caption_justify="left")
    cols: tuple[tuple[str, JustifyMethod], ...] = (
        ("id", "right"), ("finished", "left"), ("benchmark", "left"), ("scen.", "left"), ("result", "right"),
        ("acc.", "right"), ("W", "right"), ("flags", "left"))
    for name, justify in cols:
        if name == "W" and not with_power:
            continue
        t.add_column(name, justify=justify, no_wrap=name != "flags", overflow="fold" if name == "flags" else "ellipsis",
                     min_width=7 if name == "flags" else None)
    for r in rows:
        value = r.get("metric_value")
        unit = r.get("metric_unit") or ""
        if unit == "ns" and isinstance(value, (int, float)):
            value, unit = value / 1e6, "ms"
        unit = {"samples/s": "/s"}.get(unit, unit)
        result = f"{value:,.2f} {unit}" if isinstance(value, (int, float)) else ""
        acc = r.get("accuracy_value")
        acc_text = "" if acc is None else f"{acc:.2f}" + ("" if r.get("accuracy_passed") else " LOW")
        watts = r.get("power_watts")
        scen = str(r.get("scenario"))
        cells = [str(r.get("id")), str(r.get("finished_at") or "")[5:16].replace("T", " "),
                 escape(str(r.get("benchmark"))), SCENARIO_SHORT.get(scen, scen), result, acc_text]
        if with_power:
            cells.append("" if watts is None else f"{watts:,.1f}")
        t.add_row(*cells, _flags(r))
    return t


def _sweeps(args: argparse.Namespace) -> int:
    """``podium results --sweeps``: one row per recorded sweep point."""
    from podium.report.store import SWEEP_COLUMN_NAMES, ResultsStore

    with ResultsStore(args.db) as store:
        rows = store.sweep_points(args.sweep)
        path = store.path
    if args.format in ("csv", "json"):
        _export(args, rows, SWEEP_COLUMN_NAMES)
        return 0
    t = narrow_table(f"{len(rows)} sweep point(s) in {path}")
    for col in ("sweep", "mode", "value", "tok/s", "tok/s/user", "TTFT p90", "goodput", "front"):
        t.add_column(col, justify="left" if col in ("sweep", "mode") else "right")
    for r in rows:
        gp = r.get("goodput")
        t.add_row(escape(str(r.get("sweep"))), str(r.get("mode")), f"{r.get('value'):g}",
                  _fmt("", r.get("system_tps")), _fmt("", r.get("tps_per_user")), _fmt("", r.get("ttft_p90_ms")),
                  "" if gp is None else f"{100 * gp:.1f} %", "●" if r.get("pareto") else "")
    Console().print(t)
    return 0


def _export(args: argparse.Namespace, rows: list[dict[str, Any]], columns: Any) -> None:
    """Rows as CSV or JSON, to ``--out`` or stdout."""
    from podium.report.store import write_csv, write_json

    writer = write_csv if args.format == "csv" else write_json
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            writer(rows, fh, columns)
        print(f"wrote {len(rows)} row(s) to {args.out}", file=sys.stderr)
    else:
        writer(rows, sys.stdout, columns)
