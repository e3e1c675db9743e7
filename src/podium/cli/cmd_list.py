"""``podium list`` (benchmarks, scenarios, backends and their status here) and ``podium build-model``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="benchmarks, scenarios and backends, and whether each works here")
    p.set_defaults(func=run)


def add_build_model_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build-model", help="rebuild a benchmark's model file (e.g. the digits CNN)")
    p.add_argument("benchmark", help="benchmark name, e.g. digits")
    p.add_argument("--out", default=".", help="folder to write the model into (default: .)")
    p.set_defaults(func=build_model)


def benchmarks_table() -> Table:
    """Every benchmark and what it needs here, in 80 columns: abbreviated scenarios and needs (the caption
    says what they stand for); names, scenarios and needs never wrap."""
    from podium.benchmarks import Benchmark, list_benchmarks
    from podium.cli.cmd_results import narrow_table

    short = {"SingleStream": "SS", "MultiStream": "MS", "Server": "Srv", "Offline": "Off"}
    t = narrow_table("Benchmarks", caption_justify="left", caption=(
        "SS SingleStream, MS MultiStream, Srv Server, Off Offline. needs: model = --model-path FILE, "
        "build = podium build-model, data = --data-dir DIR, server = an OpenAI-compatible LLM server. synthetic = --synthetic runs performance only "
        "without the files; random-W = random weights (accuracy meaningless). rounds: the MLPerf rounds that "
        "have it (--round; default v6.1), any = podium's own."))
    from podium.benchmarks.rounds import PODIUM_ONLY, rounds_with

    for col in ("name", "conf", "scenarios", "rounds", "needs", "status"):
        t.add_column(col, no_wrap=col != "status", overflow="fold" if col == "status" else "ellipsis")
    for b in list_benchmarks():
        needs: list[str] = []
        if b.needs_remote_sut:  # the model is a server's: nothing to build or fetch here
            rounds = "6.0 6.1"
            t.add_row(b.name, b.conf_model, " ".join(short.get(x, x) for x in b.scenarios), rounds, "server",
                      "needs a server")
            continue
        try:
            default = b.default_model_path()
            if not (default is not None and default.is_file()):
                needs.append("model" if b.needs_model_path else "build")
        except Exception as exc:  # a benchmark's model lookup must not break the listing
            needs.append(f"model (error: {exc})")
        if b.needs_data_dir:
            needs.append("data")
        status = "ready" if not needs else "needs files"
        if needs and type(b).synthetic_variant is not Benchmark.synthetic_variant:
            status = "synthetic"
        if b.random_weights:
            status += " random-W"
        rounds = "any" if b.name in PODIUM_ONLY else " ".join(r.lstrip("v") for r in rounds_with(b.name)) or "-"
        t.add_row(b.name, b.conf_model, " ".join(short.get(x, x) for x in b.scenarios), rounds,
                  escape(", ".join(needs)), status)
    return t


def run(args: argparse.Namespace) -> int:
    from podium.backends import available_backends
    from podium.cli.cmd_results import narrow_table

    console = Console()
    console.print(benchmarks_table())
    bt = narrow_table("Backends")
    bt.add_column("name", no_wrap=True)
    bt.add_column("status", overflow="fold")
    for name, status in available_backends().items():
        bt.add_row(name, escape(status))
    console.print(bt)
    console.print("Scenarios: SingleStream, MultiStream, Server, Offline.  "
                  "Modes: performance, accuracy, submission.  Rounds: v6.1 (default), v6.0, v2.1.")
    return 0


def build_model(args: argparse.Namespace) -> int:
    from podium.benchmarks import get_benchmark

    bench = get_benchmark(args.benchmark)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = bench.build_model(out)
    print(f"wrote {path}")
    return 0
