"""Practice trees: a current-round tree of runs that cannot be submitted by nature — podium's own benchmarks
(digits) and short runs — laid out and checked with the round's rules so that a campaign rehearses the whole
path to a submission in minutes.

What differs from a submission, and nothing else: a benchmark the round does not have is accepted when its
runs declared an accuracy metric the checker can read, with their own target and dataset size, and it needs the
scenarios of a vision model; the duration, query-count and early-stopping rules that a short run breaks are
reported as warnings. Podium's record beside the tree (``<tree>.podium_package.json``) says so under
``practice``, and every verdict on such a tree says it is not an MLPerf submission.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.loadgen.mllog import read_mllog
from podium.report.runs import FinishedRun
from podium.submission import rules_current as cur

#: the one line every output on a practice tree carries
LABEL = "PRACTICE tree: not an MLPerf submission"


@dataclass(frozen=True)
class Practice:
    """Why a tree is a practice tree, and the podium benchmarks it holds with their accuracy rules."""

    why: tuple[str, ...]
    benchmarks: tuple[cur.PracticeBenchmark, ...]

    def to_json(self) -> dict[str, Any]:
        return {"why": list(self.why), "benchmarks": [
            {"name": b.name, "metric": b.metric, "target": b.target, "dataset_size": b.dataset_size}
            for b in self.benchmarks]}

    @classmethod
    def from_json(cls, data: Any) -> "Practice | None":
        if not isinstance(data, dict):
            return None
        benches = []
        for b in data.get("benchmarks") or []:
            if isinstance(b, dict) and isinstance(b.get("name"), str) and b.get("metric") in cur.ACCURACY_PATTERNS:
                size = b.get("dataset_size")
                benches.append(cur.PracticeBenchmark(b["name"], b["metric"], float(b.get("target") or 0.0),
                                                     int(size) if isinstance(size, int) else None))
        return cls(tuple(str(w) for w in data.get("why") or []), tuple(benches))


def practice_benchmark(run: FinishedRun) -> tuple[cur.PracticeBenchmark | None, str | None]:
    """The accuracy rules a run of a podium benchmark declared (its accuracy.txt line, target, sample count),
    or why it declared none."""
    acc = run.accuracy
    if acc is None:
        return None, f"{run.path}: no accuracy run (podium run --mode accuracy): a practice benchmark's target " \
                     "comes from it"
    target = run.accuracy_result.get("target")
    if not isinstance(target, (int, float)):
        return None, f"{acc.folder}: the accuracy result states no target"
    txt = acc.folder / cur.ACCURACY_TXT
    lines = txt.read_text(encoding="utf-8", errors="replace").splitlines() if txt.is_file() else []
    metric = next((k for k, pat in cur.ACCURACY_PATTERNS.items() for line in lines if pat.match(line)), None)
    if metric is None:
        return None, f"{txt}: no accuracy line the checker reads (expected one of: " \
                     f"{'; '.join(p.pattern for p in cur.ACCURACY_PATTERNS.values())})"
    size = None
    if (acc.folder / cur.DETAIL).is_file():
        log = read_mllog(acc.folder / cur.DETAIL)
        count = log.get("effective_accuracy_sample_count", log.get("qsl_reported_total_count"))
        size = int(count) if isinstance(count, (int, float)) else None
    return cur.PracticeBenchmark(run.benchmark, metric, float(target), size), None


def read_practice(root: str | os.PathLike[str]) -> Practice | None:
    """The practice record of the tree at ``root`` (None: the tree is not a practice tree)."""
    base = Path(root).resolve()
    marker = base.with_name(f"{base.name}.podium_package.json")
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return Practice.from_json(data.get("practice")) if isinstance(data, dict) else None
