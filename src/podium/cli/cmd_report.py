"""``podium report`` (one self-contained HTML file, plus PNG figures) and ``podium compare`` (a result beside the
published MLPerf v2.1 figures, per accelerator)."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console, JustifyMethod
from rich.markup import escape

from podium.cli.cmd_results import narrow_table
from podium.errors import PodiumError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="HTML report of runs (results, latency, throughput, lateness, power, "
                       "accuracy, system)",
                       description="Write one self-contained HTML file (no network; figures inlined as PNG) about "
                       "run folders, or about every run in the results store (--all). Needs matplotlib "
                       "(pip install 'podium[report]').")
    p.add_argument("runs", nargs="*", metavar="RUN", help="output folders of podium run")
    p.add_argument("--all", action="store_true", help="every run in the results store")
    p.add_argument("--benchmark", help="with --all: only this benchmark")
    p.add_argument("--scenario", help="with --all: only this scenario")
    p.add_argument("--last", type=int, metavar="N", help="with --all: only the N most recent runs")
    p.add_argument("--out", default="report.html", metavar="FILE", help="HTML file (default report.html)")
    p.add_argument("--png-dir", metavar="DIR", help="also write each figure as a PNG file here")
    p.add_argument("--system-json", metavar="FILE", help="a system description JSON to include")
    p.add_argument("--title", default="podium report")
    p.add_argument("--db", metavar="FILE", help="results store (default: $PODIUM_RESULTS_DB or ~/.local/share/...)")
    p.set_defaults(func=report)

    c = sub.add_parser("compare", help="your result beside published MLPerf v2.1 figures, per accelerator",
                       description="Put a result beside the figures MLPerf v2.1 submitters published in their "
                       "statements (published claims, not verified by podium), normalised per accelerator.")
    c.add_argument("run", nargs="?", metavar="RUN", help="a podium run folder (or give --benchmark/--scenario/--value)")
    c.add_argument("--benchmark")
    c.add_argument("--scenario", choices=("Offline", "Server", "SingleStream", "MultiStream"))
    c.add_argument("--value", type=float, help="your figure: samples/s (Offline), queries/s (Server) or ms "
                   "(SingleStream/MultiStream)")
    c.add_argument("--accelerators", type=int, metavar="N",
                   help="accelerators behind your figure (default: the count the run recorded, if any)")
    c.set_defaults(func=compare_cmd)


def report(args: argparse.Namespace) -> int:
    from podium.report.html import build_report
    from podium.report.model import from_row, from_run
    from podium.report.runs import read_run
    from podium.report.store import ResultsStore
    from podium.submission.sysdesc import read_system_json

    if args.all and args.runs:
        raise PodiumError("give run folders or --all, not both")
    if not args.all and not args.runs:
        raise PodiumError("no runs: give run folders or --all (every run in the results store)")
    if args.all:
        with ResultsStore(args.db) as store:
            rows = store.query(benchmark=args.benchmark, scenario=args.scenario, sort="id", descending=bool(args.last),
                               limit=args.last)
        if args.last:
            rows.reverse()
        runs = [from_row(r) for r in rows]
        if not runs:
            raise PodiumError("the results store holds no matching runs")
    else:
        runs = [from_run(read_run(r)) for r in args.runs]
    desc = read_system_json(args.system_json) if args.system_json else None
    files = build_report(runs, args.out, png_dir=args.png_dir, system_description=desc, title=args.title)
    print(f"wrote {files[0]}" + (f" and {len(files) - 1} PNG file(s) in {args.png_dir}" if len(files) > 1 else ""))
    return 0


def compare_cmd(args: argparse.Namespace) -> int:
    from podium.report.published import CLAIM_LABEL, compare, load_published, run_value
    from podium.report.runs import read_run

    labels: list[str] = []
    accelerators = args.accelerators
    if args.run:
        run = read_run(args.run)
        benchmark, scenario = args.benchmark or run.benchmark, args.scenario or run.scenario
        value = args.value if args.value is not None else run_value(run.scenario, run.metric)
        if value is None:
            raise PodiumError(f"{args.run}: no performance result to compare")
        labels = run.labels()
        if accelerators is None and isinstance(run.system.get("accelerators"), int):
            accelerators = run.system["accelerators"]
    else:
        if not (args.benchmark and args.scenario and args.value is not None):
            raise PodiumError("give a run folder, or --benchmark, --scenario and --value")
        benchmark, scenario, value = args.benchmark, args.scenario, args.value
    cmp = compare(benchmark, scenario, value, accelerators=accelerators, labels=labels)
    header, _ = load_published()
    console = Console()
    t = narrow_table(f"{benchmark} {scenario}: your result beside {CLAIM_LABEL}S", caption_justify="left",
                     caption=(
        "CLAIM = a figure from an MLPerf v2.1 submitter's own statement, not verified by podium; ratio = yours / "
        "theirs per accelerator (latency: theirs / yours); acc. = accelerators. "
        + header["caveat"]))
    cols: tuple[tuple[str, JustifyMethod], ...] = (
        ("", "left"), ("who / system (accelerator)", "left"), ("value", "right"), ("unit", "left"),
        ("acc.", "right"), ("per acc.", "right"), ("ratio", "right"))
    # Fits 80 columns: only the who/system column folds; every figure stays on one line.
    for col, justify in cols:
        t.add_column(col, justify=justify, no_wrap=not col.startswith("who"),
                     overflow="fold" if col.startswith("who") else "ellipsis", min_width=16 if col.startswith("who") else None,
                     ratio=1 if col.startswith("who") else None)
    mine_per = cmp.per_accelerator
    # Label heads only ("short run"): the labels in full are printed once under the table.
    heads = [lbl.split(":", 1)[0] for lbl in labels]
    mine_text = (str(args.run) if args.run else "") + ("; " + "; ".join(heads) if heads else "")
    t.add_row("[bold]YOURS[/]", escape(mine_text),
              _fmt_value(value), _unit(cmp.unit), "" if accelerators is None else str(accelerators),
              "" if mine_per is None else _fmt_value(mine_per), "")
    for f in cmp.figures:
        ratio = cmp.ratio(f)
        qual = {"at least": ">=", "up to": "<=", "about": "~"}.get(f.qualifier, "")
        system = f.accelerator if f.accelerator and f.system in f.accelerator else f.system
        # The accelerator in brackets only when the system name does not already say it.
        acc_note = f.accelerator and f.accelerator not in system and system not in f.accelerator
        who = f"{f.submitter}: {system}" + (f" ({f.accelerator})" if acc_note else "")
        t.add_row("CLAIM", escape(who), f"{qual}{_fmt_value(f.value)}", _unit(f.unit),
                  "" if f.accelerators is None else str(f.accelerators),
                  "" if f.per_accelerator is None else _fmt_value(f.per_accelerator),
                  "" if ratio is None else f"{ratio:.3g}x")
    console.print(t)
    for lbl in labels:
        console.print(f"[yellow]note:[/] {escape(lbl)}", highlight=False)
    if not cmp.figures:
        console.print(f"no published figure for {benchmark} {scenario}")
    if cmp.unit in ("samples/s", "queries/s") and accelerators is None:
        print("per-accelerator figures need --accelerators N (how many accelerators produced your result)",
              file=sys.stderr)
    return 0


_UNITS = {"samples/s": "smp/s", "queries/s": "q/s", "inferences/s": "inf/s"}


def _unit(unit: str) -> str:
    """Short units for the 80-column table (the caption and the page say the long forms)."""
    return _UNITS.get(unit, unit)


def _fmt_value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
