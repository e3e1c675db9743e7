"""Accuracy-log truncation with the ``hash=`` line, by the rules of the official v2.1
``tools/submission/truncate_accuracy_log.py``.

For one ``accuracy/`` folder (``mlperf_log_accuracy.json`` beside ``accuracy.txt``):

* If ``accuracy.txt`` already has a line ``hash=<hex>`` (``^hash=([\\w\\d]+)$``) and the log is smaller than
  10 KiB (10240 bytes), the folder is left alone (already done).
* Otherwise the sha256 of the WHOLE, untruncated log file (its bytes) is appended to ``accuracy.txt`` as
  ``hash=<64 hex digits>\\n``, and the log is rewritten as its first 4096 characters, then ``\\n\\n...\\n\\n``,
  then its last 4096 characters. The checker then finds the hash and a log of at most 10 KiB.
* ``accuracy.txt`` must exist in ``results/`` folders. In a compliance ``TEST01/accuracy`` folder it may be
  missing; it is then created holding only the hash line (as the official tool does by appending).

Differences from the official tool, each where it would crash or produce a file the checker rejects:
a log shorter than 4096 bytes is kept whole (the official seeks before the file start and fails), and a
newline is written before the hash line when ``accuracy.txt`` does not end with one (the official glues the
hash onto the last line, where the checker cannot find it). The tree walk also covers the ``network``
division, which the checker checks but the v2.1 tool skips.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from podium.compliance.audit import TEST01, ComplianceError

#: The checker rejects accuracy logs larger than this (bytes).
MAX_ACCURACY_LOG_SIZE = 10 * 1024
#: Characters kept from the start and from the end of a truncated log.
VIEWABLE_SIZE = 4096
#: What replaces the middle of a truncated log.
TRUNCATION_MARKER = "\n\n...\n\n"

ACCURACY_LOG = "mlperf_log_accuracy.json"
ACCURACY_TXT = "accuracy.txt"
_HASH_LINE = re.compile(r"^hash=([\w\d]+)$")


@dataclass
class TruncateOutcome:
    """What happened to one accuracy folder: ``truncated``, ``skipped`` (already hashed and small) or
    ``error`` (with ``message``)."""

    accuracy_log: Path
    accuracy_txt: Path
    action: str
    hash: str | None = None
    original_size: int | None = None
    size: int | None = None
    backup: Path | None = None
    message: str = ""


def accuracy_log_hash(path: str | os.PathLike[str]) -> str:
    """sha256 (hex) of the file's bytes: the value truncate_accuracy_log writes as ``hash=``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_hash(accuracy_txt: str | os.PathLike[str]) -> str | None:
    """The first ``hash=`` value in ``accuracy.txt`` (None when the file or the line is missing)."""
    p = Path(accuracy_txt)
    if not p.is_file():
        return None
    with open(p, encoding="utf-8") as fh:
        for line in fh:
            m = _HASH_LINE.match(line)
            if m:
                return m.group(1)
    return None


def truncated_content(data: bytes) -> bytes:
    """The truncated form of a log's bytes: first 4096 + marker + last 4096 (a log under 4096 is kept whole)."""
    if len(data) < VIEWABLE_SIZE:
        return data
    return data[:VIEWABLE_SIZE] + TRUNCATION_MARKER.encode() + data[len(data) - VIEWABLE_SIZE:]


