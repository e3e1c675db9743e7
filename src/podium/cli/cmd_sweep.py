"""``podium sweep``: LLM load points against OpenAI-compatible endpoints — fixed concurrency (``--concurrency
auto|1,2,4``) or LoadGen Server rates (``--rate``) — with goodput, the Pareto front (PNG and interactive
HTML), ``sweep.json`` and every point in the results store."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from podium.cli.llm_options import add_llm_options, llm_fields
from podium.errors import PodiumError, RunInterrupted

#: a sweep point shorter than this is labelled short (MLPerf Endpoints: 600 s ultra-low, 1200 s steady state)
ENDPOINTS_POINT_S = 600.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="LLM sweep: concurrency or rate points, goodput, Pareto front",
                       description="Load points against OpenAI-compatible endpoints: fixed concurrency (N requests "
                       "always in flight) or LoadGen Server rates (Poisson arrivals, MLPerf logs per point). Each "
                       "point: system tokens/s, tokens/s per user (1000/TPOT p90), TTFT p50/p90/p99, goodput "
                       "against --slo. Writes sweep.json, pareto.png, sweep.html and the results store.")
    p.add_argument("--sut-url", action="append", default=[], required=True, metavar="URL",
                   help="openai+http(s)://host:port (repeatable: requests go to the endpoint with fewest in flight)")
    p.add_argument("--concurrency", help="auto, or a comma list of levels (1,2,4,...)")
    p.add_argument("--max-concurrency", type=int, default=256,
                   help="the highest level of --concurrency auto (default 256)")
    p.add_argument("--rate", help="comma list of request rates (requests/s): one LoadGen Server run each")
    p.add_argument("--duration", type=float, default=10.0,
                   help="seconds per point (default 10; MLPerf Endpoints asks 600 s and more: shorter is labelled)")
    p.add_argument("--sut-timeout", type=float, default=60.0, help="seconds without a byte before a request fails")
    p.add_argument("--round", default=None, help="round of the rate points' LoadGen (default v6.1)")
    p.add_argument("--output", default="podium-results", help="results root (default podium-results)")
    p.add_argument("--name", help="the sweep folder's name under OUTPUT/sweeps (default: <date>-<time>-<mode>)")
    add_llm_options(p)
    p.set_defaults(func=run, benchmark="llm")


def _levels(args: argparse.Namespace) -> tuple[str, list[float], bool]:
    from podium.llm.metrics import concurrency_points

    if bool(args.concurrency) == bool(args.rate):
        raise PodiumError("podium sweep: give one of --concurrency auto|1,2,4 or --rate R1,R2,...")
    if args.concurrency:
        if args.concurrency.strip().lower() == "auto":
            return "concurrency", [float(c) for c in concurrency_points(args.max_concurrency)], True
        vals = _numbers(args.concurrency, "--concurrency", integer=True)
        return "concurrency", vals, False
    return "rate", _numbers(args.rate, "--rate", integer=False), False


def _numbers(text: str, flag: str, integer: bool) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        vals = []
    if not vals or any(v <= 0 or (integer and v != int(v)) for v in vals):
        kind = "positive integers" if integer else "positive numbers"
        raise PodiumError(f"{flag} {text}: expected auto or a comma list of {kind}" if integer
                          else f"{flag} {text}: expected a comma list of {kind}")
    return vals


def run(args: argparse.Namespace) -> int:
    import podium
    from podium.benchmarks.llm import LLMBenchmark
    from podium.files import write_json_atomic
    from podium.llm.concurrency import run_concurrency
    from podium.llm.metrics import parse_slo, point_figures
    from podium.llm.sweep import run_sweep, summarize
    from podium.providers.openai_endpoints import request_body, served_model
    from podium.report.store import ResultsStore
    from podium.report.sweep import write_sweep_report

    console = Console()
    if not args.duration > 0:
        raise PodiumError(f"--duration: expected a positive number of seconds, got {args.duration:g}")
    mode, values, auto = _levels(args)
    if not all(u.startswith("openai+") for u in args.sut_url):
        raise PodiumError("--sut-url: podium sweep takes openai+http(s):// endpoints")
    fields = llm_fields(args)
    slo = parse_slo(args.slo)
    bench = LLMBenchmark().configure(fields.get("benchmark_options", {}))
    prompts = bench.prompts()
    tok = bench.tokenizer()
    from podium.providers.openai_endpoints import OpenAIProvider

    headers = OpenAIProvider(urls=tuple(args.sut_url), api_key_env=args.api_key_env)._headers()
    model = args.llm_model or served_model(args.sut_url[0], headers, 10.0)
    extra = fields.get("sut_extra_body", {})
    bodies = [request_body(p, args.sut_api, model, extra) for p in prompts]
    name = args.name or time.strftime("%Y%m%d-%H%M%S") + f"-{mode}"
    out = Path(args.output) / "sweeps" / name
    if out.exists() and any(out.iterdir()):
        raise PodiumError(f"--name {name}: {out} already holds a sweep; choose another name")
    out.mkdir(parents=True, exist_ok=True)
    labels = [x for x in bench.run_labels()]
    if args.duration < ENDPOINTS_POINT_S:
        labels.append(f"short points: {args.duration:g} s each (MLPerf Endpoints asks 600 s ultra-low, 1200 s "
                      "steady state per point)")
    if model == "podium-sim":
        labels.append("SIMULATED server (podium serve --llm sim): figures of a model that does not exist")
    meta = {"title": f"LLM sweep · {model} · {mode}", "mode": mode, "model": model, "endpoints": list(args.sut_url),
            "slo_text": slo.text(), "labels": labels, "podium_version": podium.__version__,
            "duration_s": args.duration, "prompts": bench.info().get("prompts")}

    def save(points: list[dict[str, Any]]) -> None:
        # after every point: an interruption keeps what was measured
        write_json_atomic(out / "sweep.json", summarize(points, **meta))
        console.print(_line(points[-1]))

    def measure_concurrency(c: float) -> dict[str, Any]:
        r = run_concurrency(args.sut_url, args.sut_api, bodies, int(c), duration_s=args.duration,
                            count_tokens=tok.count if tok else None, headers=headers, timeout_s=args.sut_timeout,
                            seed=int(fields.get("benchmark_options", {}).get("seed") or 0))
        fig = point_figures(r.timings, r.duration_s, slo)
        limited = None
        ttft = fig.get("ttft_ms") or {}
        if r.issue_delay_p90_ms > 2.0 and ttft and r.issue_delay_p90_ms > 0.05 * ttft.get("p50", 0):
            limited = f"client-limited: requests left {r.issue_delay_p90_ms:.1f} ms (p90) after they were due"
        return {"mode": "concurrency", "value": c, **fig, "failures": r.failures, "first_error": r.first_error,
                "client_limited": limited, "valid": None, "token_count_source": r.token_source}

    def measure_rate(rate: float) -> dict[str, Any]:
        from podium.providers import provider_for
        from podium.suite import RunRequest, run_benchmark

        req = RunRequest(benchmark="llm", scenario="Server", round=args.round, modes=("performance",),
                         target_qps=rate, duration_s=args.duration, output=str(out / "runs"),
                         run_name=f"rate-{rate:g}", sut_urls=tuple(args.sut_url), sut_timeout_s=args.sut_timeout,
                         sut_model=model, **{k: v for k, v in fields.items() if k != "sut_model"})
        outcome = run_benchmark(req, provider=provider_for(req))
        from podium.files import read_result

        rec = read_result(outcome.output / "performance") or {}
        llm = rec.get("llm") or {}
        fig = dict(llm.get("figures") or {})
        tok_res = outcome.performance.performance.tokens if outcome.performance and outcome.performance.performance else None
        if tok_res is not None and tok_res.first_token_percentiles:
            # the LoadGen's own TTFT/TPOT (from the scheduled time) stand for a rate point
            fig["ttft_ms"] = {k: tok_res.first_token_percentiles.get(q, 0) / 1e6 for k, q in
                              (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
            fig["tpot_ms"] = {k: tok_res.tpot_percentiles.get(q, 0) / 1e6 for k, q in
                              (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
            p90 = fig["tpot_ms"]["p90"]
            fig["tps_per_user"] = 1000.0 / p90 if p90 > 0 else None
        return {"mode": "rate", "value": rate, **fig, "failures": llm.get("failures"),
                "first_error": llm.get("first_error"), "client_limited": llm.get("client_limited"),
                "valid": outcome.performance.valid if outcome.performance else None,
                "run_dir": str(outcome.output)}

    console.print(f"sweep {name}: {mode} {', '.join(f'{v:g}' for v in values)}{' (auto)' if auto else ''}; "
                  f"{args.duration:g} s per point; SLOs {slo.text()}")
    for label in labels:
        console.print(f"[yellow]note:[/] {label}")
    stopped = None
    try:
        points, stopped = run_sweep(values, measure_concurrency if mode == "concurrency" else measure_rate,
                                    auto=auto, on_point=save)
    except (KeyboardInterrupt, RunInterrupted):
        console.print("[red]interrupted[/]: the finished points are kept")
        data = (out / "sweep.json")
        points = _load_points(data)
        stopped = "interrupted (Ctrl-C)"
    summary = summarize(points, **meta, stopped=stopped, notes=[stopped] if stopped else [])
    write_json_atomic(out / "sweep.json", summary)
    try:
        with ResultsStore() as store:
            for p in points:
                store.add_sweep_point({**_row(p), "sweep": name, "sweep_dir": str(out.resolve()), "mode": mode,
                                       "model": model, "endpoints": list(args.sut_url), "labels": labels,
                                       "pareto": int(bool(p.get("pareto"))),
                                       "slo": slo.to_json() if slo.given else None})
    except PodiumError as exc:  # a store problem must not lose the sweep: sweep.json holds it
        console.print(f"[yellow]results store:[/] {exc}")
    written = write_sweep_report(summary, out)
    _table(console, summary)
    if stopped:
        console.print(f"stopped: {stopped}")
    console.print(f"sweep folder: {out} ({', '.join(p.name for p in written)}, sweep.json); points in the results "
                  "store (podium results sweeps)")
    return 130 if stopped == "interrupted (Ctrl-C)" else 0


def _load_points(path: Path) -> list[dict[str, Any]]:
    import json

    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("points", []))
    except (OSError, ValueError):
        return []


def _row(p: dict[str, Any]) -> dict[str, Any]:
    ttft, tpot = p.get("ttft_ms") or {}, p.get("tpot_ms") or {}
    return {"value": p["value"], "requests": p.get("requests"), "failed": p.get("failed"),
            "duration_s": p.get("duration_s"), "system_tps": p.get("system_tps"),
            "tps_per_user": p.get("tps_per_user"), "ttft_p50_ms": ttft.get("p50"), "ttft_p90_ms": ttft.get("p90"),
            "ttft_p99_ms": ttft.get("p99"), "tpot_p50_ms": tpot.get("p50"), "tpot_p90_ms": tpot.get("p90"),
            "tpot_p99_ms": tpot.get("p99"), "goodput": p.get("goodput"),
            "valid": None if p.get("valid") is None else int(bool(p["valid"])),
            "client_limited": p.get("client_limited"), "run_dir": p.get("run_dir")}


def _line(p: dict[str, Any]) -> str:
    ttft = (p.get("ttft_ms") or {}).get("p90")
    gp = p.get("goodput")
    return (f"  {p['mode']} {p['value']:g}: {p.get('requests')} requests ({p.get('failed')} failed), "
            f"{p.get('system_tps') or 0:,.1f} tok/s, {p.get('tps_per_user') or 0:,.2f} tok/s/user, TTFT p90 "
            f"{ttft if ttft is None else f'{ttft:,.1f}'} ms" + ("" if gp is None else f", goodput {100 * gp:.1f} %"))


def _table(console: Console, summary: dict[str, Any]) -> None:
    """The points in 80 columns: load, requests, failed, tokens/s, tokens/s per user, TTFT p50/p90, TPOT p90,
    goodput, and a mark on the Pareto front."""
    t = Table(title=summary.get("title"))
    for col in ("load", "req", "fail", "tok/s", "tok/s/u", "TTFT50", "TTFT90", "TPOT90", "good", "P"):
        t.add_column(col, justify="right", no_wrap=True)
    for p in summary["points"]:
        ttft, tpot = p.get("ttft_ms") or {}, p.get("tpot_ms") or {}
        t.add_row(f"{'c=' if p['mode'] == 'concurrency' else ''}{p['value']:g}{'/s' if p['mode'] == 'rate' else ''}",
                  str(p.get("requests")), str(p.get("failed")), f"{p.get('system_tps') or 0:,.0f}",
                  "—" if p.get("tps_per_user") is None else f"{p['tps_per_user']:,.1f}",
                  "—" if ttft.get("p50") is None else f"{ttft['p50']:,.1f}",
                  "—" if ttft.get("p90") is None else f"{ttft['p90']:,.1f}",
                  "—" if tpot.get("p90") is None else f"{tpot['p90']:,.2f}",
                  "—" if p.get("goodput") is None else f"{100 * p['goodput']:.0f}%", "●" if p.get("pareto") else "")
    console.print(t)
    console.print("[dim]times in ms; tok/s/u = tokens/s per user (1000 / TPOT p90); good = goodput; P = Pareto "
                  "front[/]")
