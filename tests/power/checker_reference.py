"""An independent statement of the v2.1 submission checker's power arithmetic, for the tests to compare with.

Written from the checker's behaviour (``check_power_dir``): parse both the detail log's power_begin/end and
every spl.txt stamp with ``%m-%d-%Y %H:%M:%S.%f``; keep samples with begin < t < end; average the 4th
comma field; W for Offline/Server, ``avg * (end - begin).total_seconds() / result_query_count`` for the
stream scenarios. It deliberately shares no code with podium.power.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

FMT = "%m-%d-%Y %H:%M:%S.%f"


def _first(detail: Path, key: str):
    for line in detail.read_text().splitlines():
        if line.startswith(":::MLLOG"):
            rec = json.loads(line[len(":::MLLOG"):])
            if rec["key"] == key:
                return rec["value"]
    return None


def checker_power_metric(run_dir: Path) -> tuple[float, float]:
    """(average watts, official metric) as the checker computes them from run_dir's files."""
    detail = run_dir / "mlperf_log_detail.txt"
    begin = datetime.datetime.strptime(_first(detail, "power_begin"), FMT)
    end = datetime.datetime.strptime(_first(detail, "power_end"), FMT)
    values = []
    for line in (run_dir / "spl.txt").read_text().splitlines():
        t = datetime.datetime.strptime(line.split(",")[1], FMT)
        if t > begin and t < end:
            values.append(float(line.split(",")[3]))
    avg = sum(values) / len(values)
    scenario = _first(detail, "effective_scenario")
    if scenario in ("Offline", "Server"):
        return avg, avg
    duration = (end - begin).total_seconds()
    return avg, avg * duration / int(_first(detail, "result_query_count"))
