"""NVML: NVIDIA GPU board power and the cumulative energy counter, per GPU (``nvidia-ml-py``, optional).

``nvmlDeviceGetPowerUsage`` gives milliwatts (on recent GPUs an average over about the last second, so a
short run's samples lag); ``nvmlDeviceGetTotalEnergyConsumption`` gives millijoules since the driver
loaded (Volta and newer). Podium records both: the samples' mean is the official-style figure and the
counter, interpolated at the run's window edges, is the energy actually used in the window.

Board power is the GPUs only, not the system's wall power; every result from this meter says so.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from podium.power.errors import MeterUnavailableError, PowerError
from podium.power.meter import PollingMeter, Reading
from podium.power.samples import MeterInfo


def load_nvml() -> Any:
    """The ``pynvml`` module of nvidia-ml-py, or a one-line error saying how to get it."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError as exc:
        raise MeterUnavailableError("NVML: the nvidia-ml-py package is not installed "
                                    "(pip install 'podium[power]' or pip install nvidia-ml-py)") from exc
    return pynvml


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NvmlMeter(PollingMeter):
    """The summed board power of the chosen GPUs (default: all), read every ``interval_s``."""

    kind = "nvml"

    def __init__(self, devices: Sequence[int] | None = None, interval_s: float = 0.1, nvml: Any = None,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(interval_s, clock_ns)
        self.nvml = nvml if nvml is not None else load_nvml()
        try:
            self.nvml.nvmlInit()
        except Exception as exc:  # NVMLError subclasses, or OSError when libnvidia-ml is absent
            raise MeterUnavailableError(f"NVML: cannot initialise ({exc}); is an NVIDIA driver installed "
                                        "on this machine?") from exc
        self._initialised = True
        try:
            count = int(self.nvml.nvmlDeviceGetCount())
            indices = list(range(count)) if devices is None else list(devices)
            bad = [i for i in indices if not 0 <= i < count]
            if not indices or bad:
                raise MeterUnavailableError(f"NVML: GPU index {bad or indices} not present; this machine has "
                                            f"{count} GPU(s) (0..{count - 1})")
            self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in indices]
            names = [_text(self.nvml.nvmlDeviceGetName(h)) for h in self.handles]
            self.has_counter = all(self._energy_mj(h) is not None for h in self.handles)
            driver = _text(self.nvml.nvmlSystemGetDriverVersion())
        except MeterUnavailableError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise MeterUnavailableError(f"NVML: cannot read the GPUs ({exc})") from exc
        self.indices = indices
        self._info = MeterInfo(
            kind="nvml", name=f"NVML {len(indices)}x " + ", ".join(sorted(set(names))), interval_ms=interval_s * 1000,
            scope="GPU board power (NVML)",
            labels=["NVML: GPU board power only, not the system's wall power; not an MLPerf power measurement"],
            clock_offset={"offset_ms": 0.0, "uncertainty_ms": 0.0, "method": "same host clock"},
            details={"gpus": [{"index": i, "name": n} for i, n in zip(indices, names, strict=True)], "driver": driver,
                     "energy_counter": self.has_counter})

    @property
    def info(self) -> MeterInfo:
        return self._info

    def _energy_mj(self, handle: Any) -> float | None:
        try:
            return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        except Exception:  # NVMLError_NotSupported on pre-Volta GPUs
            return None

    def read(self) -> Reading:
        try:
            watts = tuple(float(self.nvml.nvmlDeviceGetPowerUsage(h)) / 1000.0 for h in self.handles)
            energy = None
            if self.has_counter:
                parts = [self._energy_mj(h) for h in self.handles]
                energy = None if any(p is None for p in parts) else sum(parts) / 1000.0  # type: ignore[arg-type]
        except Exception as exc:
            raise PowerError(f"NVML: reading GPU power failed ({exc})") from exc
        return Reading(watts=sum(watts), energy_j=energy, channels=watts)

    def close(self) -> None:
        if getattr(self, "_initialised", False):
            self._initialised = False
            try:
                self.nvml.nvmlShutdown()
            except Exception:  # shutting down a library that failed is not worth an error
                pass
