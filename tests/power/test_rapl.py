"""RAPL over a fake powercap tree the tests build: domains, watts from counters, wrap-around, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.power import MeterUnavailableError, RaplMeter, make_meter
from podium.power.result import compute_power_block
from podium.power.window import read_run_window
from tests.power.helpers import sim_run, zone

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


@pytest.fixture
def powercap(tmp_path):
    root = tmp_path / "powercap"
    pkg = zone(root / "intel-rapl:0", "package-0", 5_000_000, 10_000_000)
    zone(pkg / "intel-rapl:0:0", "core", 1_000, 10_000_000)  # inside the package figure: not added
    zone(pkg / "intel-rapl:0:1", "dram", 2_000_000, 4_000_000)
    zone(root / "intel-rapl:1", "package-1", 0, 10_000_000)
    return root


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def set_uj(root: Path, zone_rel: str, value: int) -> None:
    (root / zone_rel / "energy_uj").write_text(f"{value}\n")


def test_domains_and_watts_from_energy(powercap):
    clock = Clock(T0)
    m = RaplMeter(powercap, clock_ns=clock)
    assert [d.name for d in m.domains] == ["package-0", "dram", "package-1"]
    assert "DRAM" in m.info.scope and "not the system's wall power" in m.info.labels[0]
    m.start("rapl_testing", background=False)  # first reading: a baseline, no sample yet
    assert m.samples() == []
    clock.t += 500 * MS  # 0.5 s later: +2 J package-0, +0.5 J dram, +1 J package-1 -> 3.5 J / 0.5 s = 7 W
    set_uj(powercap, "intel-rapl:0", 5_000_000 + 2_000_000)
    set_uj(powercap, "intel-rapl:0/intel-rapl:0:1", 2_000_000 + 500_000)
    set_uj(powercap, "intel-rapl:1", 1_000_000)
    s = m.poll_once()
    assert s is not None and s.wall_ns == T0 + 500 * MS
    assert s.watts == pytest.approx((2.0 + 0.5 + 1.0) / 0.5)
    assert s.energy_j == pytest.approx(3.5)


def test_wrap_around_uses_max_energy_range(powercap):
    clock = Clock(T0)
    m = RaplMeter(powercap, include_dram=False, clock_ns=clock)
    m.start("w", background=False)
    # package-0 runs from 5.0 J past its 10 J range to 1.0 J: 6 J used; package-1 from 0 to 0.5 J
    clock.t += 1000 * MS
    set_uj(powercap, "intel-rapl:0", 1_000_000)
    set_uj(powercap, "intel-rapl:1", 500_000)
    s = m.poll_once()
    assert s.watts == pytest.approx(6.5)
    assert m.domains[0].wraps == 1 and m.info.details["wraps"]["package-0@intel-rapl:0"] == 1
    clock.t += 1000 * MS
    set_uj(powercap, "intel-rapl:0", 9_000_000)  # no wrap: +8 J
    s2 = m.poll_once()
    assert s2.watts == pytest.approx(8.0) and s2.energy_j == pytest.approx(6.5 + 8.0)


def test_counter_energy_over_a_run_window(powercap, tmp_path):
    run = sim_run(tmp_path / "r", "Offline", T0, service_ns=10 * MS, duration_ms=1000)  # window 0 .. 1100 ms
    clock = Clock(T0 - 300 * MS)
    m = RaplMeter(powercap, include_dram=False, clock_ns=clock)
    m.start("w", background=False)
    energy = 5_000_000
    for _ in range(8):  # 40 W on package-0 for 8 x 200 ms, wrapping as it goes
        clock.t += 200 * MS
        energy = (energy + 8_000_000) % 10_000_000
        set_uj(powercap, "intel-rapl:0", energy)
        m.poll_once()
    block = compute_power_block(read_run_window(run), m.samples(), m.info)
    assert block["average_watts"] == pytest.approx(40.0)
    assert block["energy_counter"]["energy_j"] == pytest.approx(40.0 * 1.1)
    assert m.domains[0].wraps == 6 and m.domains[0].total_uj == 8 * 8_000_000  # 5,3,1,9,7,5,3,1,9 J


def test_background_polling(powercap):
    m = RaplMeter(powercap, interval_s=0.01)
    m.start("bg")
    import time

    time.sleep(0.08)
    samples = m.stop()
    assert len(samples) >= 3 and all(s.watts == 0.0 for s in samples)  # the fake counters do not move


def test_errors_are_one_line_and_say_what_to_do(powercap, tmp_path, monkeypatch):
    with pytest.raises(MeterUnavailableError, match="no powercap folder; RAPL needs Linux"):
        RaplMeter(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterUnavailableError, match="no intel-rapl:<n> zones"):
        RaplMeter(tmp_path / "empty")

    real_read = Path.read_text

    def deny(self, *a, **k):
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real_read(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(MeterUnavailableError) as err:
        RaplMeter(powercap)
    msg = str(err.value)
    assert "energy_uj: permission denied" in msg and "root since Linux 5.10" in msg and "\n" not in msg
    monkeypatch.undo()
    assert isinstance(make_meter(f"rapl:{powercap}"), RaplMeter)
