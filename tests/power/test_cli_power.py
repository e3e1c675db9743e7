"""``podium power`` subcommands (parsed on their own parser: the lead registers them in ``podium``)."""

from __future__ import annotations

import argparse
import json
import threading

import pytest

from podium.cli import cmd_power
from podium.errors import PodiumError
from podium.power import PowerSample, PtdMeter, write_spl
from podium.power.samples import parse_spl_line
from tests.power.helpers import sim_run

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def parse(argv):
    ap = argparse.ArgumentParser(prog="podium")
    sub = ap.add_subparsers(dest="command")
    cmd_power.add_parser(sub)
    return ap.parse_args(argv)


def test_simulate_serves_the_configured_profile():
    args = parse(["power", "simulate", "--port", "0", "--profile", "steps:0=10,0.02=30", "--clock-offset-ms", "5",
                  "--error-reply", "Uncertainty=Error: no uncertainty", "--volts", "120"])
    sim = cmd_power._simulator_from_args(args)
    thread = threading.Thread(target=sim.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = sim.address
        meter = PtdMeter(host, port, interval_ms=10, poll_s=0.05, offset_probes=0)
        meter.prepare("testing")
        meter.start("cli")
        import time

        time.sleep(0.08)
        with pytest.raises(PodiumError, match="'Uncertainty' answered 'Error: no uncertainty'"):
            meter.stop()
        samples = meter.samples()
        assert samples[0].watts == 10.0 and samples[-1].watts == 30.0 and samples[0].volts == 120.0
        meter.close()
    finally:
        sim._server.shutdown()
        thread.join()
        sim.close()
    with pytest.raises(PodiumError, match="--error-reply 'oops': expected PREFIX=REPLY"):
        cmd_power._simulator_from_args(parse(["power", "simulate", "--error-reply", "oops"]))


def test_probe_reads_a_meter(capsys):
    rc = cmd_power.probe(parse(["power", "probe", "sim:constant:42?interval_ms=10&poll_s=0.05",
                                "--seconds", "0.1"]))
    out = capsys.readouterr().out
    assert rc == 0
    assert "PTDaemon simulator (podium) (SIMULATED)" in out and "average 42.000" in out
    assert "clock   : meter - this host = " in out
    assert cmd_power.probe(parse(["power", "probe", "none"])) == 1
    assert "power: not measured" in capsys.readouterr().out


def test_compute_from_a_recorded_power_log(tmp_path, capsys):
    run = sim_run(tmp_path / "r", "SingleStream", T0, service_ns=10 * MS, duration_ms=1000)  # 0 .. 1010 ms
    samples = [PowerSample(wall_ns=T0 + t * MS, watts=20.0 + t / 1000, volts=230.0, amps=0.1, pf=0.9)
               for t in range(-500, 1600, 250)]
    write_spl(run / "official_spl.txt", samples, "2023-11-14_22-13-00_x_testing")
    rc = cmd_power.compute(parse(["power", "compute", str(run), "--spl", str(run / "official_spl.txt"),
                                  "--write", "--json"]))
    block = json.loads(capsys.readouterr().out)
    # inside (0, 1010): 250, 500, 750, 1000 ms -> 20.25, 20.5, 20.75, 21.0 W
    assert rc == 0 and block["average_watts"] == pytest.approx(20.625)
    assert block["official_metric"]["value"] == pytest.approx(20.625 * 1.01 / 101)
    assert block["mark"] == "2023-11-14_22-13-00_x_testing"
    assert json.loads((run / "podium" / "podium_result.json").read_text())["power"]["average_watts"] == block["average_watts"]
    assert (run / "podium" / "power_summary.txt").read_text().startswith("podium power result")
    (run / "bad_spl.txt").write_text("Time,28-12-2020 15:21:14.682,Watts,1,Volts,1,Amps,1,PF,1,Mark,x\n")
    with pytest.raises(PodiumError, match="bad_spl.txt:1: .*expected month first"):
        cmd_power.compute(parse(["power", "compute", str(run), "--spl", str(run / "bad_spl.txt")]))
    assert parse_spl_line((run / "official_spl.txt").read_text().splitlines()[0])[1] == "2023-11-14_22-13-00_x_testing"
