"""``podium run``: run a benchmark, show live progress, then the results and where the logs are."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from podium.cli.llm_options import add_llm_options, llm_fields
from podium.cli.options import backend_options
from podium.errors import PodiumError, RunInterrupted


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a benchmark (default: digits, Offline, performance then accuracy)",
                       description="Run a benchmark through podium's LoadGen and harness. With no options: "
                       "the digits benchmark, Offline, a short performance run then an accuracy run.")
    p.add_argument("--benchmark", default="digits", help="benchmark name (podium list shows them)")
    p.add_argument("--scenario", default="Offline", help="Offline | Server | SingleStream | MultiStream")
    p.add_argument("--round", default=None,
                   help="MLPerf round: v6.1 (default, or $PODIUM_ROUND), v6.0 (LoadGen 6.0.17 rules and seeds) or "
                        "v2.1 (LoadGen 2.1, exactly as before)")
    p.add_argument("--mode", default="performance,accuracy",
                   help="performance, accuracy, submission, or a comma list (default: performance,accuracy)")
    p.add_argument("--backend", default="onnxruntime")
    p.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, e.g. intra_op_threads=2 (repeatable)")
    p.add_argument("--model-path", help="model file (default: the benchmark's shipped or built model)")
    p.add_argument("--data-dir", help="data set folder (benchmarks that need one)")
    p.add_argument("--synthetic", action="store_true",
                   help="performance only: a random-weight model unless --model-path, synthetic inputs unless "
                   "--data-dir; labelled in every output")
    p.add_argument("--conf", dest="mlperf_conf", help="mlperf.conf (default: the built-in v2.1 file)")
    p.add_argument("--user-conf", help="user.conf with your settings")
    p.add_argument("--audit-config", help="audit.config for a compliance test")
    p.add_argument("--output", default="podium-results",
                   help="results folder: each run gets its own folder in it, ROOT/latest points at the newest "
                   "(default: podium-results)")
    p.add_argument("--run-name", help="the run folder's name under --output (default: <date>-<time>-<benchmark>-"
                   "<scenario>); an existing one is refused unless --force")
    p.add_argument("--force", action="store_true", help="replace the run folder --run-name if it holds a run")
    p.add_argument("--duration", type=float, default=None,
                   help="short run: min duration in seconds (default 5; a valid MLPerf run needs 600)")
    p.add_argument("--full", action="store_true",
                   help="use the settings files' durations and query counts (a full-length MLPerf run)")
    p.add_argument("--query-count", type=int, help="min query count (short runs default to 1)")
    p.add_argument("--target-qps", type=float, help="Server target QPS")
    p.add_argument("--expected-qps", type=float, help="Offline expected QPS")
    p.add_argument("--expected-latency-ms", type=float, help="SingleStream/MultiStream expected latency")
    p.add_argument("--latency-bound-ms", type=float, help="Server latency bound (default: mlperf.conf)")
    p.add_argument("--batch-size", type=int, help="max batch size of the harness")
    p.add_argument("--max-wait-us", type=int, help="max time a batch waits to fill (Server)")
    p.add_argument("--workers", type=int, help="harness worker threads")
    p.add_argument("--completion-timeout", type=float, default=300.0,
                   help="end the run INVALID if no sample completes for this many seconds (default 300)")
    p.add_argument("--find-peak", action="store_true",
                   help="search the peak first (Server: highest VALID QPS; streams: settled latency)")
    p.add_argument("--compliance", metavar="TESTS",
                   help="after the runs, compliance tests: all (those the v2.1 checker requires) or a comma "
                   "list of TEST01,TEST04,TEST05; results in <output>/compliance")
    p.add_argument("--power", metavar="METER",
                   help="measure power: ptd://host:port (PTDaemon: ranging + testing runs), sim[:profile] "
                   "(simulated PTDaemon, a dry run), nvml[:gpus], rapl[:path], auto, none (default: not measured)")
    net = p.add_argument_group("network mode (the SUT behind KServe v2 endpoints; see docs/network.md)")
    net.add_argument("--sut-url", action="append", default=[], metavar="URL",
                     help="endpoint instead of a local backend: http(s)://host:port or grpc(s)://host:port "
                     "(repeatable: several SUT nodes)")
    net.add_argument("--sut-policy", default="round_robin", choices=["round_robin", "least_outstanding"])
    net.add_argument("--send", dest="sut_send", default="preprocessed", choices=["preprocessed", "raw"],
                     help="send pre-processed tensors, or raw inputs for the server node to pre-process")
    net.add_argument("--sut-timeout", type=float, default=30.0, help="seconds per request (no retries)")
    net.add_argument("--sut-token-file", help="bearer token file (default: $PODIUM_SERVE_TOKEN)")
    net.add_argument("--sut-model", help="model name on the server (default: the benchmark's)")
    net.add_argument("--sut-ca-cert", help="CA certificate for https:// / grpcs://")
    net.add_argument("--sut-output", action="append", default=[], help="output tensor to request (repeatable)")
    net.add_argument("--sut-postprocess", default="auto", choices=["auto", "server", "client"])
    net.add_argument("--sut-request-samples", type=int, help="samples per request (Offline default 32)")
    net.add_argument("--sut-concurrency", type=int, default=8, help="requests in flight per endpoint")
    add_llm_options(p)
    p.set_defaults(func=run)


def request_from_args(args: argparse.Namespace) -> Any:
    from podium.suite import RunRequest

    modes = tuple(m.strip().lower() for m in args.mode.split(",") if m.strip())
    if args.full and args.duration is not None:
        raise PodiumError("--full and --duration: choose one (--full uses the settings files' durations)")
    duration = None if args.full else (args.duration if args.duration is not None else 5.0)
    if duration is not None and not duration > 0:
        raise PodiumError(f"--duration: expected a positive number of seconds, got {duration:g}")
    for name in ("target_qps", "expected_qps", "expected_latency_ms", "latency_bound_ms"):
        v = getattr(args, name)
        if v is not None and v <= 0:
            raise PodiumError(f"--{name.replace('_', '-')}: expected a positive number, got {v:g}")
    for name in ("batch_size", "workers", "query_count"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise PodiumError(f"--{name.replace('_', '-')}: expected an integer >= 1, got {v}")
    return RunRequest(
        benchmark=args.benchmark, scenario=args.scenario, round=args.round, modes=modes, backend=args.backend,
        backend_options=backend_options(args.backend_option), model_path=args.model_path, data_dir=args.data_dir,
        mlperf_conf=args.mlperf_conf, user_conf=args.user_conf, audit_config=args.audit_config,
        output=args.output, run_name=args.run_name, force=args.force, duration_s=duration, query_count=args.query_count, target_qps=args.target_qps,
        expected_qps=args.expected_qps, expected_latency_ms=args.expected_latency_ms,
        latency_bound_ms=args.latency_bound_ms, batch_size=args.batch_size, max_wait_us=args.max_wait_us,
        workers=args.workers, completion_timeout_s=args.completion_timeout, find_peak=args.find_peak,
        compliance=_compliance_tests(args.compliance), power=args.power, synthetic=args.synthetic,
        **{**_network_fields(args), **llm_fields(args)})


def _network_fields(args: argparse.Namespace) -> dict[str, Any]:
    if not args.sut_url:
        return {}
    from podium.cli.cmd_serve import read_token

    return dict(sut_urls=tuple(args.sut_url), sut_policy=args.sut_policy, sut_send=args.sut_send,
                sut_timeout_s=args.sut_timeout, sut_token=read_token(args.sut_token_file), sut_model=args.sut_model,
                sut_outputs=tuple(args.sut_output), sut_postprocess=args.sut_postprocess,
                sut_request_samples=args.sut_request_samples, sut_concurrency=args.sut_concurrency,
                sut_ca_cert=args.sut_ca_cert)


def _compliance_tests(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    items = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    if items == ("ALL",):
        return ("all",)
    bad = [t for t in items if t not in ("TEST01", "TEST04", "TEST05")]
    if bad or not items:
        raise PodiumError(f"--compliance {text}: expected all, or a comma list of TEST01, TEST04, TEST05")
    return items


#: seconds between plain progress lines when the output is not a terminal
PLAIN_PROGRESS_EVERY_S = 5.0
#: nothing is printed during the first seconds of a piped run
QUIET_START_S = 1.0


class _Progress:
    """A live line: stage, elapsed, samples completed / generated, current rate."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.stage = "starting"
        self._stop = threading.Event()
        #: (when, completed, series, series elapsed) of the last line, for the rate over the interval
        self._last: tuple[float, int, str, float] | None = None

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        self._last = None

    def line(self) -> str:
        """The progress line as plain text."""
        from podium.loadgen.session import progress

        p = progress()
        text = f"{self.stage:<16}"
        if p and "completed" in p:
            now = time.perf_counter()
            rate = ""
            last = self._last
            # a rate only within one test: a new test (compliance runs several in one stage) restarts its count
            if (last is not None and now > last[0] and last[2] == p["series"] and p["completed"] >= last[1]
                    and p["series_elapsed_s"] >= last[3]):
                r = (p["completed"] - last[1]) / (now - last[0])
                rate = f"  {r:,.0f} samples/s"
            self._last = (now, p["completed"], p["series"], p["series_elapsed_s"])
            expected = f" / {p['expected_s']:.0f} s" if p.get("expected_s") else ""
            text += (f"  {p['series']:<16} {p['series_elapsed_s']:6.1f} s{expected}  issued {p['issued']:,}  "
                     f"completed {p['completed']:,} of {p['generated']:,}{rate}")
        return text

    def render(self) -> Text:
        line = self.line()
        text = Text(line[:16], style="bold cyan")
        text.append(line[16:])
        return text

    def loop(self, live: Live) -> None:
        while not self._stop.wait(0.25):
            live.update(self.render())

    def plain_loop(self, every_s: float = PLAIN_PROGRESS_EVERY_S) -> None:
        """Output piped or redirected: a plain line on stderr every few seconds (and at each stage change)."""
        shown = ""
        start = last = time.monotonic()
        stage, stage_since = self.stage, start
        while not self._stop.wait(0.25):
            now = time.monotonic()
            if self.stage != stage:
                stage, stage_since = self.stage, now
            if now - start < QUIET_START_S or now - stage_since < 0.5:
                continue  # a command that fails at once prints its one error line; a new stage shows its figures
            if stage != shown or now - last >= every_s:
                shown, last = stage, now
                print(f"podium: {self.line().rstrip()}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()


def run(args: argparse.Namespace) -> int:
    from podium.compliance import OfficialCompliance
    from podium.power import power_plan
    from podium.providers import provider_for
    from podium.suite import run_benchmark
    from podium.suite.runner import RunOutcome

    console = Console()
    req = request_from_args(args)
    prog = _Progress(console)
    try:
        # the SUT and the meter are wired here; an unreachable meter fails before anything loads
        with power_plan(req.power) as power:
            if console.is_terminal:
                with Live(prog.render(), console=console, refresh_per_second=4, transient=True) as live:
                    threading.Thread(target=prog.loop, args=(live,), daemon=True).start()
                    try:
                        outcome = run_benchmark(req, on_stage=prog.set_stage, provider=provider_for(req),
                                                power=power, compliance=OfficialCompliance())
                    finally:
                        prog.stop()
            else:
                threading.Thread(target=prog.plain_loop, daemon=True).start()
                try:
                    outcome = run_benchmark(req, on_stage=prog.set_stage, provider=provider_for(req), power=power,
                                            compliance=OfficialCompliance())
                finally:
                    prog.stop()
    except RunInterrupted as exc:
        if isinstance(exc.outcome, RunOutcome):
            show_outcome(console, exc.outcome)
            console.print(f"[red]interrupted[/]: run folder {exc.outcome.output} (logs marked INVALID)")
        else:
            console.print("[red]interrupted[/]")
        return 130
    show_outcome(console, outcome)
    perf_ok = outcome.performance is None or outcome.performance.valid
    acc_ok = outcome.accuracy_result is None or outcome.accuracy_result.passed
    comp_ok = all(outcome.compliance.values())
    failed = outcome.failure is not None or outcome.power_failure is not None or (outcome.accuracy is not None and outcome.accuracy_result is None
                                             and "accuracy" in outcome.request.modes)
    return 0 if perf_ok and acc_ok and comp_ok and not failed else 1


def verdict_markup(valid: bool, short_run: bool) -> str:
    """VALID / INVALID as shown to people; a short run's VALID says it is one (not a valid MLPerf duration)."""
    if not valid:
        return "[red]INVALID[/]"
    return "[green]VALID[/] [yellow](short run)[/]" if short_run else "[green]VALID[/]"


def show_outcome(console: Console, outcome: Any) -> None:
    for label in outcome.labels:
        console.print(f"[yellow]note:[/] {label}")
    for note in outcome.notes:
        console.print(f"[dim]setting:[/] {note}")
    if outcome.peak is not None:
        pk = outcome.peak
        t = Table(title=f"find-peak ({pk.scenario})")
        # fits 80 columns: durations in seconds, latencies in ms
        columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
            ("#", "right"), ("kind", "left"), ("target", "right"), ("run s", "right"), ("valid", "left"),
            ("metric", "right"), ("lat. ms", "right"), ("wall s", "right"))
        for c, just in columns:
            t.add_column(c, justify=just, no_wrap=True)
        for i, p in enumerate(pk.probes):
            target = f"{p.target / 1000:,.1f} s" if p.kind == "settle" else f"{p.target:,.1f}"
            t.add_row(str(i), p.kind, target, f"{p.duration_ms / 1000:g}", "yes" if p.valid else "NO",
                      f"{p.metric:,.1f}", f"{p.latency_ns / 1e6:,.3f}", f"{p.wall_s:.1f}")
        console.print(t)
        console.print(pk.summary(), style="bold" if pk.confirmed else "red")
    perf = outcome.performance.performance if outcome.performance is not None else None
    if perf is not None:
        t = Table(title=f"{outcome.request.benchmark} · {perf.scenario.value} · performance")
        t.add_column("figure")
        t.add_column("value", justify="right")
        from podium.loadgen.record import headline

        head = headline(perf)
        value = head["value"]
        # an interrupted Offline run that completed nothing has no rate (None): say so, never crash
        t.add_row(head["name"], "n/a (nothing completed)" if value is None
                  else f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
        t.add_row("samples / queries", f"{perf.sample_count:,} / {perf.query_count:,}")
        t.add_row("duration (s)", f"{max(perf.final_query_issued_time_s, perf.max_latency_s):.2f}")
        for p in (0.5, 0.9, 0.99):
            v = perf.sample_percentiles.get(p)
            if v is not None:
                t.add_row(f"p{p * 100:g} latency (ms)", f"{v / 1e6:,.3f}")
        tok = perf.tokens
        if tok is not None and tok.first_token_percentiles:
            ft, tp = tok.first_token_percentiles, tok.tpot_percentiles
            t.add_row("TTFT p50/p90/p99 (ms)", " / ".join(f"{ft.get(q, 0) / 1e6:,.3f}" for q in (0.5, 0.9, 0.99)))
            t.add_row("TPOT p50/p90/p99 (ms)", " / ".join(f"{tp.get(q, 0) / 1e6:,.3f}" for q in (0.5, 0.9, 0.99)))
        if perf.lateness.get("count"):
            late = perf.lateness
            t.add_row(f"{late['kind'].replace('_', ' ')} p50/p99/max (µs)",
                      f"{late['p50_ns'] / 1e3:,.1f} / {late['p99_ns'] / 1e3:,.1f} / {late['max_ns'] / 1e3:,.1f}")
        if outcome.power is not None:
            from podium.power import power_summary_line

            t.add_row("power", power_summary_line(outcome.power)[len("power: "):])
        t.add_row("result", verdict_markup(perf.valid, outcome.request.duration_s is not None))
        for r in perf.invalid_reasons:
            t.add_row("", f"[red]{r}[/]")
        console.print(t)
        console.print(f"logs: {Path(outcome.performance.log_paths['summary']).parent}")
        if outcome.power is None:
            console.print("[dim]power: not measured (--power ptd://host:port | nvml | rapl)[/]")
    for test, passed in outcome.compliance.items():
        why = outcome.compliance_explained.get(test)
        console.print(f"compliance {test}: " + ("[green]TEST PASS[/]" if passed else "[red]TEST FAIL[/]")
                      + (f" [dim]({escape(why)})[/]" if why else ""))
    if not all(outcome.compliance.values()) and outcome.request.duration_s is not None:
        # a short run's few seconds carry the machine's noise: a few % is what TEST01/TEST05 allow
        console.print("[yellow]note:[/] a short run's performance can swing more than the compliance tests "
                      "allow on a busy machine; rerun, or give a longer --duration (or --full)")
    if outcome.compliance:
        console.print(f"compliance folders: {outcome.output / 'compliance'}")
    if outcome.steps:
        console.print("[dim]steps: " + " · ".join(f"{name} {secs:.1f} s" for name, secs in outcome.steps) + "[/]")
    if outcome.failure:
        console.print(f"[red]failed:[/] {outcome.failure}")
    if outcome.power_failure:
        console.print(f"[red]power missing:[/] {outcome.power_failure}")
    console.print(f"run folder: {outcome.output} (round {outcome.request.round})")
    acc = outcome.accuracy_result
    if acc is not None:
        style = "green" if acc.passed else "red"
        console.print(f"accuracy: {acc.line}  target {acc.target:.4f} -> [{style}]"
                      f"{'PASS' if acc.passed else 'FAIL'}[/]")
        console.print(f"logs: {Path(outcome.accuracy.log_paths['accuracy']).parent} (accuracy.txt beside them)")
