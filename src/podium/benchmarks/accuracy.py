"""Reading ``mlperf_log_accuracy.json`` and the result type accuracy scorers return.

The log is a JSON list of ``{"seq_id", "qsl_idx", "data"}`` with ``data`` the response bytes in upper-case
hex. LoadGen may log a sample more than once, and the official accuracy scripts do not agree on what a
duplicate means, so each benchmark picks the rule of its own reference script (``keep``):

- ``"first"``: the first response per QSL index counts, later ones are skipped (accuracy-imagenet.py,
  accuracy-coco.py, accuracy-openimages.py, accuracy-dlrm.py: ``if idx in seen: continue``);
- ``"last"``: the last response per index counts (accuracy-squad.py fills a dict in log order, so a later
  response overwrites an earlier one);
- every response counts, duplicates included (the RNN-T accuracy_eval.py appends one hypothesis/transcript pair
  per log entry): read all entries with ``read_accuracy_entries``;
- ``"error"``: duplicates are refused (the 3D-UNet accuracy_kits.py asserts one result per log entry).

Whenever duplicates are seen an ``AccuracyDuplicatesWarning`` says how many and which rule applied.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from podium.errors import PodiumError

#: How ``select_responses`` treats a QSL index that has several responses (see the module docstring).
KeepRule = Literal["first", "last", "error"]

_RULE_TEXT = {
    "first": "the first response per qsl_idx counts and later ones are skipped",
    "last": "the last response per qsl_idx counts (a later response overwrites an earlier one)",
    "all": "every response counts, duplicates included",
}


class AccuracyLogError(PodiumError):
    """``mlperf_log_accuracy.json`` is missing, malformed, or holds responses a benchmark cannot read."""


@dataclass(frozen=True)
class AccuracyResult:
    """The outcome of scoring an accuracy log against a benchmark's target.

    ``value`` and ``target`` are in the metric's unit (percent for top-1 accuracy); ``line`` is the text the
    official script prints, which is also what ``accuracy.txt`` holds.
    """

    metric: str
    value: float
    target: float
    passed: bool
    line: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def accuracy_txt(self) -> str:
        """Content of ``accuracy.txt``: the official-style line."""
        return self.line + "\n"

    def verdict(self) -> str:
        """One line for people: value, target and PASS/FAIL."""
        state = "PASS" if self.passed else "FAIL"
        return f"{self.metric} {self.value:.3f} (target {self.target:.3f}): {state}"


class AccuracyDuplicatesWarning(UserWarning):
    """An accuracy log holds more than one response for some QSL index (the message says which rule applied)."""


def read_accuracy_entries(path: str | Path, total_sample_count: int | None = None) -> list[tuple[int, bytes]]:
    """Every ``(qsl_idx, response bytes)`` of an accuracy log, in log order, duplicates included.

    ``total_sample_count`` when given bounds the indices (a larger one means the log is from another data set).
    """
    p = _log_file(path)
    try:
        entries = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AccuracyLogError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(entries, list):
        raise AccuracyLogError(f"{p}: expected a JSON list of responses")
    out: list[tuple[int, bytes]] = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or "qsl_idx" not in entry or "data" not in entry:
            raise AccuracyLogError(f"{p}: entry {n} lacks the fields qsl_idx and data")
        idx = entry["qsl_idx"]
        if not isinstance(idx, int) or idx < 0 or (total_sample_count is not None and idx >= total_sample_count):
            limit = f"0..{total_sample_count - 1}" if total_sample_count else "a non-negative integer"
            raise AccuracyLogError(f"{p}: entry {n} has qsl_idx {idx!r}, expected {limit}")
        try:
            # every entry is decoded, duplicates too: the reference scripts that keep the last one decode all
            out.append((idx, bytes.fromhex(entry["data"])))
        except (TypeError, ValueError):
            raise AccuracyLogError(f"{p}: entry {n} (qsl_idx {idx}) has data that is not hex") from None
    if not out:
        raise AccuracyLogError(f"{p}: no responses (was the run in accuracy mode?)")
    return out


def duplicate_count(entries: list[tuple[int, bytes]]) -> int:
    """How many entries repeat a QSL index already seen earlier in the log."""
    return len(entries) - len({idx for idx, _ in entries})


def warn_duplicates(path: str | Path, entries: list[tuple[int, bytes]], rule: str, reference: str) -> int:
    """Warn (``AccuracyDuplicatesWarning``) when ``entries`` repeat QSL indices; returns the duplicate count.

    ``rule`` is ``"first"``, ``"last"`` or ``"all"``; ``reference`` names the official script whose rule it is.
    """
    dups = duplicate_count(entries)
    if dups:
        repeated = sum(1 for c in Counter(idx for idx, _ in entries).values() if c > 1)
        warnings.warn(AccuracyDuplicatesWarning(
            f"{_log_file(path)}: {dups} duplicate responses for {repeated} QSL indices; {_RULE_TEXT[rule]}, "
            f"as {reference} does"), stacklevel=2)
    return dups


def select_responses(entries: list[tuple[int, bytes]], path: str | Path, keep: KeepRule = "first",
                     reference: str = "the official accuracy script") -> dict[int, bytes]:
    """``{qsl_idx: response bytes}`` with one response per index chosen by ``keep`` (see the module docstring).

    Duplicates are reported with an ``AccuracyDuplicatesWarning`` naming ``reference``; with ``keep="error"``
    they are an ``AccuracyLogError``.
    """
    if keep not in ("first", "last", "error"):
        raise ValueError(f"keep: expected 'first', 'last' or 'error', got {keep!r}")
    if keep == "error":
        dups = duplicate_count(entries)
        if dups:
            raise AccuracyLogError(f"{_log_file(path)}: {dups} duplicate responses, expected one per qsl_idx "
                                   f"({reference} refuses duplicates)")
        return dict(entries)
    out: dict[int, bytes] = {}
    if keep == "first":
        for idx, raw in entries:
            out.setdefault(idx, raw)
    else:
        for idx, raw in entries:
            out[idx] = raw  # a plain dict in log order: the later response overwrites, its position stays
    warn_duplicates(path, entries, keep, reference)
    return out


def read_accuracy_log(path: str | Path, total_sample_count: int | None = None, *, keep: KeepRule = "first",
                      reference: str = "the official accuracy script") -> dict[int, bytes]:
    """``{qsl_idx: response bytes}`` from an accuracy log, one response per index (``keep``, default first).

    ``total_sample_count`` when given bounds the indices (a larger one means the log is from another data set).
    """
    return select_responses(read_accuracy_entries(path, total_sample_count), path, keep, reference)


def _log_file(path: str | Path) -> Path:
    """The log file itself for a log path or its folder; missing -> ``AccuracyLogError``."""
    p = Path(path)
    if p.is_dir():
        p = p / "mlperf_log_accuracy.json"
    if not p.is_file():
        raise AccuracyLogError(f"{p}: accuracy log not found")
    return p


def decode_int32(data: dict[int, bytes], path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """QSL indices and the first little-endian int32 of each response (the vision benchmarks' label format)."""
    idx = np.fromiter(data.keys(), dtype=np.int64, count=len(data))
    vals = np.empty(len(data), dtype=np.int64)
    for i, (q, raw) in enumerate(data.items()):
        if len(raw) < 4:
            raise AccuracyLogError(f"{path}: response for qsl_idx {q} has {len(raw)} bytes, expected an int32 (4)")
        vals[i] = int.from_bytes(raw[:4], "little", signed=True)
    return idx, vals
