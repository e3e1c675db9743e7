"""``podium suite plan|run|status CAMPAIGN.yaml``: whole campaigns from one file (see docs/campaign.md)."""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from podium.errors import RunInterrupted


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `podium suite`."""
    p = sub.add_parser("suite", help="campaigns: plan, run (resumable) and follow a whole matrix of runs",
                       description="Run a campaign file: benchmarks x scenarios x backend settings, then the "
                       "submission tree, the checker's verdict and the HTML report (docs/campaign.md).")
    ss = p.add_subparsers(dest="suite_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])
    pl = ss.add_parser("plan", help="the matrix, estimated durations and every missing prerequisite",
                       description="Check the campaign file and every prerequisite (files, backends, memory, the "
                       "scenarios the round requires) and print the matrix; exit 1 listing every problem.")
    pl.add_argument("campaign", metavar="CAMPAIGN.yaml")
    pl.set_defaults(func=plan)
    rn = ss.add_parser("run", help="run the matrix in order (resumes where it stopped)",
                       description="Run every run not yet done, in order; Ctrl-C stops it and the next `podium "
                       "suite run` resumes. A done run is never redone unless --redo RUN or --force.")
    rn.add_argument("campaign", metavar="CAMPAIGN.yaml")
    rn.add_argument("--redo", action="append", default=[], metavar="RUN", help="run RUN again (repeatable)")
    rn.add_argument("--force", action="store_true", help="run every run again")
    rn.add_argument("--no-finish", action="store_true", help="skip the submission tree, check and report")
    rn.set_defaults(func=run)
    st = ss.add_parser("status", help="what is done, running, failed and pending, with each result")
    st.add_argument("campaign", metavar="CAMPAIGN.yaml")
    st.set_defaults(func=status)


def _table(title: str) -> Any:
    from podium.cli.cmd_results import narrow_table

    return narrow_table(title)


def plan(args: argparse.Namespace) -> int:
    from podium.campaign import load_campaign, make_plan
    from podium.campaign.plan import format_duration

    campaign = load_campaign(args.campaign)
    p = make_plan(campaign)
    console = Console()
    short = " (short runs)" if p.short else ""
    t = _table(f"{campaign.path.name}: {campaign.round} {campaign.division} {campaign.category}, "
               f"{len(p.runs)} runs{short}")
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("run", overflow="fold", ratio=1)
    t.add_column("modes", no_wrap=True)
    t.add_column("length", no_wrap=True)
    t.add_column("est.", justify="right", no_wrap=True)
    for i, r in enumerate(p.runs, 1):
        s = r.spec
        modes = "+".join(m[:4] for m in s.modes)
        length = "full" if s.settings.full else f"{s.settings.duration_s:g} s short"
        if s.settings.find_peak:
            length += " +peak"
        if s.settings.synthetic:
            length += " synth"
        t.add_row(str(i), escape(s.run_id), modes, length, format_duration(r.estimate_s))
    console.print(t)
    console.print(f"total (rough): {format_duration(p.total_s)}; output {escape(str(campaign.output))}",
                  highlight=False, soft_wrap=True)
    for n in p.notes:
        console.print(f"[yellow]note:[/] {escape(n)}", highlight=False, soft_wrap=True)
    for prob in p.problems:
        console.print(f"[red]missing:[/] {escape(prob)}", highlight=False, soft_wrap=True)
    if p.problems:
        console.print(f"{len(p.problems)} problem(s): nothing can run until they are fixed")
        return 1
    console.print("[green]ready[/]: podium suite run " + escape(args.campaign))
    return 0


class _Display:
    """The overall line ([i/n] run, ETA) in front of podium run's per-run progress line."""

    def __init__(self, console: Console) -> None:
        from podium.cli.cmd_run import _Progress

        self.console = console
        self.prog = _Progress(console)
        self.prefix = ""
        self.eta_at: float | None = None
        self.live: Live | None = None

    def _eta(self) -> str:
        if self.eta_at is None:
            return ""
        from podium.campaign.plan import format_duration

        return f" ETA {format_duration(max(0.0, self.eta_at - time.monotonic()))}"

    def stage(self, name: str) -> None:
        self.prog.set_stage(f"{self.prefix}{self._eta()} {name}")

    def run_starting(self, index: int, total: int, spec: Any, eta_s: float | None) -> None:
        self.prefix = f"[{index}/{total}]"  # the run id is on the "run i/n:" line above: the live line fits 80
        self.eta_at = time.monotonic() + eta_s if eta_s is not None else None
        short = " (short run)" if spec.short else ""
        self.console.print(f"run {index}/{total}: {escape(spec.run_id)}{short}{escape(self._eta())}",
                           highlight=False)
        self.stage("starting")

    def run_skipped(self, index: int, total: int, spec: Any, state: Any) -> None:
        self.console.print(f"run {index}/{total}: {escape(spec.run_id)} done already ({state.result or '-'}, "
                           f"{escape(state.metric or '-')}); --redo {escape(spec.run_id)} runs it again",
                           highlight=False)

    def run_finished(self, index: int, total: int, spec: Any, state: Any) -> None:
        short = " (short run)" if state.short and state.result == "VALID" else ""
        line = (f"  {state.status}: {state.result or '-'}{short}  {state.metric or ''}  "
                f"{state.wall_s or 0:.1f} s  {state.folder or ''}")
        self.console.print(escape(line), highlight=False, soft_wrap=True)
        if state.error:
            self.console.print(f"  [red]error:[/] {escape(state.error)}", highlight=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    from podium.campaign import load_campaign, make_plan, run_campaign

    campaign = load_campaign(args.campaign)
    console = Console()
    p = make_plan(campaign)
    if p.problems:
        for prob in p.problems:
            console.print(f"[red]missing:[/] {escape(prob)}", highlight=False, soft_wrap=True)
        console.print(f"{len(p.problems)} problem(s); nothing run (podium suite plan {escape(args.campaign)})")
        return 1
    if p.short:
        from podium.campaign.runner import short_label

        console.print(f"[yellow]note:[/] {short_label(campaign.round)}", highlight=False, soft_wrap=True)
    disp = _Display(console)
    try:
        with contextlib.ExitStack() as stack:
            if console.is_terminal:
                live = stack.enter_context(Live(disp.prog.render(), console=console, refresh_per_second=4,
                                                transient=True))
                threading.Thread(target=disp.prog.loop, args=(live,), daemon=True).start()
            else:
                threading.Thread(target=disp.prog.plain_loop, daemon=True).start()
            stack.callback(disp.prog.stop)
            result = run_campaign(campaign, events=disp, redo=tuple(args.redo), force=args.force,
                                  finish=not args.no_finish)
    except KeyboardInterrupt as exc:  # RunInterrupted included
        where = ""
        folder = getattr(exc.outcome, "output", None) if isinstance(exc, RunInterrupted) else None
        if folder is not None:
            where = f": run folder {folder} (logs marked INVALID)"
        console.print(f"[red]interrupted[/]{escape(where)}; `podium suite run {escape(args.campaign)}` resumes",
                      highlight=False, soft_wrap=True)
        return 130
    return _show_finish(console, campaign, result)


def _show_finish(console: Console, campaign: Any, result: Any) -> int:
    st = result.state.counts()
    console.print(f"campaign: {st['done']} done, {st['failed']} failed, {st['pending'] + st['interrupted']} "
                  f"not run; ran {len(result.ran)}, skipped {len(result.skipped)} (done before)")
    for rid in result.failed:
        rs = result.state.runs[rid]
        console.print(f"[red]failed:[/] {escape(rid)}: {escape(rs.error or '')} (retried on the next run)",
                      highlight=False, soft_wrap=True)
    for tree in result.trees:
        draft = " [yellow](DRAFT: not submittable)[/]" if tree.get("draft") else ""
        if tree.get("practice"):
            draft += " [yellow](PRACTICE tree: not an MLPerf submission)[/]"
        console.print(f"tree: {escape(tree['path'])}{draft}", highlight=False, soft_wrap=True)
        for r in tree.get("practice", []):
            console.print(f"  [yellow]practice:[/] {escape(r)}", highlight=False, soft_wrap=True)
        for r in tree.get("draft", []):
            console.print(f"  [yellow]draft:[/] {escape(r)}", highlight=False, soft_wrap=True)
        for e in tree.get("errors", []):
            console.print(f"  [red]{escape(e)}[/]", highlight=False, soft_wrap=True)
        console.print(f"  check: {len(tree.get('errors', []))} errors, {tree.get('warnings', 0)} warnings; "
                      f"results accepted {tree.get('accepted', 0)} of {tree.get('scenarios', 0)}; "
                      f"SUMMARY: {escape(tree.get('verdict', ''))}", highlight=False, soft_wrap=True)
    for n in result.notes:
        console.print(f"[yellow]note:[/] {escape(n)}", highlight=False, soft_wrap=True)
    if result.report:
        console.print(f"report: {escape(result.report)}", highlight=False)
    if any(s.short for s in campaign.runs):
        from podium.campaign.runner import short_label

        console.print(f"[yellow]note:[/] {short_label(campaign.round)}", highlight=False, soft_wrap=True)
    # a real (non-draft) tree the checker rejects fails the command; a draft says why it is one above
    bad_tree = any(t.get("errors") and not t.get("draft") for t in result.trees)
    return 0 if not result.failed and not (st["pending"] + st["interrupted"]) and not bad_tree else 1


def status(args: argparse.Namespace) -> int:
    from podium.campaign import CampaignState, load_campaign

    campaign = load_campaign(args.campaign)
    state = CampaignState.load(campaign)
    console = Console()
    counts = state.counts()
    short = " (short runs)" if any(s.short for s in campaign.runs) else ""
    t = _table(f"{campaign.path.name}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v) + short)
    t.add_column("run", overflow="fold", ratio=1)
    t.add_column("status", no_wrap=True)
    t.add_column("result", no_wrap=True)
    t.add_column("metric", no_wrap=True)
    t.add_column("wall", justify="right", no_wrap=True)
    for spec in campaign.runs:
        rs = state.runs[spec.run_id]
        shown = "running?" if rs.stale() else rs.status
        colour = {"done": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}.get(rs.status, "dim")
        res = (rs.result or "-") + (" (short)" if rs.short and rs.result else "")
        t.add_row(escape(spec.run_id), f"[{colour}]{shown}[/]", res, escape(rs.metric or "-"),
                  f"{rs.wall_s:.0f} s" if rs.wall_s is not None else "-")
    console.print(t)
    for spec in campaign.runs:
        rs = state.runs[spec.run_id]
        if rs.folder:
            console.print(f"{escape(spec.run_id)}: {escape(rs.folder)}", highlight=False, soft_wrap=True)
        for label in rs.labels:
            if not label.startswith("short run"):  # the table's "(short)" says that one
                console.print(f"  [yellow]note:[/] {escape(label)}", highlight=False, soft_wrap=True)
        if rs.accuracy:
            console.print(f"  accuracy: {escape(rs.accuracy)}", highlight=False, soft_wrap=True)
        for test, passed in rs.compliance.items():
            console.print(f"  compliance {test}: {'TEST PASS' if passed else 'TEST FAIL'}", highlight=False)
        if rs.error:
            console.print(f"  [red]{rs.status}:[/] {escape(rs.error)}", highlight=False, soft_wrap=True)
        if rs.stale():
            console.print("  [yellow]its process is gone (killed?): podium suite run reruns it[/]")
    for tree in state.finish.get("trees", []):
        draft = " (DRAFT)" if tree.get("draft") else " (PRACTICE)" if tree.get("practice") else ""
        console.print(f"tree: {escape(tree['path'])}{draft}: {escape(tree.get('verdict', ''))}", highlight=False,
                      soft_wrap=True)
    if state.finish.get("report"):
        console.print(f"report: {escape(state.finish['report'])}", highlight=False)
    if not state.path.is_file():
        console.print(f"not started: no state file at {escape(str(state.path))}", highlight=False)
    return 0
