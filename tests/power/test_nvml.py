"""NVML: a fake nvml library for exact per-GPU figures; the real one where this machine has a GPU."""

from __future__ import annotations

import sys
import time

import pytest

from podium.power import MeterUnavailableError, NvmlMeter, PowerError
from podium.power.nvml import load_nvml
from podium.power.result import compute_power_block
from podium.power.window import read_run_window
from tests.power.helpers import sim_run

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


class FakeNvml:
    """The few pynvml calls podium makes; power in mW and energy in mJ per GPU, set by the test."""

    class NVMLError(Exception):
        pass

    def __init__(self, watts=(100.0, 250.0), energy_mj=(1_000_000, 2_000_000), counter=True, init_error=None):
        self.watts = list(watts)
        self.energy_mj = list(energy_mj)
        self.counter = counter
        self.init_error = init_error
        self.shutdowns = 0

    def nvmlInit(self):
        if self.init_error:
            raise self.NVMLError(self.init_error)

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.watts)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return b"NVIDIA H200" if h == 0 else "NVIDIA H200"

    def nvmlSystemGetDriverVersion(self):
        return "550.00"

    def nvmlDeviceGetPowerUsage(self, h):
        return int(self.watts[h] * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not self.counter:
            raise self.NVMLError("Not Supported")
        return self.energy_mj[h]


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def test_power_is_summed_per_gpu_with_the_energy_counter(tmp_path):
    run = sim_run(tmp_path / "r", "Offline", T0, service_ns=10 * MS, duration_ms=1000)  # window 0..1100 ms
    nv = FakeNvml()
    clock = Clock(T0 - 100 * MS)
    m = NvmlMeter(nvml=nv, clock_ns=clock)
    assert m.info.name == "NVML 2x NVIDIA H200" and m.info.details["energy_counter"] is True
    assert "GPU board power only" in m.info.labels[0]
    m.start("nv", background=False)
    for _ in range(13):  # 100 ms steps; GPUs draw 100 W and 250 W
        clock.t += 100 * MS
        nv.energy_mj = [e + w * 100 for e, w in zip(nv.energy_mj, nv.watts)]  # mJ in 100 ms
        m.poll_once()
    block = compute_power_block(read_run_window(run), m.samples(), m.info)
    assert block["average_watts"] == 350.0 and block["channel_average_watts"] == [100.0, 250.0]
    assert block["energy_counter"]["energy_j"] == pytest.approx(350.0 * 1.1)
    assert block["samples_in_window"] == 10  # 100 .. 1000 ms
    m.close()
    assert nv.shutdowns == 1


def test_choosing_gpus_and_missing_counters():
    nv = FakeNvml(watts=(10.0, 20.0, 30.0), energy_mj=(0, 0, 0), counter=False)
    m = NvmlMeter(devices=[2], nvml=nv, clock_ns=Clock(T0))
    assert m.has_counter is False
    m.start("x", background=False)
    s = m.samples()[0]
    assert s.watts == 30.0 and s.energy_j is None and s.channels == (30.0,)
    with pytest.raises(MeterUnavailableError, match=r"GPU index \[5\] not present; this machine has 3 GPU"):
        NvmlMeter(devices=[5], nvml=FakeNvml(watts=(1.0, 2.0, 3.0)))


def test_nvml_errors_are_one_line():
    with pytest.raises(MeterUnavailableError, match="NVML: cannot initialise .*Driver Not Loaded.*NVIDIA driver"):
        NvmlMeter(nvml=FakeNvml(init_error="Driver Not Loaded"))
    nv = FakeNvml()
    m = NvmlMeter(nvml=nv, clock_ns=Clock(T0))
    nv.watts = None  # the library starts failing mid-run
    with pytest.raises(PowerError, match="NVML: reading GPU power failed"):
        m.read()


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    with pytest.raises(MeterUnavailableError, match=r"nvidia-ml-py package is not installed \(pip install"):
        load_nvml()


def _real_nvml_or_skip():
    try:
        return NvmlMeter(interval_s=0.05)
    except MeterUnavailableError as exc:
        pytest.skip(f"no NVIDIA GPU here: {exc}")


@pytest.mark.slow
def test_real_gpu_power_and_counter():
    """On a machine with an NVIDIA GPU: real readings are plausible and the counter moves with the power."""
    m = _real_nvml_or_skip()
    try:
        m.start("device_check")
        time.sleep(1.0)
        samples = m.stop()
    finally:
        m.close()
    assert len(samples) >= 10
    assert all(5.0 < s.watts < 2000.0 * len(m.indices) for s in samples)
    if m.has_counter:
        joules = samples[-1].energy_j - samples[0].energy_j
        seconds = (samples[-1].wall_ns - samples[0].wall_ns) / 1e9
        mean = sum(s.watts for s in samples) / len(samples)
        # the counter's average and the sampled power agree within a generous factor (sampling vs integration)
        assert 0.5 * mean < joules / seconds < 2.0 * mean
    print(f"\nNVML: {m.info.name}: {len(samples)} samples, mean {sum(s.watts for s in samples) / len(samples):.1f} W")


@pytest.mark.slow
def test_real_gpu_power_session_attaches_to_a_run(tmp_path):
    """On a machine with an NVIDIA GPU: a LoadGen run measured with NVML gets a plausible power block."""
    from podium.power import PowerSession
    from tests.power.helpers import real_run

    m = _real_nvml_or_skip()
    try:
        with PowerSession(m, tmp_path) as ps:
            real_run(tmp_path, "Offline", duration_ms=600)
        block = ps.attach()
    finally:
        m.close()
    assert block["status"] == "measured" and block["samples_in_window"] >= 5
    assert len(block["channel_average_watts"]) == len(m.indices)
    if m.has_counter:
        ec = block["energy_counter"]
        assert ec["covered"] is True and 0.5 * block["average_watts"] < ec["average_watts"] < 2 * block["average_watts"]
    print(f"\nNVML run: {block['average_watts']:.1f} W avg over {block['window']['duration_s']:.3f} s, "
          f"counter {block.get('energy_counter', {}).get('average_watts')} W, "
          f"{block['efficiency']['value']:.3g} samples/s/W")
