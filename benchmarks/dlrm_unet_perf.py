#!/usr/bin/env python3
"""Performance-only figures of dlrm-99 and 3d-unet-99 on this machine: random weights, synthetic data.

Each part runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own:

  dlrm   random-weight DLRM (tables capped at ``--row-cap`` rows), ``--users`` synthetic users (100-700 items
         each, the reference's distribution). Prints: QSL load time and cache size; the model alone at 1, 8
         and 32 users per batch (users/s, items/s, latency); a short LoadGen Offline run and a Server run
         at ``--server-fraction`` of the Offline rate with the 30 ms bound (VALID or not, p99); peak RSS.
         The harness batches as the benchmark's ``harness_defaults`` say (Server: one user per batch).
  unet   random-weight 3D-UNet of the official shape. Prints one 128³ patch's latency, then a short LoadGen
         SingleStream and Offline run over ``--cases`` synthetic 128³ cases (equal-issue mode on, as in
         mlperf.conf); peak RSS. Each patch takes ~10-20 s on 2 cores: the part takes a few minutes.

    python benchmarks/dlrm_unet_perf.py [--parts dlrm,unet] [--duration 5] [--threads 2] [--json out.json]
                                        [--users 2048] [--row-cap 100000] [--cases 2]

Figures are for reading, not for asserting: random weights and synthetic data, short runs (not valid MLPerf
durations), and capped DLRM tables that fit in cache, which flatters the embedding look-ups.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _loadgen_run(runner: Any, qsl: Any, postprocess: Any, scenario: str, out: str,
                 policy: dict[str, int] | None = None, **fields: Any) -> dict[str, Any]:
    from podium.harness import BackendSUT
    from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test

    settings = TestSettings(scenario=Scenario.parse(scenario), mode=TestMode.PerformanceOnly, min_query_count=1,
                            **fields)
    t0 = time.perf_counter()
    with BackendSUT(runner, qsl, postprocess, scenario_hint=scenario, **(policy or {})) as sut:
        res = start_test(sut, qsl, settings, LogSettings(outdir=out), audit_config=None)
        errors = sut.errors
    perf = res.performance
    pct = {f"p{int(p * 100)}_ms": v / 1e6 for p, v in perf.sample_percentiles.items() if p in (0.5, 0.9, 0.99)}
    return {"scenario": scenario, "valid": perf.valid, "samples": perf.sample_count, "queries": perf.query_count,
            "samples_per_s": perf.sample_count / max(perf.final_query_issued_time_s, perf.max_latency_s, 1e-9),
            "wall_s": time.perf_counter() - t0, "harness_errors": errors, "policy": policy or "scenario default", **pct,
            "invalid_reasons": list(perf.invalid_reasons)}


def part_dlrm(args: argparse.Namespace) -> dict[str, Any]:
    from podium.backends import get_backend
    from podium.benchmarks.dlrm import Dlrm99Benchmark

    bench = Dlrm99Benchmark(users=args.users, row_cap=args.row_cap).synthetic_variant()
    out: dict[str, Any] = {"row_cap": args.row_cap, "users": args.users}
    t0 = time.perf_counter()
    path = bench.resolve_model_path(None)
    out["model_build_or_reuse_s"] = time.perf_counter() - t0
    out["model_mb"] = (path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + ".data"))) / 1e6
    qsl = bench.create_qsl(None)
    out["labels"] = bench.run_labels()
    t0 = time.perf_counter()
    qsl.load_samples(np.arange(qsl.total_sample_count))
    out["qsl_load_s"] = time.perf_counter() - t0
    out["items"] = qsl.total_rows
    out["cache_mb"] = (qsl._dense.nbytes + qsl._sparse.nbytes + qsl._labels.nbytes) / 1e6
    backend = get_backend("onnxruntime", intra_op_threads=args.threads).load(path)
    runner = bench.model_runner(backend)
    raw = {}
    for users in (1, 8, 32):
        idx = np.arange(users)
        batch = qsl.get_batch(idx)
        runner.run(batch)
        times = []
        t_end = time.perf_counter() + 2.0
        while time.perf_counter() < t_end or len(times) < 3:
            idx = np.random.default_rng(len(times)).integers(0, qsl.total_sample_count, users)
            batch = qsl.get_batch(idx)
            t = time.perf_counter()
            runner.run(batch)
            times.append((time.perf_counter() - t, int(batch.lengths.sum())))
        secs = sum(t for t, _ in times)
        raw[f"batch_{users}"] = {"users_per_s": users * len(times) / secs, "items_per_s": sum(n for _, n in times) / secs,
                                 "median_latency_ms": 1e3 * float(np.median([t for t, _ in times]))}
    out["model_alone"] = raw
    offline_rate = raw["batch_32"]["users_per_s"]
    with tempfile.TemporaryDirectory() as tmp:
        out["offline"] = _loadgen_run(runner, qsl, bench.postprocess, "Offline", tmp + "/off",
                                      policy=bench.harness_defaults("Offline"),
                                      min_duration_ms=int(args.duration * 1000),
                                      # two harness workers outrun one model call in a loop: ask for more
                                      offline_expected_qps=1.5 * offline_rate)
        # One user per batch (the benchmark's default): 8 users (~2,000 items) take longer than the 30 ms bound.
        target = round(args.server_fraction * out["offline"]["samples_per_s"], 1)
        out["server"] = _loadgen_run(runner, qsl, bench.postprocess, "Server", tmp + "/srv",
                                     policy=bench.harness_defaults("Server"),
                                     min_duration_ms=int(args.duration * 1000), server_target_qps=target,
                                     server_target_latency_ns=30_000_000)
        out["server"]["target_qps"] = target
    out["peak_rss_mb"] = _rss_mb()
    return out


def part_unet(args: argparse.Namespace) -> dict[str, Any]:
    from podium.backends import get_backend
    from podium.benchmarks.unet3d import UNet3D99Benchmark

    bench = UNet3D99Benchmark(cases=args.cases).synthetic_variant()
    out: dict[str, Any] = {"cases": args.cases, "case_shape": [128, 128, 128]}
    t0 = time.perf_counter()
    model_path = bench.resolve_model_path(None)
    out["model_build_or_reuse_s"] = time.perf_counter() - t0
    out["model_mb"] = model_path.stat().st_size / 1e6
    backend = get_backend("onnxruntime", intra_op_threads=args.threads).load(model_path)
    patch = np.random.default_rng(0).normal(size=(1, 1, 128, 128, 128)).astype(np.float32)
    backend.run(patch)
    t0 = time.perf_counter()
    backend.run(patch)
    out["patch_latency_s"] = time.perf_counter() - t0
    runner = bench.model_runner(backend)
    qsl = bench.create_qsl(None)
    out["labels"] = bench.run_labels()
    with tempfile.TemporaryDirectory() as tmp:
        lat_ns = out["patch_latency_s"] * 1e9
        out["single_stream"] = _loadgen_run(runner, qsl, bench.postprocess, "SingleStream", tmp + "/ss",
                                            policy=bench.harness_defaults("SingleStream"),
                                            min_duration_ms=int(args.duration * 1000),
                                            single_stream_expected_latency_ns=lat_ns,
                                            sample_concatenate_permutation=True)
        out["offline"] = _loadgen_run(runner, qsl, bench.postprocess, "Offline", tmp + "/off",
                                      policy=bench.harness_defaults("Offline"),
                                      min_duration_ms=int(args.duration * 1000),
                                      offline_expected_qps=1e9 / lat_ns, sample_concatenate_permutation=True)
    out["patches_run"] = runner.patches_run
    out["peak_rss_mb"] = _rss_mb()
    return out


PARTS = {"dlrm": part_dlrm, "unet": part_unet}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="dlrm,unet")
    ap.add_argument("--duration", type=float, default=5.0, help="min duration of each LoadGen run, seconds")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="ONNX Runtime intra-op threads")
    ap.add_argument("--users", type=int, default=2048, help="synthetic DLRM users")
    ap.add_argument("--row-cap", type=int, default=100_000, help="rows per DLRM embedding table")
    ap.add_argument("--server-fraction", type=float, default=0.5, help="DLRM Server target / Offline rate")
    ap.add_argument("--cases", type=int, default=2, help="synthetic 3D-UNet cases of 128^3")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:  # one part, in this process: print its JSON as the last line
        print(json.dumps(PARTS[args.child](args), default=float))
        return 0
    results: dict[str, Any] = {"threads": args.threads, "duration_s": args.duration,
                               "labels": ["random weights", "synthetic data", "short runs: not valid MLPerf durations"]}
    base = [f"--duration={args.duration}", f"--threads={args.threads}", f"--users={args.users}",
            f"--row-cap={args.row_cap}", f"--server-fraction={args.server_fraction}", f"--cases={args.cases}"]
    for part in [p.strip() for p in args.parts.split(",") if p.strip()]:
        if part not in PARTS:
            ap.error(f"--parts: unknown part {part!r}; expected dlrm, unet")
        proc = subprocess.run([sys.executable, __file__, *base, "--child", part], capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        results[part] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"== {part}")
        print(json.dumps(results[part], indent=2, default=float))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
