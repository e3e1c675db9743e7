#!/usr/bin/env python3
"""Short performance figures for BERT-Large and RNN-T with random weights and synthetic inputs.

Builds (once, into ``$PODIUM_CACHE_DIR/models`` or ``~/.cache/podium/models``) the random-weight BERT-Large
(1.34 GB, ~15 s) and RNN-T (181 MB, ~5 s), then measures, through podium's LoadGen and harness:

  BERT   backend latency at batch 1 for 128/256/384 real tokens (what length batching saves), then a short
         Offline run of ``--bert-samples`` synthetic 384-token samples;
  RNN-T  one utterance split into features / encoder / greedy decoding, then a short Offline run of
         ``--rnnt-samples`` synthetic utterances (batch ``--rnnt-batch``) and a SingleStream run.

Every figure is labelled: random weights (RNN-T's random decoder emits its 30-symbol cap on every frame, so
its decoding figures are pessimistic), synthetic inputs, short runs (not valid MLPerf durations).

    python benchmarks/nlp_speech_perf.py [--bert-samples 4] [--rnnt-samples 16] [--threads 2]
                                         [--skip-bert] [--skip-rnnt] [--json out.json]
With the defaults it takes ~2-4 minutes on a 2-core machine (BERT-Large takes ~4 s per 384-token sample).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from podium.harness import BackendSUT
from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test

LABEL = "random weights, synthetic inputs, short run: not an MLPerf result"


def _short_run(runner: Any, qsl: Any, postprocess: Any, scenario: Scenario, samples: int, batch: int,
               outdir: Path) -> dict[str, Any]:
    """One short performance run of ``samples`` samples (Offline) or queries (SingleStream)."""
    settings = TestSettings(scenario=scenario, mode=TestMode.PerformanceOnly, min_duration_ms=0,
                            min_query_count=samples, performance_sample_count_override=samples,
                            offline_expected_qps=0.01, single_stream_expected_latency_ns=1e10)
    with BackendSUT(runner, qsl, postprocess, scenario_hint=scenario.value, max_batch_size=batch,
                    workers=1 if scenario is Scenario.Offline else None) as sut:
        t0 = time.perf_counter()
        res = start_test(sut, qsl, settings, LogSettings(outdir=str(outdir)), audit_config=None)
        wall = time.perf_counter() - t0
    perf = res.performance
    out: dict[str, Any] = {"scenario": scenario.value, "samples": perf.sample_count, "wall_s": round(wall, 2),
                           "batch": batch}
    if scenario is Scenario.Offline:
        out["samples_per_second"] = round(perf.samples_per_second, 4)
    else:
        out["p50_ms"] = round(perf.sample_percentiles.get(0.5, 0) / 1e6, 1)
        out["p90_ms"] = round(perf.sample_percentiles.get(0.9, 0) / 1e6, 1)
    return out


def bert_figures(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from podium.backends import get_backend
    from podium.benchmarks.bert import BertBenchmark
    from podium.benchmarks.bert.data import synthetic_inputs
    from podium.benchmarks.bert.model import build_random_model
    from podium.benchmarks.bert.runner import SequenceLengthRunner

    t0 = time.perf_counter()
    path = build_random_model()
    figures: dict[str, Any] = {"model": str(path), "model_mb": round(path.stat().st_size / 1e6),
                               "build_or_load_s": round(time.perf_counter() - t0, 1)}
    backend = get_backend("onnxruntime", intra_op_threads=args.threads).load(path)
    runner = SequenceLengthRunner(backend)
    one = synthetic_inputs(np.array([0]))
    latency = {}
    for n in (128, 256, 384):
        feed = {k: v[:, :n] for k, v in one.items()}
        backend.run(feed)  # warm-up
        t = time.perf_counter()
        backend.run(feed)
        latency[n] = round((time.perf_counter() - t) * 1e3)
    figures["batch1_latency_ms_by_tokens"] = latency
    bench = BertBenchmark(synthetic=True)
    qsl = bench.create_qsl(None)
    figures["offline"] = _short_run(runner, qsl, bench.postprocess, Scenario.Offline, args.bert_samples,
                                    args.bert_batch, workdir / "bert-offline")
    return figures


def rnnt_figures(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from podium.benchmarks.rnnt import RNNTBenchmark, synthetic_waveform
    from podium.benchmarks.rnnt.decoder import GreedyRunner
    from podium.benchmarks.rnnt.model import build_random_model

    t0 = time.perf_counter()
    path = build_random_model()
    size = sum(f.stat().st_size for f in path.parent.glob(path.stem + "-*.onnx"))
    figures: dict[str, Any] = {"model": str(path), "model_mb": round(size / 1e6),
                               "build_or_load_s": round(time.perf_counter() - t0, 1)}
    runner = GreedyRunner.from_descriptor(path, "onnxruntime", {"intra_op_threads": args.threads})
    wave = synthetic_waveform(0)
    lengths = np.array([wave.size])
    runner.run({"waveform": wave[None], "length": lengths})  # warm-up
    t = time.perf_counter()
    feats, flen = runner.features(wave[None], lengths)
    t_feat = time.perf_counter()
    enc, elen = runner.encode(feats, flen)
    t_enc = time.perf_counter()
    hyp = runner.decode(enc, elen)
    t_dec = time.perf_counter()
    figures["one_utterance"] = {"seconds_of_audio": round(wave.size / 16000, 2), "encoder_frames": int(elen[0]),
                                "symbols": len(hyp[0]), "features_ms": round((t_feat - t) * 1e3, 1),
                                "encoder_ms": round((t_enc - t_feat) * 1e3), "decode_ms": round((t_dec - t_enc) * 1e3)}
    bench = RNNTBenchmark(synthetic=True)
    qsl = bench.create_qsl(None)
    figures["offline"] = _short_run(runner, qsl, bench.postprocess, Scenario.Offline, args.rnnt_samples,
                                    args.rnnt_batch, workdir / "rnnt-offline")
    figures["single_stream"] = _short_run(runner, qsl, bench.postprocess, Scenario.SingleStream,
                                          max(args.rnnt_samples // 2, 1), 1, workdir / "rnnt-ss")
    figures["decoder"] = runner.stats()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bert-samples", type=int, default=4)
    ap.add_argument("--bert-batch", type=int, default=2)
    ap.add_argument("--rnnt-samples", type=int, default=16)
    ap.add_argument("--rnnt-batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (encoder / BERT)")
    ap.add_argument("--skip-bert", action="store_true")
    ap.add_argument("--skip-rnnt", action="store_true")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    results: dict[str, Any] = {"label": LABEL}
    with tempfile.TemporaryDirectory(prefix="podium-nlp-perf-") as tmp:
        if not args.skip_rnnt:
            results["rnnt"] = rnnt_figures(args, Path(tmp))
            print("RNN-T:", json.dumps(results["rnnt"], indent=2))
        if not args.skip_bert:
            results["bert"] = bert_figures(args, Path(tmp))
            print("BERT-Large:", json.dumps(results["bert"], indent=2))
    print(f"({LABEL}; RNN-T's random decoder hits its symbol cap, so its decoding figures are pessimistic)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
