"""Reading ``mlperf_log_accuracy.json`` and the result type accuracy scorers return.

The log is a JSON list of ``{"seq_id", "qsl_idx", "data"}`` with ``data`` the response bytes in upper-case
hex. Like the official accuracy scripts, the first response seen for a QSL index wins and later duplicates
(LoadGen may issue a sample more than once) are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError


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


def read_accuracy_log(path: str | Path, total_sample_count: int | None = None) -> dict[int, bytes]:
    """``{qsl_idx: response bytes}`` from an accuracy log, first response per index kept.

    ``total_sample_count`` when given bounds the indices (a larger one means the log is from another data set).
    """
    p = Path(path)
    if p.is_dir():
        p = p / "mlperf_log_accuracy.json"
    if not p.is_file():
        raise AccuracyLogError(f"{p}: accuracy log not found")
    try:
        entries = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AccuracyLogError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(entries, list):
        raise AccuracyLogError(f"{p}: expected a JSON list of responses")
    out: dict[int, bytes] = {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or "qsl_idx" not in entry or "data" not in entry:
            raise AccuracyLogError(f"{p}: entry {n} lacks the fields qsl_idx and data")
        idx = entry["qsl_idx"]
        if not isinstance(idx, int) or idx < 0 or (total_sample_count is not None and idx >= total_sample_count):
            limit = f"0..{total_sample_count - 1}" if total_sample_count else "a non-negative integer"
            raise AccuracyLogError(f"{p}: entry {n} has qsl_idx {idx!r}, expected {limit}")
        if idx in out:
            continue  # de-duplicate like the official scripts: the first response for an index counts
        try:
            out[idx] = bytes.fromhex(entry["data"])
        except (TypeError, ValueError):
            raise AccuracyLogError(f"{p}: entry {n} (qsl_idx {idx}) has data that is not hex") from None
    if not out:
        raise AccuracyLogError(f"{p}: no responses (was the run in accuracy mode?)")
    return out


def decode_int32(data: dict[int, bytes], path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """QSL indices and the first little-endian int32 of each response (the vision benchmarks' label format)."""
    idx = np.fromiter(data.keys(), dtype=np.int64, count=len(data))
    vals = np.empty(len(data), dtype=np.int64)
    for i, (q, raw) in enumerate(data.items()):
        if len(raw) < 4:
            raise AccuracyLogError(f"{path}: response for qsl_idx {q} has {len(raw)} bytes, expected an int32 (4)")
        vals[i] = int.from_bytes(raw[:4], "little", signed=True)
    return idx, vals
