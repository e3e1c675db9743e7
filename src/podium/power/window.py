"""The run's power window and the figures the power metric needs, read from ``mlperf_log_detail.txt``.

As the v2.1 submission checker reads the log (``MLPerfLog``): when a key appears more than once (several
series in one log), the first occurrence counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.loadgen.mllog import read_mllog
from podium.power.errors import PowerError
from podium.power.samples import parse_stamp

if TYPE_CHECKING:
    from podium.loadgen.run import TestResult

DETAIL_LOG = "mlperf_log_detail.txt"


@dataclass(frozen=True)
class RunWindow:
    """``power_begin``/``power_end`` (text as logged and UTC epoch ns) and the result keys power needs."""

    detail_path: Path
    begin_text: str
    end_text: str
    begin_ns: int
    end_ns: int
    scenario: str | None
    mode: str | None
    query_count: int | None
    samples_per_query: int | None
    throughput: float | None  # Offline samples/s, Server scheduled samples/s (the checker's result keys)
    valid: bool | None
    repeated_windows: int = 1

    @property
    def duration_s(self) -> float:
        """``(power_end - power_begin).total_seconds()`` as the checker computes it."""
        return (self.end_ns - self.begin_ns) / 1e9


def _first_values(path: Path) -> tuple[dict[str, Any], int]:
    try:
        log = read_mllog(path)
    except OSError as exc:
        raise PowerError(f"{path}: cannot read the LoadGen detail log ({exc.strerror})") from exc
    if log.invalid_lines:
        n, _ = log.invalid_lines[0]
        raise PowerError(f"{path}:{n}: invalid :::MLLOG line (not a JSON record)")
    windows = sum(1 for r in log.records if r.get("key") == "power_begin")
    return dict(log.first), windows


def read_run_window(run_dir_or_log: Path | str) -> RunWindow:
    """The power window of a run folder (or of a detail log file given directly)."""
    path = Path(run_dir_or_log)
    if path.is_dir():
        path = path / DETAIL_LOG
    values, windows = _first_values(path)
    for key in ("power_begin", "power_end"):
        if not isinstance(values.get(key), str):
            raise PowerError(f"{path}: no '{key}' entry; expected a LoadGen performance run's detail log")
    begin = parse_stamp(values["power_begin"], f"{path}: power_begin")
    end = parse_stamp(values["power_end"], f"{path}: power_end")
    scenario = values.get("effective_scenario")
    throughput_key = {"Offline": "result_samples_per_second",
                      "Server": "result_scheduled_samples_per_sec"}.get(str(scenario))
    throughput = values.get(throughput_key) if throughput_key else None
    qc = values.get("result_query_count")
    spq = values.get("effective_samples_per_query")
    validity = values.get("result_validity")
    return RunWindow(
        detail_path=path, begin_text=values["power_begin"], end_text=values["power_end"], begin_ns=begin,
        end_ns=end, scenario=scenario, mode=values.get("effective_test_mode"),
        query_count=int(qc) if qc is not None else None, samples_per_query=int(spq) if spq is not None else None,
        throughput=float(throughput) if throughput is not None else None,
        valid=None if validity is None else validity == "VALID", repeated_windows=windows)


def window_from_result(result: "TestResult") -> RunWindow:
    """The power window of a test from what the engine held in memory (``TestResult``), as
    ``read_run_window`` would read it back from the test's detail log: the first series' window, the
    checker's result keys."""
    if not result.power_windows:
        raise PowerError("the test logged no power window (it measured no series)")
    begin_text, end_text = result.power_windows[0]
    detail = Path(result.log_paths.get("detail", "mlperf_log_detail.txt"))
    perf = result.performance
    eff = result.settings
    scenario = eff.scenario.value if eff is not None else None
    throughput = None
    if perf is not None and scenario == "Offline":
        throughput = float(perf.samples_per_second)
    elif perf is not None and scenario == "Server":
        throughput = float(perf.scheduled_samples_per_second)
    return RunWindow(
        detail_path=detail, begin_text=begin_text, end_text=end_text,
        begin_ns=parse_stamp(begin_text, f"{detail}: power_begin"), end_ns=parse_stamp(end_text, f"{detail}: power_end"),
        scenario=scenario, mode=result.mode.value,
        query_count=perf.query_count if perf is not None else None,
        samples_per_query=int(eff.samples_per_query) if eff is not None else None,
        throughput=throughput, valid=perf.valid if perf is not None else None,
        repeated_windows=len(result.power_windows))
