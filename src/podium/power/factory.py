"""``make_meter(spec)``: the meter a ``--power`` value names.

- ``ptd://host[:port][?interval_ms=1000&poll_s=1&settle_s=10&probes=3]``: PTDaemon (port 8888 by default)
- ``sim[:<profile>]``: podium's PTDaemon simulator started in this process (dry runs; results are labelled
  SIMULATED), e.g. ``sim:constant:120``; ``?interval_ms=…`` as for ptd
- ``nvml[:0,1]``: NVIDIA GPU board power (all GPUs, or those listed)
- ``rapl[:/sys/class/powercap]``: CPU package and DRAM energy
- ``auto``: NVML if it works here, else RAPL, else none; ``none``: no meter ("power: not measured")
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from podium.power.errors import MeterUnavailableError, PowerError
from podium.power.meter import Meter
from podium.power.ptd_protocol import DEFAULT_PORT


def _query(text: str, spec: str, allowed: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, values in parse_qs(text, keep_blank_values=True).items():
        if key not in allowed:
            raise PowerError(f"--power {spec!r}: unknown option {key!r}; expected one of {', '.join(allowed)}")
        try:
            out[key] = float(values[-1])
        except ValueError as exc:
            raise PowerError(f"--power {spec!r}: option {key}={values[-1]!r} is not a number") from exc
    return out


_PTD_OPTIONS = ("interval_ms", "poll_s", "settle_s", "probes", "timeout_s")


def _ptd_kwargs(opts: dict[str, float]) -> dict[str, object]:
    kw: dict[str, object] = {}
    if "interval_ms" in opts:
        kw["interval_ms"] = int(opts["interval_ms"])
    if "poll_s" in opts:
        kw["poll_s"] = opts["poll_s"]
    if "settle_s" in opts:
        kw["settle_s"] = opts["settle_s"]
    if "probes" in opts:
        kw["offset_probes"] = int(opts["probes"])
    if "timeout_s" in opts:
        kw["timeout_s"] = opts["timeout_s"]
    return kw


def make_meter(spec: str) -> Meter | None:
    """The meter for a ``--power`` value (None for ``none``, or ``auto`` when nothing is available)."""
    from podium.power.nvml import NvmlMeter
    from podium.power.ptd_client import PtdMeter
    from podium.power.rapl import RaplMeter

    text = spec.strip()
    low = text.lower()
    if low in ("", "none", "off"):
        return None
    if low == "auto":
        return detect_meter()
    if low.startswith("ptd://"):
        parts = urlsplit(text)
        if not parts.hostname:
            raise PowerError(f"--power {spec!r}: expected ptd://<host>[:<port>]")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise PowerError(f"--power {spec!r}: the port is not a number 1..65535") from exc
        return PtdMeter(parts.hostname, port, **_ptd_kwargs(_query(parts.query, spec, _PTD_OPTIONS)))  # type: ignore[arg-type]
    if low == "sim" or low.startswith("sim:") or low.startswith("sim?"):
        from podium.power.profiles import parse_profile
        from podium.power.ptd_simulator import PtdSimulator, SimulatorConfig

        body, _, query = text[3:].lstrip(":").partition("?")
        config = SimulatorConfig(profile=parse_profile(body)) if body else SimulatorConfig()
        kwargs = _ptd_kwargs(_query(query, spec, _PTD_OPTIONS))
        sim = PtdSimulator(config).start()
        host, port = sim.address
        return PtdMeter(host, port, owned=sim, **kwargs)  # type: ignore[arg-type]
    if low == "nvml" or low.startswith("nvml:"):
        devices = None
        if ":" in text:
            try:
                devices = [int(x) for x in text.split(":", 1)[1].split(",") if x.strip()]
            except ValueError as exc:
                raise PowerError(f"--power {spec!r}: expected nvml:<gpu index>[,<gpu index>…]") from exc
        return NvmlMeter(devices)
    if low == "rapl" or low.startswith("rapl:"):
        root = text.split(":", 1)[1] if ":" in text else None
        return RaplMeter(Path(root)) if root else RaplMeter()
    raise PowerError(f"--power {spec!r}: expected ptd://host:port, sim[:profile], nvml[:gpus], rapl[:path], "
                     "auto or none")


def detect_meter() -> Meter | None:
    """The first meter that works here: NVML, then RAPL; None when neither does."""
    from podium.power.nvml import NvmlMeter
    from podium.power.rapl import RaplMeter

    for make in (NvmlMeter, RaplMeter):
        try:
            return make()
        except MeterUnavailableError:
            continue
    return None
