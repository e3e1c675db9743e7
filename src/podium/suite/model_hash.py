"""The SHA-256 of a model file for the result record, computed once per file version.

Hashing BERT-Large's 1.3 GB on every run cost seconds of each short run. The digest is cached by path, size
and modification time (a changed file gets hashed again) in podium's cache folder (``$PODIUM_CACHE_DIR``, else
``$XDG_CACHE_HOME/podium`` or ``~/.cache/podium``, where built models live too).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from podium.files import cache_root, sha256_file, write_json_atomic

CACHE_FILE = "model_sha256.json"


def _cache_path() -> Path:
    return cache_root() / CACHE_FILE


def _digest(path: Path) -> str:
    return sha256_file(path)


def model_sha256(path: str | os.PathLike[str]) -> str:
    """``path``'s SHA-256 (hex); from the cache when the file's size and mtime are unchanged."""
    p = Path(path).resolve()
    st = p.stat()
    key = str(p)
    stamp = [st.st_size, st.st_mtime_ns]
    cache = _cache_path()
    entries: dict[str, dict] = {}
    try:
        entries = json.loads(cache.read_text(encoding="utf-8"))
        hit = entries.get(key)
        if isinstance(hit, dict) and hit.get("stamp") == stamp and isinstance(hit.get("sha256"), str):
            return hit["sha256"]
    except (OSError, ValueError):
        entries = {}
    digest = _digest(p)
    if st.st_size >= 16 << 20:  # small files hash in milliseconds: not worth a cache entry
        entries[key] = {"stamp": stamp, "sha256": digest}
        try:
            write_json_atomic(cache, entries)
        except Exception:  # noqa: BLE001 - a cache that cannot be written only costs time
            pass
    return digest
