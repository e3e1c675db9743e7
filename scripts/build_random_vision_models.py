#!/usr/bin/env python3
"""Build the random-weight ResNet50-v1.5 and RetinaNet ResNeXt50-FPN models for performance-only runs.

    python scripts/build_random_vision_models.py [resnet|retinanet|all] [--seed 0] [--out DIR]

Without ``--out`` the models go to the model cache (``$PODIUM_CACHE_DIR/models`` or
``~/.cache/podium/models``), where ``podium run --benchmark resnet|retinanet --synthetic`` finds them; a
cached model of the same builder version and seed is reused. The graphs have the official files'
interface and architecture but RANDOM weights (the ONNX doc string and the JSON beside a cached model say
so): their outputs are meaningless and they are never shipped in the package. Prints size, parameter count
and build time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from podium.errors import PodiumError


def build(name: str, seed: int, out: Path | None) -> Path:
    """Build one model into ``out`` (or the cache) and return its path."""
    if name == "resnet":
        from podium.benchmarks.resnet import model
    else:
        from podium.benchmarks.retinanet import model  # type: ignore[no-redef]
    if out is None:
        return model.random_model_path(seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / model.random_model_file(seed).name
    proto = model.build_resnet50_v15(seed)[0] if name == "resnet" else model.build_retinanet(seed)[0]
    path.write_bytes(proto.SerializeToString())
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="all", choices=["resnet", "retinanet", "all"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="folder for the models (default: the model cache)")
    args = ap.parse_args(argv)
    names = ["resnet", "retinanet"] if args.model == "all" else [args.model]
    for name in names:
        t0 = time.perf_counter()
        try:
            path = build(name, args.seed, Path(args.out) if args.out else None)
        except PodiumError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s; "
              "random weights, performance only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
