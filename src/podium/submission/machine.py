"""Facts about this machine, read from ``/proc``, ``/sys``, ``/etc/os-release``, NVML and installed packages.

Every probe returns None for what it cannot read; nothing is guessed. ``Machine(root=...)`` reads another
file-system root (tests use a fake one); ``nvml`` is the ``pynvml`` module (package ``nvidia-ml-py``,
optional) or None to skip accelerators.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_BLOCK_SKIP = re.compile(r"^(loop|ram|zram|dm-|sr|fd|md|nbd)")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def human_bytes(n: float, binary: bool = True) -> str:
    """``n`` bytes as "1.5 TiB" (binary) or "1.6 TB" (decimal), without trailing ".0"."""
    base = 1024.0 if binary else 1000.0
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] if binary else ["B", "KB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= base and i < len(units) - 1:
        n /= base
        i += 1
    text = f"{n:.1f}".rstrip("0").rstrip(".")
    return f"{text} {units[i]}"


def _cache_bytes(size: str) -> int | None:
    m = re.match(r"^(\d+)\s*([KMG]?)", size)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[m.group(2)]


@dataclass
class Accelerator:
    """One accelerator as NVML reports it."""

    name: str
    memory_bytes: int | None = None
    max_sm_clock_mhz: int | None = None
    max_memory_clock_mhz: int | None = None
    pcie: str | None = None
    nvlinks_active: int = 0


@dataclass
class AcceleratorInfo:
    """What NVML said: devices, driver and CUDA versions, or why it could not say."""

    devices: list[Accelerator] = field(default_factory=list)
    driver: str | None = None
    cuda: str | None = None
    error: str | None = None


class Machine:
    """Probes of one machine (``root`` = the file-system root to read ``/proc``, ``/sys`` and ``/etc`` from)."""

    def __init__(self, root: str | Path = "/", nvml: Any = "auto") -> None:
        self.root = Path(root)
        if nvml == "auto":
            try:
                import pynvml  # nvidia-ml-py: optional

                nvml = pynvml
            except ImportError:
                nvml = None
        self.nvml = nvml
        self._cpuinfo: list[dict[str, str]] | None = None

    # ---- CPU ---------------------------------------------------------------------------------------------
    def cpuinfo(self) -> list[dict[str, str]]:
        """``/proc/cpuinfo`` as one dict per logical CPU."""
        if self._cpuinfo is None:
            text = _read(self.root / "proc/cpuinfo") or ""
            blocks: list[dict[str, str]] = []
            for block in text.split("\n\n"):
                d = {}
                for line in block.splitlines():
                    if ":" in line:
                        k, v = line.split(":", 1)
                        d[k.strip()] = v.strip()
                if d:
                    blocks.append(d)
            self._cpuinfo = blocks
        return self._cpuinfo

    def cpu_model(self) -> str | None:
        for cpu in self.cpuinfo():
            if cpu.get("model name"):
                return cpu["model name"]
        return None

    def sockets(self) -> int | None:
        ids = {cpu["physical id"] for cpu in self.cpuinfo() if "physical id" in cpu}
        if ids:
            return len(ids)
        pkgs = {_read(p) for p in (self.root / "sys/devices/system/cpu").glob("cpu[0-9]*/topology/physical_package_id")}
        pkgs.discard(None)
        return len(pkgs) or None

    def cores_per_socket(self) -> int | None:
        for cpu in self.cpuinfo():
            if cpu.get("cpu cores", "").isdigit():
                return int(cpu["cpu cores"])
        return None

    def logical_cpus(self) -> int | None:
        return len(self.cpuinfo()) or None

    def cpu_frequency(self) -> str | None:
        """Maximum frequency from cpufreq, else the current one from /proc/cpuinfo (said so)."""
        khz = _read(self.root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        if khz and khz.isdigit():
            return f"{int(khz) // 1000} MHz"
        for cpu in self.cpuinfo():
            if cpu.get("cpu MHz"):
                try:
                    return f"{float(cpu['cpu MHz']):.0f} MHz (current; cpufreq maximum not exposed)"
                except ValueError:
                    return None
        return None

    def caches(self) -> str | None:
        """Cache sizes summed over instances, e.g. "L1d 64 KiB (2 instances), ..., L3 32 MiB (1 instance)"."""
        per: dict[str, tuple[int, set[str]]] = {}
        order: list[str] = []
        for idx in sorted((self.root / "sys/devices/system/cpu").glob("cpu[0-9]*/cache/index[0-9]*")):
            level, ctype, size = (_read(idx / n) for n in ("level", "type", "size"))
            shared = _read(idx / "shared_cpu_list") or idx.parent.parent.name
            if not level or not size:
                continue
            name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(ctype or "", "")
            nbytes = _cache_bytes(size)
            if nbytes is None:
                continue
            if name not in per:
                per[name] = (nbytes, set())
                order.append(name)
            per[name][1].add(shared)
        if not per:
            return None
        parts = []
        for name in sorted(order):
            nbytes, instances = per[name]
            n = len(instances)
            parts.append(f"{name} {human_bytes(nbytes * n)} ({n} instance{'s' if n != 1 else ''})")
        return ", ".join(parts)

    # ---- memory, storage, OS, network --------------------------------------------------------------------
    def memory_bytes(self) -> int | None:
        for line in (_read(self.root / "proc/meminfo") or "").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
        return None

    def disks(self) -> list[tuple[str, int, str]]:
        """(device, bytes, kind) of each physical-looking block device; kind is NVMe SSD, SSD or HDD as the
        kernel reports rotation."""
        out = []
        for dev in sorted((self.root / "sys/block").glob("*")):
            if _BLOCK_SKIP.match(dev.name):
                continue
            sectors = _read(dev / "size")
            if not sectors or not sectors.isdigit() or int(sectors) == 0:
                continue
            rot = _read(dev / "queue/rotational")
            kind = "NVMe SSD" if dev.name.startswith("nvme") else ("HDD" if rot == "1" else "SSD")
            out.append((dev.name, int(sectors) * 512, kind))
        return out

    def operating_system(self) -> str | None:
        text = _read(self.root / "etc/os-release") or ""
        m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.M)
        name = m.group(1) if m else None
        kernel = _read(self.root / "proc/sys/kernel/osrelease")
        if name and kernel:
            return f"{name} (Linux kernel {kernel})"
        return name or (f"Linux kernel {kernel}" if kernel else None)

    def network_interfaces(self) -> list[tuple[str, int | None]]:
        """(interface, speed in Mb/s or None) of the physical-looking interfaces."""
        out = []
        for nic in sorted((self.root / "sys/class/net").glob("*")):
            if nic.name == "lo" or not (nic / "device").exists():
                continue
            speed = _read(nic / "speed")
            out.append((nic.name, int(speed) if speed and speed.lstrip("-").isdigit() and int(speed) > 0 else None))
        return out

    # ---- accelerators ------------------------------------------------------------------------------------
    def accelerators(self) -> AcceleratorInfo:
        """NVIDIA GPUs through NVML (``nvidia-ml-py``); an empty list with ``error`` when NVML is unusable."""
        nv = self.nvml
        if nv is None:
            return AcceleratorInfo(error="nvidia-ml-py not installed")
        try:
            nv.nvmlInit()
        except Exception as exc:  # NVMLError subclasses: no driver / library on this machine
            return AcceleratorInfo(error=f"NVML unavailable ({exc})")
        info = AcceleratorInfo()
        try:
            info.driver = _text(_try(nv.nvmlSystemGetDriverVersion))
            cuda = _try(nv.nvmlSystemGetCudaDriverVersion)
            if isinstance(cuda, int):
                info.cuda = f"{cuda // 1000}.{cuda % 1000 // 10}"
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                dev = Accelerator(name=_text(nv.nvmlDeviceGetName(h)) or "unknown")
                mem = _try(nv.nvmlDeviceGetMemoryInfo, h)
                dev.memory_bytes = int(mem.total) if mem is not None else None
                dev.max_sm_clock_mhz = _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM)
                dev.max_memory_clock_mhz = _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_MEM)
                gen = _try(nv.nvmlDeviceGetMaxPcieLinkGeneration, h)
                width = _try(nv.nvmlDeviceGetMaxPcieLinkWidth, h)
                if gen and width:
                    dev.pcie = f"PCIe Gen{gen} x{width}"
                links = 0
                for link in range(getattr(nv, "NVML_NVLINK_MAX_LINKS", 18)):
                    state = _try(nv.nvmlDeviceGetNvLinkState, h, link)
                    if state is None:
                        break
                    links += int(bool(state))
                dev.nvlinks_active = links
                info.devices.append(dev)
        except Exception as exc:  # a device query the driver refuses: report what was read
            info.error = f"NVML query failed ({exc})"
        finally:
            _try(nv.nvmlShutdown)
        return info

    # ---- software ---------------------------------------------------------------------------------------
    @staticmethod
    def package_version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    @staticmethod
    def python_version() -> str:
        return platform.python_version()


def _try(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # NVML raises for queries a device does not support
        return None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    return v.decode() if isinstance(v, bytes) else str(v)
