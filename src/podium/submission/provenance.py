"""Which run wrote each log folder of a run: the packager refuses logs that another run left behind.

A run folder's parts (performance/, accuracy/, submission/) each hold the official logs and podium's result
(``podium/podium_result.json``). Every test ``podium run`` writes carries the run's ``run_id``; the summary
log names the scenario and mode the LoadGen ran. A part whose result comes from another run (a different
``run_id``), or whose result or summary log is of another scenario or mode, is not this run's and cannot be
packaged under it.
"""

from __future__ import annotations

import re

from podium.report.runs import FinishedRun

_SCENARIO_LINE = re.compile(r"^Scenario : (\S+)", re.M)
_MODE_LINE = re.compile(r"^Mode     : (\S+)", re.M)
#: the LoadGen mode each part's summary must report
_PART_MODES = {"performance": ("PerformanceOnly",), "accuracy": ("AccuracyOnly",),
               "submission": ("SubmissionRun",)}
SUMMARY = "mlperf_log_summary.txt"


def provenance_problems(run: FinishedRun) -> list[str]:
    """Why some log folder of ``run`` was not written by this run (empty: every part is its own)."""
    problems: list[str] = []
    ids = {kind: part.result.get("run_id") for kind, part in run.parts.items() if part.result.get("run_id")}
    if len(set(ids.values())) > 1:
        listed = ", ".join(f"{k}/ from run {v}" for k, v in sorted(ids.items()))
        problems.append(f"{run.path}: its parts come from different runs ({listed}); package one run's folder")
    for kind, part in run.parts.items():
        folder = part.folder
        scen = part.result.get("scenario")
        if scen and scen != run.scenario:
            problems.append(f"{folder}: a {scen} test's result in a {run.scenario} run; it was left by "
                            "another run")
        summary = folder / SUMMARY
        if not summary.is_file():
            continue
        text = summary.read_text(encoding="utf-8", errors="replace")
        m = _SCENARIO_LINE.search(text)
        if m and m.group(1) != run.scenario:
            problems.append(f"{summary}: logs a {m.group(1)} test, not this run's {run.scenario}; it was left by "
                            "another run")
        mode = _MODE_LINE.search(text)
        if mode and kind in _PART_MODES and mode.group(1) not in _PART_MODES[kind]:
            problems.append(f"{summary}: logs a {mode.group(1)} test in the {kind}/ folder")
    return problems

