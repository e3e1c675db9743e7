#!/usr/bin/env python3
"""Open a podium HTML report in headless Chromium, save a screenshot, and check it shows something.

    python scripts/screenshot_report.py report.html --out report.png [--width 1280 --height 2000]

Needs a Chromium binary (Debian: ``apt-get install chromium``). The browser runs with networking features off,
so a report that tried to load anything from the network would show broken images; the check then looks at
the screenshot's pixels: it must not be blank and must hold the colours of the figures.
Exit status: 0 when the screenshot looks right, 1 when it does not, 2 when no Chromium is installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html: Path, out: Path, width: int = 1280, height: int = 2000, timeout: float = 120.0) -> Path:
    """Render ``html`` with headless Chromium into ``out`` (PNG)."""
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium binary (apt-get install chromium)")
    out = out.resolve()
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="podium-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
               f"--window-size={width},{height}", html.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return out


def inspect(png: Path) -> dict[str, float]:
    """Facts about a screenshot: size, share of non-white pixels, and of strongly coloured pixels (figures)."""
    import numpy as np
    from matplotlib import image

    img = np.asarray(image.imread(str(png)))[..., :3].astype(float)
    if img.max() > 1.0:
        img /= 255.0
    non_white = float(np.mean(img.min(axis=2) < 0.95))
    chroma = img.max(axis=2) - img.min(axis=2)
    coloured = float(np.mean(chroma > 0.3))
    return {"width": img.shape[1], "height": img.shape[0], "non_white": non_white, "coloured": coloured}


def looks_right(facts: dict[str, float]) -> list[str]:
    """Problems with a report screenshot (empty list: fine)."""
    problems = []
    if facts["non_white"] < 0.03:
        problems.append(f"almost blank: {facts['non_white']:.1%} of pixels are not white")
    if facts["coloured"] < 0.002:
        problems.append(f"no figures visible: {facts['coloured']:.2%} of pixels are coloured")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("--out", type=Path, default=Path("report.png"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2000)
    args = ap.parse_args(argv)
    if find_chromium() is None:
        print("no chromium installed (apt-get install chromium)", file=sys.stderr)
        return 2
    png = screenshot(args.html, args.out, args.width, args.height)
    facts = inspect(png)
    print(f"{png}: {facts['width']}x{facts['height']}, {facts['non_white']:.1%} non-white, "
          f"{facts['coloured']:.2%} coloured")
    problems = looks_right(facts)
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
