"""``podium submission package|check|table``: MLPerf submission trees (round v2.1, v6.0, v6.1) from finished
runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podium.errors import PodiumError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submission", help="MLPerf submission trees (v2.1, v6.0, v6.1): package, check, results table",
                       description="Lay out, check and summarise MLPerf Inference submission trees of round "
                       "v2.1, v6.0 or v6.1 (each with its own layout, files, checker rules and table columns).")
    ss = p.add_subparsers(dest="submission_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])

    pk = ss.add_parser("package", help="lay out the submission tree of finished runs",
                       description="Write a submission tree from podium run output folders (one per benchmark "
                       "and scenario, each with performance/, accuracy/ and, for closed and network, compliance/). "
                       "Runs that cannot be submitted are refused with the reason.")
    pk.add_argument("runs", nargs="+", metavar="RUN", help="output folders of podium run")
    pk.add_argument("--division", required=True, choices=("closed", "open", "network"))
    pk.add_argument("--submitter", required=True, metavar="ORG", help="submitting organisation (a folder name)")
    pk.add_argument("--system", required=True, metavar="NAME", help="system id (systems/NAME.json, a folder name)")
    pk.add_argument("--out", required=True, metavar="DIR", help="where to write the tree")
    pk.add_argument("--system-json", metavar="FILE",
                    help="your system description (e.g. podium sysinfo output you completed); its values win")
    pk.add_argument("--status", choices=("available", "preview", "rdi"), help="availability of the system")
    pk.add_argument("--system-type", choices=("datacenter", "edge", "datacenter,edge"), help="category")
    pk.add_argument("--measurements-json", metavar="FILE",
                    help="values for the measurements JSON (input_data_types, retraining, weight_data_types, ...)")
    pk.add_argument("--compliance", action="append", default=[], metavar="RUN=DIR",
                    help="compliance folder of a run (default RUN/compliance); repeatable")
    pk.add_argument("--force", action="store_true", help="replace an existing tree podium wrote")
    pk.add_argument("--draft", action="store_true",
                    help="write the tree even when runs cannot be submitted (every README says why)")
    pk.add_argument("--practice", action="store_true",
                    help="a practice tree (current rounds): podium's own benchmarks and short runs accepted, "
                         "labelled as not an MLPerf submission everywhere")
    pk.add_argument("--round", choices=("v2.1", "v6.0", "v6.1"),
                    help="the round's tree layout and rules (default: the round the runs were made in)")
    pk.set_defaults(func=package)

    ck = ss.add_parser("check", help="check a tree with its round's rules (exit 1 on any error)",
                       description="Check a submission tree with podium's implementation of the official checker "
                       "of its round; prints every problem and exits non-zero on any error.")
    ck.add_argument("root", metavar="DIR", help="the tree (the folder holding closed/open/network)")
    ck.add_argument("--csv", metavar="FILE", help="also write the official summary CSV of the accepted results")
    ck.add_argument("--skip-compliance", action="store_true", help="do not check compliance/ (as the official flag)")
    ck.add_argument("--quiet", action="store_true", help="print only errors and the verdict")
    ck.add_argument("--round", choices=("v2.1", "v6.0", "v6.1"),
                    help="the checker's round (default: the tree's, from podium's record beside it or its layout)")
    ck.set_defaults(func=check)

    tb = ss.add_parser("table", help="the final results table of a tree (the official summary CSV columns)")
    tb.add_argument("root", metavar="DIR")
    tb.add_argument("--csv", metavar="FILE", help="write the summary CSV here ('-' for stdout) instead of a table")
    tb.add_argument("--round", choices=("v2.1", "v6.0", "v6.1"), help="the tree's round (default: detected)")
    tb.set_defaults(func=table)


def _compliance_map(items: list[str], runs: list[str]) -> dict[Path, Path]:
    out: dict[Path, Path] = {}
    known = {Path(r).expanduser().resolve() for r in runs}
    for item in items:
        run, sep, folder = item.partition("=")
        if not sep or not run or not folder:
            raise PodiumError(f"--compliance {item!r}: expected RUN=DIR")
        key = Path(run).expanduser().resolve()
        if key not in known:
            raise PodiumError(f"--compliance {item!r}: {run} is not one of the runs given")
        out[key] = Path(folder).expanduser().resolve()
    return out


def package(args: argparse.Namespace) -> int:
    from podium.submission import RunInput, SubmissionRefused, package_submission

    console = Console(stderr=True)
    comp = _compliance_map(args.compliance, args.runs)
    runs = [RunInput(Path(r), comp.get(Path(r).expanduser().resolve())) for r in args.runs]
    try:
        res = package_submission(runs, division=args.division, submitter=args.submitter, system=args.system,
                                 out=args.out, system_json=args.system_json, status=args.status,
                                 system_type=args.system_type, measurements_json=args.measurements_json,
                                 force=args.force, draft=args.draft, round=args.round, practice=args.practice)
    except SubmissionRefused as exc:
        for reason in exc.reasons:
            console.print(f"[red]refused:[/] {escape(reason)}", highlight=False, soft_wrap=True)
        console.print("[dim]nothing written; --draft writes the tree anyway, labelled as a draft[/]")
        raise
    out = Console()
    draft = " [bold red](DRAFT: not submittable)[/]" if res.draft_reasons else ""
    practice = " [bold yellow](PRACTICE tree: not an MLPerf submission)[/]" if res.practice else ""
    out.print(f"wrote {escape(str(res.root))}{draft}{practice}")
    for r in res.practice:
        out.print(f"[yellow]practice:[/] {escape(r)}", highlight=False, soft_wrap=True)
    for e in res.entries:
        out.print(f"  {escape(e)}", highlight=False)
    for r in res.draft_reasons:
        out.print(f"[yellow]draft:[/] {escape(r)}", highlight=False, soft_wrap=True)
    if res.system_to_fill:
        out.print(f"[yellow]fill in[/] systems/{args.system}.json: {', '.join(res.system_to_fill)}", soft_wrap=True)
    for path, keys in res.measurements_to_fill.items():
        if keys:
            out.print(f"[yellow]fill in[/] {escape(path)}: {', '.join(keys)}", highlight=False, soft_wrap=True)
    rep = res.check
    if rep is not None:
        errors = rep.errors
        for p in errors:
            out.print(f"[red]{escape(p.line())}[/]", highlight=False, soft_wrap=True)
        out.print(f"check: {len(errors)} errors, {len(rep.warnings)} warnings "
                  f"(podium submission check {res.root} shows them)")
        if errors and not res.draft_reasons:
            return 1
    return 0


def check(args: argparse.Namespace) -> int:
    from podium.submission import check_submission, write_summary_csv

    root = Path(args.root)
    if not root.is_dir():
        raise PodiumError(f"{root}: no such folder")
    rep = check_submission(root, skip_compliance=args.skip_compliance, round=args.round)
    for p in rep.problems:
        if p.level == "error" or not args.quiet:
            print(p.line())
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as fh:
            write_summary_csv(rep.rows, fh)
    accepted = sum(1 for ok in rep.scenarios.values() if ok)
    print(f"{len(rep.errors)} errors, {len(rep.warnings)} warnings; results accepted {accepted} of "
          f"{len(rep.scenarios)}")
    for why in rep.practice:
        print(f"practice: {why}")
    if rep.ok and rep.practice:
        print("SUMMARY: practice tree looks OK (PRACTICE tree: not an MLPerf submission)")
        return 0
    if rep.ok:
        print("SUMMARY: submission looks OK")
        return 0
    print("SUMMARY: submission has errors")
    return 1


def _unit(units: str) -> str:
    return {"Latency (ms)": "ms", "Samples/s": "smp/s", "Queries/s": "q/s"}.get(units, units)


def results_table(rep: Any, root: Path) -> Table:
    """The tree's results as a rich table that fits 80 columns: one row per measured scenario, accepted or not
    (the status column says which), the division and category in the row's first cell."""
    from podium.cli.cmd_results import SCENARIO_NOTE, SCENARIO_SHORT, narrow_table
    from podium.submission.table import table_rows

    round_name = rep.measured[0].round if rep.measured else "v2.1"
    t = narrow_table(f"MLPerf {round_name} results in {root}", caption_justify="left",
                     caption=f"{SCENARIO_NOTE}; smp/s = samples/s, q/s = queries/s, inf. = inferred")
    t.add_column("submitter/system", overflow="fold", ratio=1)
    t.add_column("benchmark", no_wrap=True)
    t.add_column("scen.", no_wrap=True)
    t.add_column("result", justify="right", no_wrap=True)
    t.add_column("acc.", justify="right", no_wrap=True)
    t.add_column("status", no_wrap=True)
    for row, r in zip(rep.measured, table_rows(rep.measured), strict=True):
        result = f"{r['Result']:,.2f} {_unit(r['Units'])}" + (" (inf.)" if r["Inferred"] else "")
        if rep.scenarios.get(row.location):
            status = "[green]ok[/]"
        else:
            status = f"[red]{row.errors} err[/]" if row.errors else "[red]refused[/]"
        t.add_row(escape(f"{r['Submitter']}/{r['System']} ({r['Division']} {r['Category']})"), escape(r["Benchmark"]),
                  SCENARIO_SHORT.get(r["Scenario"], r["Scenario"]), result, escape(str(r["Accuracy"])), status)
    return t


