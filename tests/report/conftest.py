"""Runs for the store and report tests (simulated clock), and a private results store per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.submission.fake_runs import make_run


def add_power(run: Path, watts: float = 250.0) -> None:
    """A power block and spl.txt as podium.power writes them (one sample a second for 10 s)."""
    perf = run / "performance"
    data = json.loads((perf / "podium" / "podium_result.json").read_text())
    data["power"] = {"status": "measured", "measured": True, "simulated": True, "average_watts": watts,
                     "energy_j": watts * 10, "labels": ["SIMULATED power meter (test)"],
                     "official_metric": {"value": watts, "unit": "Watts", "name": "average power"}}
    (perf / "podium" / "podium_result.json").write_text(json.dumps(data))
    lines = [f"Time,01-01-2026 00:00:{s:02d}.000,Watts,{watts + s:.6f},Volts,230.0,Amps,1.0,PF,1.0,Mark,m"
             for s in range(10)]
    (perf / "spl.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("report_runs")
    server = make_run(base / "server", scenario="Server", compliance=False, trace=True)
    ss = make_run(base / "ss", scenario="SingleStream", compliance=False, trace=True, full=False)
    offline = make_run(base / "offline", scenario="Offline", compliance=False, random_weights=True)
    add_power(offline)
    return {"server": server, "ss": ss, "offline": offline}


@pytest.fixture
def store_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "results.sqlite"
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(path))
    return path
