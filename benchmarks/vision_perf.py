#!/usr/bin/env python3
"""Throughput and latency of the vision benchmarks (ResNet50-v1.5, RetinaNet) on this machine.

Two parts, both on the performance-only variant (``podium run --synthetic``: random-weight models built into
the model cache, random-pixel images unless ``--resnet-data`` / ``--retinanet-data`` point at real folders;
figures from such a run are timings only):

1. Harness efficiency, ResNet50 Offline: ``backend.run`` on pre-gathered batches in a plain loop (the
   ceiling for one caller) against podium's ``BackendSUT`` (all samples issued at once, ``--batch``,
   worker threads ``--workers``), timed to the last completion. Passes are interleaved and the best of
   ``--repeats`` is kept, since other work on a shared machine slows single passes at random. The ratio
   podium / raw is the share of the backend's throughput the harness keeps (target >= 0.98).
2. Full LoadGen runs through ``podium.suite.run_benchmark`` (what ``podium run`` does): short Offline and
   SingleStream runs (``--duration`` s each, not valid MLPerf durations) reporting samples/s and the
   p50/p90 sample latency. RetinaNet runs batch 1, as the official model takes one image per call.

    python benchmarks/vision_perf.py [--benchmarks resnet,retinanet] [--duration 10] [--threads 0]
                                     [--samples 256] [--batch 32] [--workers 1,2] [--json FILE]
A run with the defaults takes about 5-8 minutes on a 2-core machine, most of it RetinaNet (seconds per image).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from typing import Any

import numpy as np

from _completions import Completions  # noqa: E402  (benchmarks/, the script's folder)

from podium.backends import get_backend
from podium.benchmarks import register
from podium.benchmarks.resnet import ResNetBenchmark
from podium.benchmarks.retinanet import RetinaNetBenchmark
from podium.benchmarks.vision.benchmark import VisionBenchmark
from podium.harness import BackendSUT

BENCHMARKS: dict[str, type[VisionBenchmark]] = {"resnet": ResNetBenchmark, "retinanet": RetinaNetBenchmark}


def harness_efficiency(threads: int, samples: int, batch: int, workers: list[int], repeats: int,
                       data_dir: str | None) -> dict[str, Any]:
    """ResNet50 Offline: raw backend loop against BackendSUT; best-of-``repeats`` samples/s of each."""
    bench = ResNetBenchmark().synthetic_variant()
    backend = get_backend("onnxruntime", intra_op_threads=threads).load(bench.resolve_model_path())
    qsl = bench.create_qsl(data_dir)
    loaded = np.arange(min(qsl.performance_sample_count, samples), dtype=np.int64)
    qsl.load_samples(loaded)
    indices = np.resize(loaded, samples)
    ids = np.arange(1, samples + 1, dtype=np.int64)
    batches = [qsl.get_batch(indices[s:s + batch]) for s in range(0, samples, batch)]

    def raw() -> float:
        t = time.perf_counter()
        for x in batches:
            backend.run(x)
        return time.perf_counter() - t

    def through(sut: BackendSUT) -> float:
        sink = Completions(samples)
        sut.bind(sink.complete, sink.complete_ids)
        t = time.perf_counter()
        sut.issue_arrays(ids, indices)
        if not sink.done.wait(3600):
            raise RuntimeError("completions missing")
        return time.perf_counter() - t

    suts = {w: BackendSUT(backend, qsl, bench.postprocess, scenario_hint="Offline", max_batch_size=batch,
                          workers=w) for w in workers}
    passes = {"raw": raw, **{f"podium w={w}": (lambda s=s: through(s)) for w, s in suts.items()}}
    best = {name: float("inf") for name in passes}
    for fn in passes.values():
        fn()  # warm-up: first runs allocate ONNX Runtime's buffers
    for _ in range(repeats):
        for name, fn in passes.items():
            best[name] = min(best[name], fn())
    for sut in suts.values():
        assert sut.errors == 0, sut.last_error
        sut.close()
    rates = {name: samples / t for name, t in best.items()}
    return {"samples": samples, "batch": batch, "threads": threads, "repeats": repeats, "samples_per_s": rates,
            "podium_over_raw": {k: rates[k] / rates["raw"] for k in rates if k != "raw"},
            "data": data_dir or "synthetic"}


def loadgen_run(name: str, scenario: str, duration: float, threads: int, data_dir: str | None) -> dict[str, Any]:
    """One short performance run through ``run_benchmark``; the figures ``podium run`` shows."""
    from podium.suite import RunRequest, run_benchmark

    register(BENCHMARKS[name]().synthetic_variant())  # what `podium run --synthetic` runs
    try:
        with tempfile.TemporaryDirectory() as out:
            req = RunRequest(benchmark=name, scenario=scenario, modes=("performance",), output=out,
                             backend_options={"intra_op_threads": threads} if threads else {},
                             duration_s=duration, data_dir=data_dir,
                             batch_size=1 if name == "retinanet" else None)
            t = time.perf_counter()
            outcome = run_benchmark(req)
            wall = time.perf_counter() - t
    finally:
        register(BENCHMARKS[name]())  # put the regular benchmark back
    perf = outcome.performance.performance
    pct = {f"p{int(p * 100)}_ms": perf.sample_percentiles[p] / 1e6 for p in (0.5, 0.9, 0.99)
           if p in perf.sample_percentiles}
    calib = outcome.calibration
    return {"benchmark": name, "scenario": scenario, "samples": perf.sample_count, "queries": perf.query_count,
            # Offline: samples / time to the last completion; SingleStream: queries / time to the last issue
            "duration_s": perf.duration_s, "samples_per_s": (perf.samples_per_second if scenario == "Offline"
                                                             else perf.qps_with_loadgen_overhead), **pct,
            "valid": perf.valid, "wall_s": wall, "data": data_dir or "synthetic",
            "calibration": {"samples_per_s": calib.samples_per_second,
                            "batch1_latency_ms": calib.batch1_latency_s * 1e3, "batch": calib.batch_size}
            if calib else None,
            "labels": outcome.labels}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmarks", default="resnet,retinanet")
    ap.add_argument("--scenarios", default="Offline,SingleStream")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per LoadGen run (default 10)")
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)")
    ap.add_argument("--samples", type=int, default=256, help="samples per harness-efficiency pass")
    ap.add_argument("--batch", type=int, default=32, help="batch size of the harness-efficiency passes")
    ap.add_argument("--workers", default="1,2", help="worker counts of the harness-efficiency passes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-efficiency", action="store_true")
    ap.add_argument("--resnet-data", help="ImageNet validation folder (default: synthetic images)")
    ap.add_argument("--retinanet-data", help="OpenImages-MLPerf folder (default: synthetic images)")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args(argv)
    names = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    data = {"resnet": args.resnet_data, "retinanet": args.retinanet_data}
    report: dict[str, Any] = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                                          "python": platform.python_version()},
                              "note": "random-weight models: timings only; short runs: not valid MLPerf durations"}
    report["machine"]["cpus"] = os.cpu_count()
    print(f"vision_perf on {report['machine']['cpus']} CPUs; random-weight models, timings only")
    if "resnet" in names and not args.skip_efficiency:
        eff = harness_efficiency(args.threads, args.samples, args.batch,
                                 [int(w) for w in args.workers.split(",")], args.repeats, data["resnet"])
        report["harness_efficiency"] = eff
        print(f"\nResNet50 Offline harness efficiency: {eff['samples']} samples, batch {eff['batch']}, "
              f"best of {eff['repeats']}")
        for k, v in eff["samples_per_s"].items():
            ratio = f"  podium/raw = {eff['podium_over_raw'][k]:.3f}" if k in eff["podium_over_raw"] else ""
            print(f"  {k:<12} {v:8.1f} samples/s{ratio}")
    runs = []
    print(f"\nLoadGen runs ({args.duration:g} s each):")
    print(f"  {'benchmark':<10} {'scenario':<13} {'samples/s':>10} {'p50 ms':>9} {'p90 ms':>9} {'samples':>8}")
    for name in names:
        for scenario in (s.strip() for s in args.scenarios.split(",") if s.strip()):
            r = loadgen_run(name, scenario, args.duration, args.threads, data[name])
            runs.append(r)
            print(f"  {name:<10} {scenario:<13} {r['samples_per_s']:10.2f} {r.get('p50_ms', 0):9.1f} "
                  f"{r.get('p90_ms', 0):9.1f} {r['samples']:8d}")
    report["loadgen_runs"] = runs
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
