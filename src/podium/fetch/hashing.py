"""Checksums of files on disk, in the algorithms the MLPerf reference publishes (md5) and podium records (sha256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from podium.errors import PodiumError

CHUNK = 1 << 20


def file_digests(path: str | Path, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """``{algorithm: hex digest}`` of ``path``, all in one pass over the file."""
    try:
        hashers = {a: hashlib.new(a) for a in algorithms}
    except ValueError as exc:
        raise PodiumError(f"checksum algorithm: {exc}") from exc
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                for h in hashers.values():
                    h.update(chunk)
    except OSError as exc:
        raise PodiumError(f"{path}: cannot read it to check its checksum ({exc.strerror or exc})") from exc
    return {a: h.hexdigest() for a, h in hashers.items()}
