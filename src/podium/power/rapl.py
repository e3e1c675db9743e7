"""RAPL: CPU package and DRAM energy from the Linux powercap interface (``/sys/class/powercap``).

Each ``intel-rapl:<n>`` zone is one CPU package; its ``intel-rapl:<n>:<m>`` sub-zones include ``dram`` on
servers (``core``/``uncore`` are parts of the package and are not added again). ``energy_uj`` is a
cumulative counter that wraps at ``max_energy_range_uj``; a reading smaller than the previous one means one
wrap (the poll interval is far shorter than the ~minutes a wrap takes). Since Linux 5.10 ``energy_uj`` is
readable by root only (CVE-2020-8694, the PLATYPUS side channel).

RAPL is the CPU's own model-based estimate of package and DRAM energy, not the system's wall power; every
result from it says so.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from podium.power.errors import MeterUnavailableError
from podium.power.meter import PollingMeter, Reading
from podium.power.samples import MeterInfo

DEFAULT_POWERCAP = Path("/sys/class/powercap")


def _read_int(path: Path) -> int:
    """One integer file of the powercap tree, with the error a user can act on."""
    try:
        return int(path.read_text().strip())
    except PermissionError as exc:
        raise MeterUnavailableError(
            f"{path}: permission denied; RAPL energy counters are readable only by root since Linux 5.10 "
            f"(run as root, or: sudo chmod a+r {path.parent}/energy_uj)") from exc
    except FileNotFoundError as exc:
        raise MeterUnavailableError(f"{path}: missing; expected a RAPL powercap zone file") from exc
    except (OSError, ValueError) as exc:
        raise MeterUnavailableError(f"{path}: unreadable as an integer ({exc})") from exc


@dataclass
class RaplDomain:
    """One counter: its folder, name (``package-0``, ``dram``), wrap range, and unwrapped running total."""

    path: Path
    name: str
    max_range_uj: int
    last_uj: int | None = None
    total_uj: int = 0
    wraps: int = 0

    def read_uj(self) -> int:
        """The counter now, unwrapped: microjoules since this domain was first read."""
        raw = _read_int(self.path / "energy_uj")
        if self.last_uj is not None:
            delta = raw - self.last_uj
            if delta < 0:  # the counter passed max_energy_range_uj and restarted from 0
                delta += self.max_range_uj
                self.wraps += 1
            self.total_uj += delta
        self.last_uj = raw
        return self.total_uj


def find_domains(root: Path = DEFAULT_POWERCAP, include_dram: bool = True) -> list[RaplDomain]:
    """The package zones under ``root`` and, if asked, their ``dram`` sub-zones (sorted, stable)."""
    if not root.is_dir():
        raise MeterUnavailableError(f"{root}: no powercap folder; RAPL needs Linux with the intel_rapl "
                                    "(or amd energy) powercap driver")
    domains: list[RaplDomain] = []
    for zone in sorted(p for p in root.iterdir() if re.fullmatch(r"intel-rapl:\d+", p.name)):
        candidates = [zone]
        if include_dram:
            candidates += sorted(p for p in zone.iterdir() if re.fullmatch(r"intel-rapl:\d+:\d+", p.name))
        for path in candidates:
            name_file = path / "name"
            name = name_file.read_text().strip() if name_file.is_file() else path.name
            if path is not zone and name != "dram":
                continue  # core/uncore are inside the package figure already
            domains.append(RaplDomain(path, name, _read_int(path / "max_energy_range_uj")))
    if not domains:
        raise MeterUnavailableError(f"{root}: no intel-rapl:<n> zones; this CPU or kernel exposes no RAPL "
                                    "counters")
    return domains


class RaplMeter(PollingMeter):
    """Sum of the package (and DRAM) energy counters, read every ``interval_s``."""

    kind = "rapl"

    def __init__(self, root: Path | str = DEFAULT_POWERCAP, include_dram: bool = True, interval_s: float = 0.1,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(interval_s, clock_ns)
        self.root = Path(root)
        self.domains = find_domains(self.root, include_dram)
        for d in self.domains:
            d.read_uj()  # fail now (permissions) rather than at the run's start
        self._info = MeterInfo(
            kind="rapl", name="RAPL " + "+".join(d.name for d in self.domains), interval_ms=interval_s * 1000,
            scope="CPU package" + (" and DRAM" if any(d.name == "dram" for d in self.domains) else "")
            + " energy (RAPL model estimate)",
            labels=["RAPL: CPU package/DRAM energy only, not the system's wall power; not an MLPerf power "
                    "measurement"],
            clock_offset={"offset_ms": 0.0, "uncertainty_ms": 0.0, "method": "same host clock"},
            details={"domains": [str(d.path) for d in self.domains]})

    @property
    def info(self) -> MeterInfo:
        self._info.details["wraps"] = {d.name + "@" + d.path.name: d.wraps for d in self.domains}
        return self._info

    def read(self) -> Reading:
        totals = [d.read_uj() for d in self.domains]
        return Reading(watts=None, energy_j=sum(totals) / 1e6)
