"""The PTDaemon simulator over a real socket: the protocol's replies, profiles, noise and faults."""

from __future__ import annotations

import socket
import time

import pytest

from podium.power import (
    ConstantProfile,
    PtdSimulator,
    SimulatorConfig,
    StepProfile,
    parse_profile,
)
from podium.power import ptd_protocol as proto
from podium.power.errors import PowerError
from podium.power.profiles import RampProfile, SineProfile
from podium.power.samples import parse_spl_line


class Raw:
    """A bare line client, independent of podium's PtdClient."""

    def __init__(self, address):
        self.s = socket.create_connection(address, timeout=5)
        self.f = self.s.makefile("rb")

    def cmd(self, text, extra=0):
        self.s.sendall(text.encode() + b"\r\n")
        lines = [self.f.readline().decode()]
        assert lines[0].endswith("\r\n")  # PTDaemon ends lines with CR LF
        header = lines[0].strip()
        if header.startswith("Last "):
            extra = int(header.split()[1])
        for _ in range(extra):
            lines.append(self.f.readline().decode())
        return [line.rstrip("\r\n") for line in lines]

    def close(self):
        self.f.close()
        self.s.close()


@pytest.fixture
def sim():
    with PtdSimulator(SimulatorConfig(profile=StepProfile(((0.0, 100.0), (0.05, 200.0))))) as s:
        yield s


def test_handshake_identify_and_ranges(sim):
    c = Raw(sim.address)
    assert c.cmd("Hello") == ["Hello, PTDaemon here!"]
    ident = c.cmd("Identify")[0]
    assert proto.identify_fields(ident)["model"].startswith("PodiumSimulator")
    assert "version=podium-sim-" in ident and "mode=power" in ident
    r = proto.parse_ranges(c.cmd("RR")[0])
    assert r.amp_auto == 1 and r.initial_setting("A") == "Auto"
    assert c.cmd("SR,V,264.5") == ["Range V changed"]
    assert c.cmd("SR,A,1.25") == ["Range A changed"]
    r = proto.parse_ranges(c.cmd("RR")[0])
    assert (r.volt_auto, r.volt_range, r.amp_auto, r.amp_range) == (0, 264.5, 0, 1.25)
    assert r.initial_setting("V") == "264.5"
    assert c.cmd("SR,A,lots")[0].startswith("Error")
    assert c.cmd("Frobnicate")[0].startswith("Unknown command")
    c.close()


def test_measurement_replies_follow_the_profile(sim):
    c = Raw(sim.address)
    assert c.cmd("Stop") == ["Error: no measurement to stop"]
    assert c.cmd("Go,10,0,m_testing") == [
        "Starting untimed measurement, maximum 500000 samples at 10ms with 0 rampup samples"]
    time.sleep(0.12)
    lines = c.cmd("RL")
    n = int(lines[0].split()[1])
    assert lines[0] == f"Last {n} samples" and n >= 10
    samples = [parse_spl_line(line)[0] for line in lines[1:]]
    gaps = {b.wall_ns - a.wall_ns for a, b in zip(samples, samples[1:])}
    assert gaps <= {9_000_000, 10_000_000, 11_000_000}  # 10 ms apart (stamps carry milliseconds)
    # sample k is the profile at k * 10 ms: 100 W before 50 ms, then 200 W
    assert [s.watts for s in samples[:6]] == [100.0, 100.0, 100.0, 100.0, 200.0, 200.0]
    assert all(s.volts == 230.0 and s.pf == 0.95 for s in samples)
    assert samples[0].amps == pytest.approx(100.0 / (230.0 * 0.95), abs=1e-6)
    one = c.cmd("RL,1")  # nothing unread: waits for the next sample
    assert one[0] == "Last 1 sample" and len(one) == 2
    w = proto.parse_watts(c.cmd("Watts")[0])
    assert w.samples >= n + 1 and w.minimum == 100.0 and w.maximum == 200.0 and w.errors == 0
    u = proto.parse_uncertainty(c.cmd("Uncertainty")[0])
    assert u.average == 0.001 and u.total == w.samples and u.invalid == 0
    assert c.cmd("Stop") == ["Stopping untimed measurement"]
    assert c.cmd("Stop") == ["Error: no measurement to stop"]
    c.cmd("RL")  # what was unread at Stop can still be read
    assert c.cmd("RL") == ["No unread samples"]
    assert sim.commands[:2] == ["Stop", "Go,10,0,m_testing"]
    c.close()


def _watts_of_first_samples(seed):
    with PtdSimulator(SimulatorConfig(profile=ConstantProfile(50.0), noise_w=2.0, seed=seed)) as s:
        c = Raw(s.address)
        c.cmd("Go,5,0,noise")
        time.sleep(0.06)
        out = [parse_spl_line(line)[0].watts for line in c.cmd("RL")[1:]][:8]
        c.close()
    return out


def test_noise_is_seeded():
    a, b, other = _watts_of_first_samples(7), _watts_of_first_samples(7), _watts_of_first_samples(8)
    assert len(a) == 8 and a == b and a != other
    assert len({round(x, 6) for x in a}) > 1


def test_error_replies_and_disconnect():
    cfg = SimulatorConfig(error_replies={"SR,A": "Error: range not supported"}, disconnect_after_s=0.05)
    with PtdSimulator(cfg) as s:
        c = Raw(s.address)
        assert c.cmd("SR,A,Auto") == ["Error: range not supported"]
        c.cmd("Go,10,0,x")
        time.sleep(0.15)
        c.s.sendall(b"Watts\r\n")
        assert c.f.readline() == b""  # the simulator closed the connection
        c.close()


def test_profiles_parse():
    assert parse_profile("120")(5.0) == 120.0
    assert parse_profile("constant:80.5")(0.0) == 80.5
    steps = parse_profile("steps:0=100,0.5=200,2=150")
    assert [steps(t) for t in (0.0, 0.49, 0.5, 1.9, 2.0, 9.0)] == [100, 100, 200, 200, 150, 150]
    assert parse_profile("sine:mean=150,amp=20,period=2") == SineProfile(150.0, 20.0, 2.0)
    assert parse_profile("sine:mean=150,amp=20,period=2")(0.5) == pytest.approx(170.0)
    ramp = parse_profile("ramp:from=100,to=200,over=10")
    assert ramp == RampProfile(100.0, 200.0, 10.0) and ramp(5.0) == 150.0 and ramp(20.0) == 200.0
    for bad in ("steps:1=2,0=3", "sine:mean=1", "wobble:3", "constant:x"):
        with pytest.raises(PowerError):
            parse_profile(bad)


def test_port_in_use_is_a_one_line_error():
    with PtdSimulator() as s:
        with pytest.raises(PowerError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
            PtdSimulator(port=s.address[1])
