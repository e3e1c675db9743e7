#!/usr/bin/env python3
"""Build the random-weight models of dlrm-99 and 3d-unet-99 for performance-only runs, or convert the
official DLRM PyTorch checkpoint to ONNX.

    python scripts/build_random_reco_models.py dlrm [--row-cap 100000] [--seed 0] [--out DIR]
    python scripts/build_random_reco_models.py 3d-unet [--seed 0] [--out DIR]
    python scripts/build_random_reco_models.py dlrm --checkpoint tb00_40M.pt --out DIR   # needs torch

DIR defaults to the model cache (``$PODIUM_CACHE_DIR/models`` or ``~/.cache/podium/models``), where
``podium run --synthetic`` looks. Random-weight models say so in the JSON file beside them; their outputs
mean nothing. ``--row-cap 0`` builds uncapped DLRM tables (~96 GB: only for machines that hold them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from podium.errors import PodiumError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=["dlrm", "3d-unet"])
    ap.add_argument("--out", help="folder for the model (default: the model cache)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--row-cap", type=int, default=100_000, help="DLRM: rows per embedding table (0: uncapped)")
    ap.add_argument("--checkpoint", help="DLRM: convert this reference .pt checkpoint instead (needs torch)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.model == "dlrm":
            from podium.benchmarks.dlrm import model

            if args.checkpoint:
                out = Path(args.out) if args.out else model.model_cache_dir()
                path = model.convert_checkpoint(args.checkpoint, out / f"{Path(args.checkpoint).stem}.onnx")
            else:
                path = model.build_random_model(args.out, row_cap=args.row_cap or None, seed=args.seed)
        else:
            from podium.benchmarks.unet3d import model as unet_model

            path = unet_model.build_random_model(args.out, seed=args.seed)
    except PodiumError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    meta = path.with_suffix(".json")
    if meta.is_file():
        info = json.loads(meta.read_text())
        print(f"random weights: {info.get('random_weights')}; " + "; ".join(
            f"{k}={info[k]}" for k in ("row_cap", "seed", "table_bytes", "filters") if k in info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
