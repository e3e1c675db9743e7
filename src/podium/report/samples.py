"""Per-sample times of a run's performance series, for latency distributions, throughput over the run and
issue lateness.

Sources, in order of preference:

* ``podium_samples.npz`` beside the logs (compact arrays the engine can write; format below),
* ``mlperf_log_trace.json`` (podium's Chrome trace, written when tracing is on),

else only the percentiles in ``podium_result.json`` are known (``percentile_points``).

``podium_samples.npz`` holds, for the performance series, times in ns relative to the series start:
``scheduled_ns`` (int64, one per query), ``issued_ns`` (int64, one per query), ``done_ns`` (int64, one per
sample in issue order, -1 for a sample that never completed), ``samples_per_query`` (int64 scalar; Offline:
the sample count) and ``scenario`` (str scalar).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError
from podium.files import find_podium_file

SAMPLES_FILE = "podium_samples.npz"
TRACE_FILE = "mlperf_log_trace.json"

_B_EVENT = re.compile(r'"ph":"b".*?"id":(\d+),"ts":([\d.]+),"args":\{"sample_seq":\d+,"query_seq":(\d+),'
                      r'"sample_idx":\d+,"issue_start_ns":(-?\d+),"complete_ns":(-?\d+)\}')
_PERF_SERIES = re.compile(r'"name":"IssueQueries \(PerformanceOnly\)","ph":"X".*?"ts":([\d.]+)')


class SampleDataError(PodiumError):
    """A per-sample file exists but cannot be read."""


@dataclass
class SampleData:
    """Per-sample times of one performance series (ns, relative to the series start)."""

    scenario: str
    #: Latency of each completed sample, by the official definition of the scenario.
    latency_ns: np.ndarray
    #: Completion time of each completed sample.
    done_ns: np.ndarray
    #: Issue lateness per query: Server, issued - scheduled; SingleStream/MultiStream, the gap between a
    #: query's completion and the next query's issue; None when it cannot be told (Offline).
    lateness_ns: np.ndarray | None
    lateness_kind: str
    source: str

    def throughput(self, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """(bin centres in s, completed samples per second in each bin) over the series."""
        if not len(self.done_ns):
            return np.zeros(0), np.zeros(0)
        end = float(self.done_ns.max()) / 1e9
        n = max(1, min(bins, len(self.done_ns)))
        edges = np.linspace(0.0, end if end > 0 else 1e-9, n + 1)
        counts, _ = np.histogram(self.done_ns / 1e9, bins=edges)
        width = edges[1] - edges[0]
        return (edges[:-1] + edges[1:]) / 2, counts / width


def _from_arrays(scenario: str, scheduled: np.ndarray, issued: np.ndarray, done: np.ndarray, spq: int,
                 source: str) -> SampleData:
    n_q = len(issued)
    per_sample_query = np.minimum(np.arange(len(done)) // max(spq, 1), max(n_q - 1, 0))
    ok = done >= 0
    if scenario in ("SingleStream", "MultiStream"):
        start = issued[per_sample_query]
    else:  # Server: from the scheduled time; Offline: from the start (its one query is scheduled at 0)
        start = scheduled[per_sample_query]
    latency = (done - start)[ok]
    lateness: np.ndarray | None = None
    kind = "none"
    if scenario == "Server" and n_q:
        lateness, kind = issued - scheduled, "issue_lateness"
    elif scenario in ("SingleStream", "MultiStream") and n_q > 1:
        q_done = np.full(n_q, -1, dtype=np.int64)
        np.maximum.at(q_done, per_sample_query, np.where(ok, done, -1))
        prev = q_done[:-1]
        gap = issued[1:] - prev
        lateness, kind = gap[prev >= 0], "issue_gap"
    return SampleData(scenario, latency.astype(np.int64), done[ok].astype(np.int64), lateness, kind, source)


def read_npz(path: Path) -> SampleData:
    try:
        with np.load(path, allow_pickle=False) as z:
            scenario = str(z["scenario"])
            return _from_arrays(scenario, z["scheduled_ns"].astype(np.int64), z["issued_ns"].astype(np.int64),
                                z["done_ns"].astype(np.int64), int(z["samples_per_query"]), path.name)
    except (OSError, KeyError, ValueError) as exc:
        raise SampleDataError(f"{path}: not a podium samples file ({exc})") from None


def read_trace(path: Path, scenario: str) -> SampleData:
    """The performance series' samples from podium's ``mlperf_log_trace.json``."""
    perf_start_us = None
    rows: list[tuple[float, int, int, int]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if '"ph":"b"' in line:
                    m = _B_EVENT.search(line)
                    if m:
                        rows.append((float(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))))
                elif perf_start_us is None and "IssueQueries (PerformanceOnly)" in line:
                    m = _PERF_SERIES.search(line)
                    if m:
                        perf_start_us = float(m.group(1))
    except OSError as exc:
        raise SampleDataError(f"{path}: cannot read ({exc.strerror})") from None
    if perf_start_us is not None:
        # The trace of a SubmissionRun also holds the accuracy series; keep the performance one.
        rows = [r for r in rows if r[0] >= perf_start_us - 0.001]
    if not rows:
        raise SampleDataError(f"{path}: no sample events (was tracing on for the performance run?)")
    arr = np.array(rows, dtype=np.float64)
    sched_abs_ns = np.round(arr[:, 0] * 1000).astype(np.int64)
    origin = int(sched_abs_ns.min())
    sched = sched_abs_ns - origin
    issue = arr[:, 2].astype(np.int64)
    done = sched + arr[:, 3].astype(np.int64)
    query = arr[:, 1].astype(np.int64)
    # One value per query (the trace repeats them per sample), in query order.
    order = np.argsort(query, kind="stable")
    uq, first = np.unique(query[order], return_index=True)
    q_sched = sched[order][first]
    q_issued = q_sched + issue[order][first]
    spq = len(rows) // max(len(uq), 1) if scenario != "Offline" else len(rows)
    done_sorted = done[order]
    return _from_arrays(scenario, q_sched, q_issued, done_sorted, spq, path.name)


def load_samples(folder: str | Path, scenario: str) -> SampleData | None:
    """Per-sample data of the performance series whose logs are in ``folder``; None when there is none."""
    f = Path(folder)
    npz = find_podium_file(f, SAMPLES_FILE)  # in podium/ (contract A) or beside the logs (podium 0.1)
    if npz is not None:
        return read_npz(npz)
    if (f / TRACE_FILE).is_file() and (f / TRACE_FILE).stat().st_size > 0:
        return read_trace(f / TRACE_FILE, scenario)
    return None


_PCT = re.compile(r"^result_(\d+\.\d+)_percentile_latency_ns$")


def percentile_points(results: dict[str, Any]) -> list[tuple[float, float]]:
    """(percentile, latency ns) pairs a result holds (min as 0, max as 100), sorted: the latency
    distribution as far as it is known without per-sample data."""
    pts: list[tuple[float, float]] = []
    for key, val in results.items():
        m = _PCT.match(key)
        if m and isinstance(val, (int, float)):
            pts.append((float(m.group(1)), float(val)))
    if isinstance(results.get("result_min_latency_ns"), (int, float)):
        pts.append((0.0, float(results["result_min_latency_ns"])))
    if isinstance(results.get("result_max_latency_ns"), (int, float)):
        pts.append((100.0, float(results["result_max_latency_ns"])))
    return sorted(pts)


_SPL_TIME = "%m-%d-%Y %H:%M:%S.%f"


def read_spl(path: Path) -> list[tuple[float, float]]:
    """(seconds since the first sample, watts) of a power log ``spl.txt`` (``Time,<stamp>,Watts,<w>,...``
    lines); empty when the file is absent."""
    if not path.is_file():
        return []
    out: list[tuple[float, float]] = []
    t0 = None
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        parts = line.split(",")
        if len(parts) < 4 or parts[0] != "Time" or parts[2] != "Watts":
            continue
        try:
            t = datetime.datetime.strptime(parts[1], _SPL_TIME)
            w = float(parts[3])
        except ValueError:
            raise SampleDataError(f"{path}:{n}: expected 'Time,MM-DD-YYYY HH:MM:SS.fff,Watts,<watts>'") from None
        t0 = t0 or t
        out.append(((t - t0).total_seconds(), w))
    return out
