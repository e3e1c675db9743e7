#!/usr/bin/env python3
"""Build the performance-only models of the language and speech benchmarks, or convert the RNN-T checkpoint.

    python scripts/build_random_nlp_models.py                 # random BERT-Large (1.34 GB) and RNN-T (181 MB)
    python scripts/build_random_nlp_models.py --only rnnt --out models/
    python scripts/build_random_nlp_models.py --rnnt-checkpoint rnnt.pt   # official weights → ONNX (needs torch)

Files go into ``--out`` or the model cache (``$PODIUM_CACHE_DIR/models``, default ``~/.cache/podium/models``),
where ``podium run --synthetic`` looks for them; an existing file is reused unless ``--force``. Random weights
give meaningless answers: use them for timing only (every podium output says so).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description="Build random-weight BERT-Large / RNN-T ONNX models for podium.")
    ap.add_argument("--only", choices=["bert", "rnnt"], help="build one model only")
    ap.add_argument("--out", help="output folder (default: the podium model cache)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    ap.add_argument("--rnnt-checkpoint", help="convert this official RNN-T PyTorch checkpoint instead of random")
    args = ap.parse_args()

    if args.only in (None, "rnnt"):
        t = time.perf_counter()
        if args.rnnt_checkpoint:
            from podium.benchmarks.rnnt.checkpoint import convert_checkpoint

            path = convert_checkpoint(args.rnnt_checkpoint, args.out)
        else:
            from podium.benchmarks.rnnt.model import MLPERF_RNNT, build_random_model

            path = build_random_model(MLPERF_RNNT, args.seed, args.out, force=args.force)
        size = sum(f.stat().st_size for f in path.parent.glob(path.stem + "-*.onnx"))
        print(f"rnnt: {path} ({size / 1e6:.0f} MB of ONNX, {time.perf_counter() - t:.1f} s)")
    if args.only in (None, "bert"):
        from podium.benchmarks.bert.model import BERT_LARGE
        from podium.benchmarks.bert.model import build_random_model as build_bert

        t = time.perf_counter()
        path = build_bert(BERT_LARGE, args.seed, args.out, force=args.force)
        print(f"bert: {path} ({Path(path).stat().st_size / 1e6:.0f} MB, {time.perf_counter() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
