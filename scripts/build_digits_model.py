#!/usr/bin/env python3
"""Rebuild the digits CNN shipped with podium (needs PyTorch: pip install 'podium[torch]').

    python scripts/build_digits_model.py [OUT_DIR]

OUT_DIR defaults to src/podium/benchmarks/digits/ (the shipped copy). Prints the accuracy and the sha256, so
a rebuild can be compared with the shipped ``digits_cnn.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from podium.benchmarks.digits.build import META_FILE, build_model
from podium.errors import PodiumError

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "podium" / "benchmarks" / "digits"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(DEFAULT_OUT), help="folder to write the model into")
    args = parser.parse_args(argv)
    try:
        path = build_model(args.out_dir)
    except PodiumError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    meta = json.loads((path.parent / META_FILE).read_text())
    print(f"{path}: {path.stat().st_size} bytes, sha256 {meta['onnx_sha256']}")
    print(f"test accuracy {100 * meta['reference_accuracy']:.3f}% "
          f"({meta['reference_good']}/{meta['reference_total']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
