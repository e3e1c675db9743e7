"""The words ``podium fetch`` says: its errors, the instructions for gated assets, sizes for people."""

from __future__ import annotations

from pathlib import Path

from podium.errors import PodiumError


class FetchError(PodiumError):
    """A download or verification failed; the one-line message names the asset, the URL or the file."""


class ChecksumMismatch(FetchError):
    """The downloaded bytes are not the ones the catalogue names (the file is kept as ``.bad``)."""


class ManualAssetsNeeded(FetchError):
    """Gated or manual-only assets are not in place; the message says what to do and where to put them."""


def human_size(n: int | None) -> str:
    """``1536`` -> ``1.5 KiB``; None -> ``?``."""
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def manual_message(benchmark: str, name: str, where: str, steps: str, place: Path, expect: Path,
                   licence: str) -> str:
    """The instructions for one gated or manual-only asset (several lines, printed as they are)."""
    lines = [
        f"{benchmark}: {name} cannot be downloaded by podium (gated or manual-only).",
        f"  get it from: {where}",
        f"  what to do:  {steps}",
        f"  put it at:   {place}",
        f"  podium looks for {expect}; then run 'podium fetch {benchmark}' again to record it",
    ]
    if licence:
        lines.insert(2, f"  terms:       {licence}")
    return "\n".join(lines)


def mismatch_message(asset: str, algorithm: str, expected: str, got: str, kept: Path | None) -> str:
    """The one line for a checksum that does not match."""
    where = f"; the file is kept as {kept}" if kept is not None else "; the file was removed"
    return f"asset {asset}: {algorithm} mismatch: expected {expected}, got {got}{where}"
