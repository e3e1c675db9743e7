"""What the report shows of one run, built from a run folder or from a results-store row (when the folder is
gone, only the stored figures remain: no per-sample plots).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.report.runs import FinishedRun, RunFolderError, read_run
from podium.report.samples import SampleData, SampleDataError, load_samples, percentile_points, read_spl
from podium.report.store import fingerprint


@dataclass
class ReportRun:
    """One run's figures for the report."""

    name: str
    benchmark: str
    scenario: str
    backend: str
    metric: dict[str, Any]
    valid: bool | None
    accuracy: dict[str, Any]
    lateness: dict[str, Any]
    power: dict[str, Any]
    results: dict[str, Any]
    system: dict[str, Any]
    settings: dict[str, Any]
    labels: list[str]
    path: str = ""
    samples: SampleData | None = None
    #: (seconds since the first sample, watts) from the run's spl.txt, when power was measured.
    power_trace: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the MLPerf round the run followed
    round: str = "v2.1"

    @property
    def short_run(self) -> bool:
        """Shorter than a valid MLPerf run (its labels say so)."""
        return any(str(lbl).startswith("short run") for lbl in self.labels)

    @property
    def percentiles(self) -> list[tuple[float, float]]:
        return percentile_points(self.results)


def from_run(run: FinishedRun, name: str | None = None) -> ReportRun:
    perf = run.perf
    results: dict[str, Any] = perf["results"] if isinstance(perf.get("results"), dict) else {}
    rr = ReportRun(name=name or run.path.name, benchmark=run.benchmark, scenario=run.scenario, backend=run.backend,
                   metric=run.metric, valid=run.valid, accuracy=run.accuracy_result, lateness=run.lateness,
                   power=run.power, results=results, system=run.system, settings=run.effective_settings,
                   labels=run.labels(), path=str(run.path), round=run.round)
    if run.performance is not None:
        try:
            rr.samples = load_samples(run.performance.folder, run.scenario)
        except SampleDataError as exc:
            rr.notes.append(str(exc))
        try:
            rr.power_trace = read_spl(run.performance.folder / "spl.txt")
        except SampleDataError as exc:
            rr.notes.append(str(exc))
    return rr


def from_row(row: dict[str, Any]) -> ReportRun:
    """A store row; its run folder is read when it still exists (for per-sample data)."""
    folder = row.get("run_dir")
    note = "run folder no longer on disk: stored figures only"
    if folder and Path(folder).is_dir():
        try:
            run = read_run(folder)
            # the folder must still hold the run the store recorded, not a later one written over it
            if not row.get("fingerprint") or fingerprint(run) == row["fingerprint"]:
                return from_run(run, name=f"#{row['id']} {Path(folder).name}")
            note = "run folder now holds another run: stored figures only"
        except RunFolderError:
            pass
    result: dict[str, Any] = row["result"] if isinstance(row.get("result"), dict) else {}
    acc = {}
    if row.get("accuracy_metric") is not None:
        acc = {"metric": row.get("accuracy_metric"), "value": row.get("accuracy_value"),
               "target": row.get("accuracy_target"), "passed": bool(row.get("accuracy_passed"))}
    late = {"kind": row.get("lateness_kind"), "p50_ns": row.get("lateness_p50_ns"),
            "p99_ns": row.get("lateness_p99_ns"), "max_ns": row.get("lateness_max_ns")}
    power = {}
    if row.get("power_watts") is not None:
        power["average_watts"] = row["power_watts"]
    if row.get("energy_joules") is not None:
        power["energy_j"] = row["energy_joules"]
    valid = None if row.get("valid") is None else bool(row["valid"])
    rr = ReportRun(name=f"#{row['id']}", benchmark=str(row.get("benchmark")), scenario=str(row.get("scenario")),
                   round=str(row.get("round") or "v2.1"),
                   backend=str(row.get("backend") or ""),
                   metric={"name": row.get("metric_name"), "value": row.get("metric_value"),
                           "unit": row.get("metric_unit")},
                   valid=valid, accuracy=acc, lateness={k: v for k, v in late.items() if v is not None},
                   power=power, results=result["results"] if isinstance(result.get("results"), dict) else {},
                   system=row["system"] if isinstance(row.get("system"), dict) else {},
                   settings=row["settings"] if isinstance(row.get("settings"), dict) else {},
                   labels=list(row.get("labels") or []), path=str(folder or ""))
    rr.notes.append(note)
    return rr
