"""Power samples, what a meter says about itself, and the ``spl.txt`` line form.

Time stamps: PTDaemon stamps its samples ``MM-DD-YYYY HH:MM:SS.mmm`` (month first, UTC when run as the
MLCommons power server runs it), the same layout LoadGen uses for ``power_begin``/``power_end``; the v2.1
submission checker parses both with ``%m-%d-%Y %H:%M:%S.%f``. (The power-dev README shows a day-first
example, ``28-12-2020``; the checker, PTDaemon's own RL replies and power-dev's test data are month-first,
and a day-first stamp with a day over 12 would crash the checker, so podium writes month-first.)
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from podium.power.errors import PowerError

#: The value PTDaemon writes for a quantity the analyzer does not report (e.g. volts of a summed channel).
UNKNOWN = -1.0

_STAMP_RE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def format_stamp(wall_ns: int) -> str:
    """``MM-DD-YYYY HH:MM:SS.mmm`` in UTC, milliseconds truncated (as LoadGen's power stamps)."""
    secs, rem = divmod(int(wall_ns), 1_000_000_000)
    return time.strftime("%m-%d-%Y %H:%M:%S", time.gmtime(secs)) + ".%03d" % (rem // 1_000_000)


def parse_stamp(text: str, where: str = "time stamp") -> int:
    """A ``MM-DD-YYYY HH:MM:SS[.ffffff]`` UTC stamp as integer epoch nanoseconds (exact, no float)."""
    m = _STAMP_RE.match(text.strip())
    if not m:
        raise PowerError(f"{where}: {text!r} is not a MM-DD-YYYY HH:MM:SS.mmm time stamp")
    month, day, year, hh, mm, ss = (int(g) for g in m.groups()[:6])
    frac = (m.group(7) or "0").ljust(6, "0")
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise PowerError(f"{where}: {text!r} has month {month} / day {day}; expected month first (MM-DD-YYYY)")
    secs = calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0))
    return secs * 1_000_000_000 + int(frac) * 1_000


def stamp_ms(wall_ns: int) -> int:
    """Epoch milliseconds as a stamp written with ``format_stamp`` carries them (truncated)."""
    return int(wall_ns) // 1_000_000


@dataclass(frozen=True)
class PowerSample:
    """One meter reading: when (UTC epoch ns, in the meter's clock) and the power at that time.

    ``energy_j`` is the meter's cumulative energy counter (NVML, RAPL) where it has one; ``channels`` the
    per-device watts (e.g. one value per GPU) whose sum is ``watts``.
    """

    wall_ns: int
    watts: float
    volts: float = UNKNOWN
    amps: float = UNKNOWN
    pf: float = UNKNOWN
    energy_j: float | None = None
    channels: tuple[float, ...] = ()


@dataclass
class MeterInfo:
    """What a meter is, for the result files: kind, identity, and whether its readings are real."""

    kind: str
    name: str
    simulated: bool = False
    address: str | None = None
    identify: str | None = None
    interval_ms: float | None = None
    scope: str = "wall power of the system under test"
    labels: list[str] = field(default_factory=list)
    clock_offset: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_any(cls, value: "MeterInfo | dict[str, Any] | None") -> "MeterInfo":
        """Accept a ``MeterInfo``, its ``to_dict()`` form, or None (an unnamed meter)."""
        if value is None:
            return cls(kind="unknown", name="unknown meter")
        if isinstance(value, MeterInfo):
            return value
        known = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        known.setdefault("kind", "unknown")
        known.setdefault("name", str(known["kind"]))
        return cls(**known)


def _f(value: float) -> str:
    return "%f" % value


def format_sample_line(sample: PowerSample) -> str:
    """A sample as PTDaemon's ``RL`` reply lines carry it: ``Time,<stamp>,Watts,<w>,Volts,<v>,Amps,<a>,PF,<pf>``."""
    return (f"Time,{format_stamp(sample.wall_ns)},Watts,{_f(sample.watts)},Volts,{_f(sample.volts)},"
            f"Amps,{_f(sample.amps)},PF,{_f(sample.pf)}")


def format_spl_line(sample: PowerSample, mark: str) -> str:
    """One ``spl.txt`` line: the sample line then ``,Mark,<mark>``."""
    return f"{format_sample_line(sample)},Mark,{mark}"


def check_mark(mark: str) -> str:
    """Marks end up as one comma-separated field: only letters, digits, ``-`` and ``_`` (power-dev's rule)."""
    if not mark or not re.fullmatch(r"[A-Za-z0-9_-]+", mark):
        raise PowerError(f"power mark {mark!r}: expected letters, digits, '-' or '_' only")
    return mark


def write_spl(path: Path, samples: Iterable[PowerSample], mark: str) -> Path:
    """Write ``spl.txt`` (every sample of the run's mark, time order, LF line ends)."""
    check_mark(mark)
    lines = [format_spl_line(s, mark) for s in sorted(samples, key=lambda s: s.wall_ns)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def parse_spl_line(line: str, where: str = "spl.txt") -> tuple[PowerSample, str | None]:
    """A ``Time,…,Watts,…`` line (spl.txt or a PTDaemon RL reply) as a sample and its mark (None if absent).

    Multi-channel lines carry ``Ch<n>,Watts,…`` groups after the mark; their watts become ``channels``.
    """
    parts = line.rstrip("\r\n").split(",")
    if len(parts) < 4 or parts[0] != "Time" or parts[2] != "Watts":
        raise PowerError(f"{where}: {line.strip()!r} is not a 'Time,<stamp>,Watts,<w>,…' power sample line")
    wall_ns = parse_stamp(parts[1], where)
    fields: dict[str, str] = {}
    mark = None
    channel_watts: list[str] = []
    in_channel = False
    i = 2
    while i < len(parts):
        key = parts[i]
        if re.fullmatch(r"Ch\d+", key):
            in_channel = True
            i += 1
            continue
        value = parts[i + 1] if i + 1 < len(parts) else ""
        if in_channel:
            if key == "Watts":
                channel_watts.append(value)
        elif key == "Mark":
            mark = value
        elif key not in fields:
            fields[key] = value
        i += 2
    try:
        channels = [float(w) for w in channel_watts]
        watts = float(fields["Watts"])
        sample = PowerSample(wall_ns=wall_ns, watts=watts, volts=float(fields.get("Volts", UNKNOWN)),
                             amps=float(fields.get("Amps", UNKNOWN)), pf=float(fields.get("PF", UNKNOWN)),
                             channels=tuple(channels))
    except ValueError as exc:
        raise PowerError(f"{where}: {line.strip()!r} has a non-numeric value ({exc})") from exc
    return sample, mark


def read_spl(path: Path) -> list[tuple[PowerSample, str | None]]:
    """Every sample line of an ``spl.txt`` (blank lines skipped), with its mark."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PowerError(f"{path}: cannot read the power log ({exc.strerror})") from exc
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append(parse_spl_line(line, f"{path}:{n}"))
    return out