def table(args: argparse.Namespace) -> int:
    from podium.submission import check_submission, write_summary_csv

    root = Path(args.root)
    if not root.is_dir():
        raise PodiumError(f"{root}: no such folder")
    rep = check_submission(root, round=args.round)
    # Every measured scenario is shown and written, accepted or not: a draft tree (short runs) has no accepted
    # scenario, and showing only accepted ones used to print nothing and write a header-only CSV. The CSV's
    # "errors" field and the table's status column say which results the checker would not accept.
    rows = rep.measured
    if not rows:
        first = rep.errors[0].line() if rep.errors else "no scenario folders with a performance result"
        raise PodiumError(f"{root}: no measured results to tabulate ({len(rep.errors)} errors; first: {first})")
    if args.csv == "-":
        write_summary_csv(rows, sys.stdout)
    else:
        if args.csv:
            try:
                with open(args.csv, "w", encoding="utf-8") as fh:
                    write_summary_csv(rows, fh)
            except OSError as exc:
                raise PodiumError(f"--csv {args.csv}: cannot write it ({exc.strerror or exc})") from None
        Console().print(results_table(rep, root))
        if args.csv:
            print(f"wrote {len(rows)} results to {args.csv}")
    refused = sum(1 for r in rows if not rep.scenarios.get(r.location))
    if rep.errors:
        # One line on stderr so that '--csv -' output stays a clean CSV.
        print(f"podium: {len(rep.errors)} errors; {refused} of {len(rows)} results would not be accepted "
              f"(podium submission check {root} lists them)", file=sys.stderr)
    return 0
