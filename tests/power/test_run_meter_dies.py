"""``podium run --power`` when the meter dies: the result and the exit code say the power is missing, and the
run is still recorded."""

from __future__ import annotations

import json
import sqlite3

import pytest

from podium.cli.main import main
from podium.power.profiles import ConstantProfile
from podium.power.ptd_simulator import PtdSimulator, SimulatorConfig


@pytest.mark.parametrize("at_go, phase", [(1, "ranging"), (2, "testing")])
def test_meter_dying_mid_run_fails_the_power_run_and_keeps_it(tmp_path, capsys, monkeypatch, at_go, phase):
    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(db))
    cfg = SimulatorConfig(profile=ConstantProfile(50.0), disconnect_after_s=0.3, disconnect_at_go=at_go)
    with PtdSimulator(cfg) as sim:
        host, port = sim.address
        rc = main(["run", "--mode", "performance", "--duration", "1", "--power",
                   f"ptd://{host}:{port}?interval_ms=10&poll_s=0.05&settle_s=0", "--output", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "power missing" in out and f"during the {phase} run" in out
    run_dir = (tmp_path / "r" / "latest").resolve()
    part = run_dir / "performance" / ("ranging" if phase == "ranging" else "run_1")
    data = json.loads((part / "podium" / "podium_result.json").read_text())
    assert data["power_valid"] is False and phase in data["power_error"]
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1


def test_an_unreachable_meter_fails_before_anything_loads_or_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    rc = main(["run", "--power", "ptd://127.0.0.1:1", "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot connect" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # no run folder (it used to calibrate into one first)
