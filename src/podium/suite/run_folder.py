"""One folder per run under a results root, never reused without ``--force``, and a ``latest`` pointer.

``podium run --output ROOT`` (default ``podium-results``) keeps every run: ``ROOT/<run_id>/`` where ``run_id`` is
``YYYYmmdd-HHMMSS-<benchmark>-<scenario>`` (``-2``, ``-3`` ... when taken), or ``ROOT/<name>`` for
``--run-name NAME``. ``ROOT/latest`` is a relative symlink to the newest run folder; where the file system has
no symlinks, ``ROOT/LATEST`` is a text file holding the folder's name.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from podium.errors import PodiumError

LATEST_LINK = "latest"
LATEST_FILE = "LATEST"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def run_id_for(benchmark: str, scenario: str, when: float | None = None) -> str:
    """The default run id: local start time, benchmark and scenario (sortable by time)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return f"{stamp}-{benchmark}-{scenario}"


def check_run_folder(root: str | os.PathLike[str], name: str | None = None, force: bool = False) -> None:
    """Refuse, before anything runs, a results root that is a file or a ``--run-name`` that is taken."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise PodiumError(f"--output {root}: exists and is not a folder (expected a results folder)")
    if name is None:
        return
    if not _NAME.match(name) or name in (LATEST_LINK, LATEST_FILE):
        raise PodiumError(f"--run-name {name!r}: expected letters, digits, '.', '_', '+' or '-' (not "
                          f"{LATEST_LINK!r})")
    folder = root / name
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise PodiumError(f"--run-name {name}: {folder} exists and is not a run folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise PodiumError(f"--run-name {name}: {folder} already holds a run; choose another name or add "
                          "--force to replace it")


def new_run_folder(root: str | os.PathLike[str], benchmark: str, scenario: str, name: str | None = None,
                   force: bool = False) -> Path:
    """Create and return a fresh, empty run folder under ``root``.

    With ``name``: ``root/name``, refused when it exists and is not empty unless ``force`` (which empties it).
    Without: ``root/<run_id>`` with a numeric suffix when that name is taken; nothing is ever overwritten.
    """
    root = Path(root)
    check_run_folder(root, name, force)
    if name is not None:
        folder = root / name
        if folder.is_dir() and any(folder.iterdir()):
            shutil.rmtree(folder)  # check_run_folder allowed it: --force
        return _mkdir(folder)
    base = run_id_for(benchmark, scenario)
    for k in range(1, 10_000):
        folder = root / (base if k == 1 else f"{base}-{k}")
        try:
            root.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as exc:
            raise PodiumError(f"--output {root}: cannot create a run folder ({exc.strerror})") from exc
    raise PodiumError(f"--output {root}: no free run folder name for {base}")


def _mkdir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PodiumError(f"{folder}: cannot create the run folder ({exc.strerror})") from exc
    return folder


def point_latest(root: str | os.PathLike[str], run_dir: Path) -> None:
    """Make ``root/latest`` point at ``run_dir`` (a relative symlink, else the ``LATEST`` text file)."""
    root = Path(root)
    link = root / LATEST_LINK
    target = os.path.relpath(run_dir, root)
    tmp = root / f".{LATEST_LINK}.{os.getpid()}"
    try:
        if link.exists() and not link.is_symlink():
            raise OSError("not a symlink")  # a user's own folder called latest: leave it alone
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)  # atomic: a reader sees the old run or the new one
    except OSError:
        tmp.unlink(missing_ok=True)
        try:
            (root / LATEST_FILE).write_text(target + "\n", encoding="utf-8")
        except OSError:
            pass  # a missing pointer costs nothing measured


def latest_run(root: str | os.PathLike[str]) -> Path | None:
    """The run folder ``root/latest`` (or ``root/LATEST``) points at, or None."""
    root = Path(root)
    link = root / LATEST_LINK
    if link.is_symlink() and link.resolve().is_dir():
        return link.resolve()
    f = root / LATEST_FILE
    if f.is_file():
        p = root / f.read_text(encoding="utf-8").strip()
        return p if p.is_dir() else None
    return None
