"""The one interface every meter has: ``start(mark)``, ``stop() -> samples``, ``samples()``, ``info``.

``PollingMeter`` is the base of meters podium reads itself on a timer (NVML, RAPL): a background thread
takes a reading every ``interval_s``; a reading is either watts, a cumulative energy counter, or both.
Where only the counter exists, a sample's watts is the energy since the previous reading over the time
between them (the average over the interval, as a power analyzer's sample is).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Sequence

from podium.power.errors import PowerError
from podium.power.samples import MeterInfo, PowerSample


class Meter(ABC):
    """A power meter podium can start and stop around a run.

    ``needs_ranging``: the meter wants the official ranging run before the testing run (PTDaemon sets its
    analyzer's volt/amp ranges from the ranging run's maxima). ``prepare(phase, ranging_samples)`` is
    called before each phase's ``start``.
    """

    needs_ranging: bool = False

    @property
    @abstractmethod
    def info(self) -> MeterInfo:
        """What this meter is (kind, identity, simulated or real, clock offset once measured)."""

    def prepare(self, phase: str, ranging_samples: Sequence[PowerSample] | None = None) -> None:
        """Get ready for ``phase`` ("ranging" or "testing"); most meters have nothing to do."""

    @abstractmethod
    def start(self, mark: str) -> None:
        """Begin measuring; samples taken from now on belong to ``mark``."""

    @abstractmethod
    def stop(self) -> list[PowerSample]:
        """End measuring and return every sample since ``start`` (raises ``PowerError`` if it failed)."""

    @abstractmethod
    def samples(self) -> list[PowerSample]:
        """The samples taken so far in the current (or last) measurement."""

    def close(self) -> None:
        """Release the meter (connections, library handles)."""

    def __enter__(self) -> "Meter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Reading:
    """One raw reading of a polled meter: watts (None if the meter has only a counter), cumulative joules
    (None if it has no counter) and optional per-device watts."""

    watts: float | None
    energy_j: float | None
    channels: tuple[float, ...] = ()


class PollingMeter(Meter):
    """A meter read by podium every ``interval_s`` on a background thread (or by ``poll_once`` in tests)."""

    def __init__(self, interval_s: float = 0.1, clock_ns: Callable[[], int] = time.time_ns) -> None:
        if interval_s <= 0:
            raise PowerError(f"meter interval: expected a positive number of seconds, got {interval_s:g}")
        self.interval_s = interval_s
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._samples: list[PowerSample] = []
        self._previous: tuple[int, Reading] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._error: PowerError | None = None
        self.mark: str | None = None

    @abstractmethod
    def read(self) -> Reading:
        """Take one reading now (raises ``PowerError`` when the meter cannot be read)."""

    def poll_once(self) -> PowerSample | None:
        """Take a reading and turn it into a sample; returns None for the first counter-only reading."""
        reading = self.read()
        t = self._clock_ns()
        with self._lock:
            prev = self._previous
            self._previous = (t, reading)
            watts = reading.watts
            if watts is None:
                if prev is None or prev[1].energy_j is None or reading.energy_j is None or t <= prev[0]:
                    return None
                watts = (reading.energy_j - prev[1].energy_j) / ((t - prev[0]) / 1e9)
            sample = PowerSample(wall_ns=t, watts=watts, energy_j=reading.energy_j, channels=reading.channels)
            self._samples.append(sample)
            return sample

    def start(self, mark: str, background: bool = True) -> None:
        with self._lock:
            self._samples = []
            self._previous = None
            self._error = None
        self.mark = mark
        self._stopping.clear()
        self.poll_once()  # fail here, before the run, if the meter cannot be read
        if background:
            self._thread = threading.Thread(target=self._loop, name=f"podium-{self.info.kind}-meter", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self.poll_once()
            except PowerError as exc:
                self._error = exc
                return

    def stop(self) -> list[PowerSample]:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is None:
            try:
                self.poll_once()  # a last reading so the samples span the whole run
            except PowerError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self.samples()

    def samples(self) -> list[PowerSample]:
        with self._lock:
            return list(self._samples)
