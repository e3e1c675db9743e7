"""``podium submission package|check|table``: MLPerf v2.1 submission trees from finished runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podium.errors import PodiumError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submission", help="MLPerf v2.1 submission trees: package runs, check a tree, results table",
                       description="Lay out, check and summarise MLPerf Inference v2.1 submission trees.")
    ss = p.add_subparsers(dest="submission_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])

    pk = ss.add_parser("package", help="lay out the v2.1 tree of finished runs",
                       description="Write a v2.1 submission tree from podium run output folders (one per benchmark "
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
    pk.set_defaults(func=package)

    ck = ss.add_parser("check", help="check a tree with the v2.1 rules (exit 1 on any error)",
                       description="Check a submission tree with podium's implementation of the v2.1 checker "
                       "rules; prints every problem and exits non-zero on any error.")
    ck.add_argument("root", metavar="DIR", help="the tree (the folder holding closed/open/network)")
    ck.add_argument("--csv", metavar="FILE", help="also write the official summary CSV of the accepted results")
    ck.add_argument("--skip-compliance", action="store_true", help="do not check compliance/ (as the official flag)")
    ck.add_argument("--quiet", action="store_true", help="print only errors and the verdict")
    ck.set_defaults(func=check)

    tb = ss.add_parser("table", help="the final results table of a tree (the official summary CSV columns)")
    tb.add_argument("root", metavar="DIR")
    tb.add_argument("--csv", metavar="FILE", help="write the summary CSV here ('-' for stdout) instead of a table")
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
                                 force=args.force, draft=args.draft)
    except SubmissionRefused as exc:
        for reason in exc.reasons:
            console.print(f"[red]refused:[/] {escape(reason)}", highlight=False, soft_wrap=True)
        console.print("[dim]nothing written; --draft writes the tree anyway, labelled as a draft[/]")
        raise
    out = Console()
    draft = " [bold red](DRAFT: not submittable)[/]" if res.draft_reasons else ""
    out.print(f"wrote {escape(str(res.root))}{draft}")
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
    rep = check_submission(root, skip_compliance=args.skip_compliance)
    for p in rep.problems:
        if p.level == "error" or not args.quiet:
            print(p.line())
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as fh:
            write_summary_csv(rep.rows, fh)
    accepted = sum(1 for ok in rep.scenarios.values() if ok)
    print(f"{len(rep.errors)} errors, {len(rep.warnings)} warnings; results accepted {accepted} of "
          f"{len(rep.scenarios)}")
    if rep.ok:
        print("SUMMARY: submission looks OK")
        return 0
    print("SUMMARY: submission has errors")
    return 1


def table(args: argparse.Namespace) -> int:
    from podium.submission import check_submission, write_summary_csv
    from podium.submission.table import table_rows

    root = Path(args.root)
    if not root.is_dir():
        raise PodiumError(f"{root}: no such folder")
    rep = check_submission(root)
    if args.csv:
        if args.csv == "-":
            write_summary_csv(rep.rows, sys.stdout)
        else:
            with open(args.csv, "w", encoding="utf-8") as fh:
                write_summary_csv(rep.rows, fh)
        return 0 if rep.rows else 1
    rows = table_rows(rep.rows)
    t = Table(title=f"MLPerf v2.1 results in {root}")
    for col in ("submitter", "division", "system", "benchmark", "scenario", "result", "accuracy", "acc."):
        t.add_column(col, justify="right" if col in ("result", "accuracy", "acc.") else "left",
                     no_wrap=col in ("result", "accuracy", "benchmark"), overflow="fold")
    for r in rows:
        unit = {"Latency (ms)": "ms", "Samples/s": "samples/s", "Queries/s": "queries/s"}.get(r["Units"], r["Units"])
        result = f"{r['Result']:,.2f} {unit}" + (" (inferred)" if r["Inferred"] else "")
        t.add_row(r["Submitter"], f"{r['Division']} {r['Category']}", r["System"], r["Benchmark"], r["Scenario"],
                  result, r["Accuracy"], "" if r["Accelerators"] in (None, "") else str(r["Accelerators"]))
    console = Console()
    console.print(t)
    if rep.errors:
        console.print(f"[red]{len(rep.errors)} errors[/]: scenarios with errors are not in the table "
                      f"(podium submission check {root})")
    return 0 if rep.rows else 1