def truncate_accuracy_log(accuracy: str | os.PathLike[str], accuracy_txt: str | os.PathLike[str] | None = None,
                          *, backup: str | os.PathLike[str] | None = None,
                          compliance: bool = False) -> TruncateOutcome:
    """Hash and truncate one accuracy log in place (see the module docstring).

    ``accuracy`` is the ``accuracy/`` folder or the log file itself; ``accuracy_txt`` defaults to
    ``accuracy.txt`` beside the log. ``backup``, when given, is where the untruncated log is copied first
    (a file path; it must not exist yet). ``compliance=True`` (a TEST01 folder) allows ``accuracy.txt`` to be
    missing. Raises ``ComplianceError`` when the log is missing, ``accuracy.txt`` is missing outside a
    compliance folder, or the backup already exists.
    """
    a = Path(accuracy)
    log_path = a / ACCURACY_LOG if a.is_dir() else a
    txt_path = Path(accuracy_txt) if accuracy_txt is not None else log_path.parent / ACCURACY_TXT
    if not log_path.is_file():
        raise ComplianceError(f"{log_path}: accuracy log missing")
    if not txt_path.is_file() and not compliance:
        raise ComplianceError(f"{txt_path}: missing; run the accuracy script on {log_path} first")
    size = log_path.stat().st_size
    existing = find_hash(txt_path)
    if existing and size < MAX_ACCURACY_LOG_SIZE:
        return TruncateOutcome(log_path, txt_path, "skipped", existing, size, size,
                               message="already has hash and size seems truncated")
    backup_path = None
    if backup is not None:
        backup_path = Path(backup)
        if backup_path.exists():
            raise ComplianceError(f"{backup_path}: backup already exists; not truncating {log_path}")
        backup_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, backup_path)
    data = log_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    prefix = ""
    if txt_path.is_file():
        old = txt_path.read_bytes()
        if old and not old.endswith(b"\n"):
            prefix = "\n"
    with open(txt_path, "a", encoding="utf-8") as fh:
        fh.write(f"{prefix}hash={digest}\n")
    new = truncated_content(data)
    log_path.write_bytes(new)
    return TruncateOutcome(log_path, txt_path, "truncated", digest, len(data), len(new), backup_path)


def _dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def truncate_submission(root: str | os.PathLike[str], submitter: str | None = None,
                        backup: str | os.PathLike[str] | None = None) -> list[TruncateOutcome]:
    """Walk a submission tree like the official tool and truncate every accuracy log in place.

    Visits ``<division>/<submitter>/results/<system>/<benchmark>/<scenario>/accuracy`` and
    ``<division>/<submitter>/compliance/<system>/<benchmark>/<scenario>/TEST01/accuracy`` for the divisions
    closed, open and network (only ``submitter`` when given). ``backup`` is a folder that receives each
    untruncated log at ``<backup>/<path of its folder>/accuracy/mlperf_log_accuracy.json``. Problems are
    reported as ``error`` outcomes, not raised, so one bad folder does not stop the walk.
    """
    base = Path(root)
    out: list[TruncateOutcome] = []
    for division in _dirs(base):
        if division.name not in ("closed", "open", "network"):
            continue
        for sub in _dirs(division):
            if submitter and sub.name != submitter:
                continue
            for kind in ("results", "compliance"):
                for system in _dirs(sub / kind):
                    for bench in _dirs(system):
                        for scen in _dirs(bench):
                            folder = scen / TEST01 if kind == "compliance" else scen
                            if kind == "compliance" and not folder.is_dir():
                                continue
                            acc = folder / "accuracy"
                            rel = folder.relative_to(base)
                            dst = (Path(backup) / rel / "accuracy" / ACCURACY_LOG) if backup is not None else None
                            todo = [(acc, dst, kind == "compliance")]
                            if kind == "results" and (scen / TEST01 / "accuracy").is_dir():
                                # the current rounds keep TEST01 inside the scenario folder
                                t_dst = (Path(backup) / rel / TEST01 / "accuracy" / ACCURACY_LOG
                                         if backup is not None else None)
                                todo.append((scen / TEST01 / "accuracy", t_dst, True))
                            for folder_acc, backup_to, is_test in todo:
                                try:
                                    out.append(truncate_accuracy_log(folder_acc, backup=backup_to,
                                                                     compliance=is_test))
                                except ComplianceError as exc:
                                    out.append(TruncateOutcome(folder_acc / ACCURACY_LOG,
                                                               folder_acc / ACCURACY_TXT, "error", message=str(exc)))
    return out
