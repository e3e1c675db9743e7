"""Where built random-weight models live: a cache folder outside the package, filled atomically.

``$PODIUM_CACHE_DIR/models`` if set, else ``$XDG_CACHE_HOME/podium/models``, else ``~/.cache/podium/models``.
Each model sits beside a JSON file naming what built it; a file whose builder version, seed or size does not
match is rebuilt. Builds go to a temporary name first and are renamed into place, so two processes building
at once, or an interrupted build, never leave a half-written model where a run would load it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podium.errors import PodiumError
from podium.files import models_cache_dir


def cache_dir() -> Path:
    """The folder holding built models (``podium.files.models_cache_dir``; not created here)."""
    return models_cache_dir()


def _meta_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def read_meta(model_path: Path) -> dict[str, Any] | None:
    """The metadata written beside a cached model, or None when absent or unreadable."""
    try:
        return json.loads(_meta_path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def cached_model(file_name: str, identity: dict[str, Any], build: Callable[[], bytes],
                 folder: Path | None = None) -> Path:
    """Path of the cached model ``file_name`` built by ``build()`` (serialised ONNX bytes) for ``identity``.

    ``identity`` (builder version, seed, sizes…) must match the stored metadata, else the model is rebuilt.
    """
    out_dir = folder if folder is not None else cache_dir()
    path = out_dir / file_name
    meta = read_meta(path)
    if (meta is not None and meta.get("identity") == identity and path.is_file()
            and path.stat().st_size == meta.get("bytes")):
        return path
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PodiumError(f"{out_dir}: cannot create the model cache folder ({exc.strerror}); "
                          "set PODIUM_CACHE_DIR to a writable folder") from None
    data = build()
    info = {"identity": identity, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "note": "random weights, built by podium for performance-only runs; accuracy is meaningless"}
    _atomic_write(path, data)
    _atomic_write(_meta_path(path), (json.dumps(info, indent=2, sort_keys=True) + "\n").encode())
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model cache is ordinary readable files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
