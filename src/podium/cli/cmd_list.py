"""``podium list`` (benchmarks, scenarios, backends and their status here) and ``podium build-model``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="benchmarks, scenarios and backends, and whether each works here")
    p.set_defaults(func=run)


def add_build_model_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build-model", help="rebuild a benchmark's model file (e.g. the digits CNN)")
    p.add_argument("benchmark", help="benchmark name, e.g. digits")
    p.add_argument("--out", default=".", help="folder to write the model into (default: .)")
    p.set_defaults(func=build_model)


def run(args: argparse.Namespace) -> int:
    from podium.backends import available_backends
    from podium.benchmarks import list_benchmarks

    console = Console()
    from podium.benchmarks import Benchmark

    short = {"SingleStream": "SS", "MultiStream": "MS", "Server": "Server", "Offline": "Offline"}
    t = Table(title="Benchmarks (SS = SingleStream, MS = MultiStream)")
    for col in ("name", "conf model", "scenarios", "model", "data", "status"):
        t.add_column(col, no_wrap=col in ("name", "conf model"))
    for b in list_benchmarks():
        try:
            default = b.default_model_path()
            model = "shipped" if default is not None and default.is_file() else (
                "--model-path" if b.needs_model_path else "build")
        except Exception as exc:  # a benchmark's model lookup must not break the listing
            model = f"error: {exc}"
        data = "--data-dir" if b.needs_data_dir else "bundled"
        status = "ready" if model == "shipped" and data == "bundled" else "needs files"
        if status != "ready" and type(b).synthetic_variant is not Benchmark.synthetic_variant:
            status += "; --synthetic runs perf only"
        if b.random_weights:
            status += " (random weights)"
        t.add_row(b.name, b.conf_model, ",".join(short.get(x, x) for x in b.scenarios), model, data, status)
    console.print(t)
    bt = Table(title="Backends")
    bt.add_column("name")
    bt.add_column("status")
    for name, status in available_backends().items():
        bt.add_row(name, status)
    console.print(bt)
    console.print("Scenarios: SingleStream, MultiStream, Server, Offline.  "
                  "Modes: performance, accuracy, submission.")
    return 0


def build_model(args: argparse.Namespace) -> int:
    from podium.benchmarks import get_benchmark

    bench = get_benchmark(args.benchmark)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = bench.build_model(out)
    print(f"wrote {path}")
    return 0
