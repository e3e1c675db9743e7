#!/usr/bin/env python3
"""How much throughput does BackendSUT keep compared with calling the backend in a plain loop?

For the digits model (and a ResNet50 ONNX file with ``--resnet50 PATH``) this measures, in one process,
Offline-style: all N samples issued at once, batches of ``--batch``:

  raw run     backend.run on pre-gathered batches in a for loop (the ceiling for one thread)
  raw loop    the same plus gathering inputs from the QSL cache and post-processing to bytes, one thread
  podium      BackendSUT: issue_arrays(all N) → worker threads → complete_ids; timed until the last completion

and prints samples/s and the ratio podium / raw run. A per-batch breakdown (gather, run, post-process, the
rest) shows where the time goes: for digits a batch of 32 runs in tens of microseconds, so the fixed cost of
a hand-off between threads and a completion call is a visible share; for ResNet50 it disappears.

    python benchmarks/harness_efficiency.py [--samples 20000] [--batch 1,32,128] [--workers 1,2]
                                            [--threads 1] [--resnet50 PATH]
Runs in well under a minute with the defaults on a 2-core machine.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _completions import Completions  # noqa: E402  (benchmarks/, the script's folder)

from podium.backends import Backend, get_backend
from podium.benchmarks import ArrayQSL, get_benchmark
from podium.harness import BackendSUT


def measure(label: str, backend: Backend, qsl: ArrayQSL, postprocess: Callable[[list[np.ndarray]], list[bytes]],
            n: int, batch: int, workers_list: list[int], repeats: int) -> None:
    indices = np.arange(n, dtype=np.int64) % qsl.total_sample_count
    ids = np.arange(1, n + 1, dtype=np.int64)
    chunks = [indices[s:s + batch] for s in range(0, n, batch)]
    gathered = [qsl.get_batch(c) for c in chunks]
    parts: dict[str, list[float]] = {"gather": [], "run": [], "post": []}

    def raw_run() -> float:
        t = time.perf_counter()
        for x in gathered:
            backend.run(x)
        return time.perf_counter() - t

    def raw_loop() -> float:
        g = r = p = 0.0
        t0 = time.perf_counter()
        for c in chunks:
            t1 = time.perf_counter()
            x = qsl.get_batch(c)
            t2 = time.perf_counter()
            out = backend.run(x)
            t3 = time.perf_counter()
            postprocess(out)
            t4 = time.perf_counter()
            g, r, p = g + t2 - t1, r + t3 - t2, p + t4 - t3
        total = time.perf_counter() - t0
        parts["gather"].append(g)
        parts["run"].append(r)
        parts["post"].append(p)
        return total

    def podium_pass(sut: BackendSUT) -> Callable[[], float]:
        def run() -> float:
            counter = Completions(n)
            sut.bind(counter.complete, counter.complete_ids)
            t = time.perf_counter()
            sut.issue_arrays(ids, indices)
            if not counter.done.wait(600):
                raise RuntimeError("completions missing")
            return time.perf_counter() - t
        return run

    suts = {w: BackendSUT(backend, qsl, postprocess, scenario_hint="Offline", max_batch_size=batch, workers=w)
            for w in workers_list}
    passes: dict[str, Callable[[], float]] = {"raw run": raw_run, "raw loop": raw_loop}
    passes.update({f"podium w={w}": podium_pass(sut) for w, sut in suts.items()})
    # Interleave the variants and keep each one's best pass: other work on a shared machine slows
    # single passes at random, and interleaving spreads that over all variants alike.
    times: dict[str, list[float]] = {k: [] for k in passes}
    for fn in passes.values():
        fn()  # warm-up: the first runs allocate ONNX Runtime buffers
    for _ in range(repeats):
        for name, fn in passes.items():
            times[name].append(fn())
    for sut in suts.values():
        assert sut.errors == 0, sut.last_error
        sut.close()

    nb = len(chunks)
    best = {k: min(v) for k, v in times.items()}
    us = {k: 1e6 * v / nb for k, v in best.items()}
    g, r, p = (1e6 * min(parts[k]) / nb for k in ("gather", "run", "post"))
    print(f"\n{label}: {n} samples, batch {batch} ({nb} batches), {backend.name} "
          f"{backend.config().get('intra_op_threads')} intra-op thread(s), best of {repeats}")
    print(f"  raw run      {n / best['raw run']:10,.0f} samples/s  {us['raw run']:9.1f} us/batch")
    print(f"  raw loop     {n / best['raw loop']:10,.0f} samples/s  {us['raw loop']:9.1f} us/batch"
          f"  (gather {g:.1f} + run {r:.1f} + post-process {p:.1f})")
    for w in workers_list:
        k = f"podium w={w}"
        extra = f"  hand-off + completion {us[k] - us['raw loop']:+.1f} us/batch" if w == 1 else ""
        print(f"  {k:<12} {n / best[k]:10,.0f} samples/s  {us[k]:9.1f} us/batch"
              f"  podium/raw = {best['raw run'] / best[k]:4.2f}{extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20000, help="samples per digits pass (batch 1 uses 1/5)")
    ap.add_argument("--batch", default="1,32,128", help="comma-separated batch sizes for digits")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    ap.add_argument("--repeats", type=int, default=5, help="timed passes per figure (best is shown)")
    ap.add_argument("--resnet50", metavar="PATH", help="also measure this ResNet50 ONNX file (random inputs)")
    ap.add_argument("--resnet-samples", type=int, default=32)
    ap.add_argument("--resnet-batch", type=int, default=8)
    args = ap.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    start = time.perf_counter()

    bench = get_benchmark("digits")
    qsl = bench.create_qsl()
    qsl.load_samples(list(range(qsl.total_sample_count)))
    backend = get_backend("onnxruntime", intra_op_threads=args.threads).load(bench.resolve_model_path())
    for batch in (int(b) for b in args.batch.split(",")):
        n = args.samples // 5 if batch == 1 else args.samples
        measure("digits CNN", backend, qsl, bench.postprocess, n, batch, workers, args.repeats)

    if args.resnet50:
        rn = get_backend("onnxruntime", intra_op_threads=args.threads).load(args.resnet50)
        spec = rn.inputs[0]
        count = max(args.resnet_batch, 16)
        rng = np.random.default_rng(0)
        rqsl = ArrayQSL("random-inputs", count, count,
                        lambda idx: rng.standard_normal((idx.size, *spec.concrete_shape(1)[1:]), dtype=np.float32))
        rqsl.load_samples(list(range(count)))

        def rn_post(outputs: list[np.ndarray]) -> list[bytes]:
            raw = outputs[0].reshape(len(outputs[0]), -1).argmax(axis=1).astype("<i4").tobytes()
            return [raw[i:i + 4] for i in range(0, len(raw), 4)]

        measure(f"ResNet50 ({args.resnet50})", rn, rqsl, rn_post, args.resnet_samples, args.resnet_batch,
                workers, 1)
    print(f"\n(total {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
