"""Where fetched assets live and the manifest that says which of them were verified.

Each benchmark family has a folder, ``podium.files.cache_root() / "assets" / <family>`` (``bert-99`` and
``bert-99.9`` share ``bert``) unless ``--dest`` names another; inside it ``model/``, ``data/``,
``calibration/`` and the manifest ``podium-fetch.json``, written atomically. An asset counts as fetched only
when the manifest says it was verified and its file is still there with the size and modification time the
manifest recorded, so a file truncated or replaced afterwards is fetched again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.errors import PodiumError
from podium.fetch.catalogue import KINDS, Asset, Catalogue, load_catalogue
from podium.files import cache_root, write_json_atomic

MANIFEST_FILE = "podium-fetch.json"
SCHEMA = 1


def benchmark_root(family: str, dest: str | Path | None = None) -> Path:
    """The folder that holds ``family``'s assets: ``dest`` when given, else the cache's."""
    return Path(dest).expanduser() if dest is not None else cache_root() / "assets" / family


def manifest_path(root: Path) -> Path:
    """The manifest file of a benchmark folder."""
    return root / MANIFEST_FILE


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of ``root`` (an empty one when there is none)."""
    p = manifest_path(root)
    if not p.is_file():
        return {"schema": SCHEMA, "assets": {}}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PodiumError(f"{p}: not a readable fetch manifest ({exc}); remove it to start again") from exc
    if not isinstance(data, dict) or not isinstance(data.get("assets"), dict):
        raise PodiumError(f"{p}: field 'assets' missing; remove the file to start again")
    return data


def record(root: Path, family: str, name: str, entry: dict[str, Any] | None) -> None:
    """Set (or, with None, drop) the manifest entry of asset ``name``; the file is rewritten atomically."""
    data = read_manifest(root)
    data["schema"] = SCHEMA
    data["benchmark"] = family
    if entry is None:
        data["assets"].pop(name, None)
    else:
        data["assets"][name] = entry
    write_json_atomic(manifest_path(root), data)


def stat_fields(path: Path) -> dict[str, int]:
    """The size and modification time recorded for a file, to notice a later change without hashing it."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_current(root: Path, asset: Asset, manifest: dict[str, Any]) -> bool:
    """True when the manifest says ``asset`` was verified and what it recorded is still on disk unchanged."""
    entry = manifest.get("assets", {}).get(asset.name)
    if not isinstance(entry, dict) or not entry.get("verified"):
        return False
    target = root / entry.get("result", asset.result)
    if not target.exists() or (asset.manual is not None and not (root / asset.manual.expect).exists()):
        return False
    if target.is_file() and "mtime_ns" in entry:
        return stat_fields(target) == {"size": entry.get("size"), "mtime_ns": entry.get("mtime_ns")}
    return True


def asset_path(benchmark: str, what: str, dest: str | Path | None = None,
               catalogue: Catalogue | None = None) -> Path | None:
    """Where the fetched, verified ``what`` (model, data or calibration) of ``benchmark`` lives, else None.

    The path is what ``--model-path`` (a file) or ``--data-dir`` (a folder) expects. None when the benchmark
    has no such asset or when any required asset of that kind is not fetched and verified (or placed).
    """
    if what not in KINDS:
        raise PodiumError(f"what {what!r}: expected one of {', '.join(KINDS)}")
    cat = catalogue or load_catalogue()
    fam = cat.get(benchmark)
    rel = fam.paths.get(what)
    needed = fam.of_kind(what)
    if not rel or not needed:
        return None
    root = benchmark_root(fam.key, dest)
    manifest = read_manifest(root)
    if not all(is_current(root, a, manifest) for a in needed):
        return None
    path = root / rel
    return path if path.exists() else None
