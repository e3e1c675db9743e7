"""Facts of SPEC PTDaemon's TCP protocol as the MLCommons power tooling uses it, and reply parsers.

Lines are ASCII, one command per line, answered by one line (``RL`` by a count line then that many sample
lines); both sides end lines with CR LF. The commands and their normal replies:

- ``Hello`` -> ``Hello, PTDaemon here!``
- ``Identify`` -> comma fields: analyzer driver/model, averaging interval (ms), capability flags,
  ``version=<x.y.z>-<crc>-<yyyymmdd>``, ``OS=…``, ``mode=power``, … (power-dev reads the model from the first
  field and the version from ``version=``)
- ``RR`` -> ``Ranges,<amp autorange>,<amp range>,<volt autorange>,<volt range>`` (autorange 1/0, -1 unknown)
- ``SR,V,<volts|Auto>`` -> ``Range V changed``; ``SR,A,<amps|Auto>`` -> ``Range A changed``
- ``Go,<interval ms>,<samples (0 = untimed)>,<mark>`` -> ``Starting untimed measurement, maximum 500000
  samples at <interval>ms with 0 rampup samples``
- ``Stop`` -> ``Stopping untimed measurement`` (or ``Error: no measurement to stop``)
- ``Watts`` -> ``Watts,<avg>,<min>,<max>,<samples>,<errors>,<valid samples>`` since ``Go``
- ``Uncertainty`` -> ``Uncertainty,<avg>,<min>,<max>,<total>,<invalid>,<valid>,<unknown>``
- ``RL[,<n>|,*]`` -> ``Last <n> samples`` then n lines ``Time,<MM-DD-YYYY HH:MM:SS.mmm>,Watts,<w>,Volts,<v>,
  Amps,<a>,PF,<pf>``; with no unread sample it waits one sampling interval for one, then says
  ``No unread samples``.
The official flow (power-dev ``server.py``): Hello, Identify, RR (initial ranges); ranging run with
``SR,V,Auto``/``SR,A,Auto`` and mark ``<session>_ranging``; testing run with ``SR,V,<max volts>``/
``SR,A,<max amps>`` seen while ranging and mark ``<session>_testing``; at the end the initial ranges are
set back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.power.errors import PtdReplyError

HELLO_REPLY = "Hello, PTDaemon here!"
RANGE_V_REPLY = "Range V changed"
RANGE_A_REPLY = "Range A changed"
STOP_REPLY = "Stopping untimed measurement"
NO_MEASUREMENT_REPLY = "Error: no measurement to stop"
NO_UNREAD_REPLY = "No unread samples"
DEFAULT_PORT = 8888


def go_reply(interval_ms: int) -> str:
    """PTDaemon's answer to ``Go,<interval>,0,<mark>``."""
    return f"Starting untimed measurement, maximum 500000 samples at {interval_ms}ms with 0 rampup samples"


def is_error_reply(reply: str) -> bool:
    """PTDaemon error replies start with ``Error`` / ``Invalid`` / ``Unknown command``."""
    return reply.startswith(("Error", "Invalid", "Unknown command", "ERROR"))


@dataclass(frozen=True)
class Ranges:
    """``RR``: amp and volt autorange flags (1 on, 0 off, -1 unknown) and ranges (-1 unknown)."""

    amp_auto: int
    amp_range: float
    volt_auto: int
    volt_range: float

    def initial_setting(self, which: str) -> str:
        """What power-dev sets back at the end: the fixed range if autorange was off, else ``Auto``."""
        auto, rng = (self.amp_auto, self.amp_range) if which == "A" else (self.volt_auto, self.volt_range)
        return _num(rng) if auto == 0 and rng > 0 else "Auto"


def _num(x: float) -> str:
    return ("%f" % x).rstrip("0").rstrip(".")


def parse_ranges(reply: str) -> Ranges:
    parts = reply.split(",")
    try:
        if parts[0] != "Ranges":
            raise ValueError(parts[0])
        return Ranges(int(float(parts[1])), float(parts[2]), int(float(parts[3])), float(parts[4]))
    except (ValueError, IndexError) as exc:
        raise PtdReplyError(f"PTDaemon: 'RR' answered {reply!r}; expected 'Ranges,<ampauto>,<amps>,<voltauto>,<volts>'"
                            ) from exc


@dataclass(frozen=True)
class WattsStats:
    """``Watts``: PTDaemon's own statistics since ``Go``."""

    average: float
    minimum: float
    maximum: float
    samples: int
    errors: int
    valid: int


def parse_watts(reply: str) -> WattsStats:
    parts = reply.split(",")
    try:
        if parts[0] != "Watts":
            raise ValueError(parts[0])
        return WattsStats(float(parts[1]), float(parts[2]), float(parts[3]), int(float(parts[4])),
                          int(float(parts[5])), int(float(parts[6])))
    except (ValueError, IndexError) as exc:
        raise PtdReplyError(f"PTDaemon: 'Watts' answered {reply!r}; expected 'Watts,<avg>,<min>,<max>,<n>,<errors>,"
                            "<valid>'") from exc


@dataclass(frozen=True)
class UncertaintyStats:
    """``Uncertainty``: the analyzer's measurement uncertainty (fractions) over the samples since ``Go``."""

    average: float
    minimum: float
    maximum: float
    total: int
    invalid: int
    valid: int
    unknown: int


def parse_uncertainty(reply: str) -> UncertaintyStats:
    parts = reply.split(",")
    try:
        if parts[0] != "Uncertainty":
            raise ValueError(parts[0])
        return UncertaintyStats(float(parts[1]), float(parts[2]), float(parts[3]), int(float(parts[4])),
                                int(float(parts[5])), int(float(parts[6])), int(float(parts[7])))
    except (ValueError, IndexError) as exc:
        raise PtdReplyError(f"PTDaemon: 'Uncertainty' answered {reply!r}; expected 'Uncertainty,<avg>,<min>,<max>,"
                            "<total>,<invalid>,<valid>,<unknown>'") from exc


_LAST_RE = re.compile(r"^Last (\d+) samples?\b")


def parse_rl_header(reply: str) -> int:
    """The sample count of an ``RL`` reply's first line (0 for 'No unread samples')."""
    m = _LAST_RE.match(reply)
    if m:
        return int(m.group(1))
    if re.match(r"^(No|Insufficient) unread", reply):
        return 0
    raise PtdReplyError(f"PTDaemon: 'RL' answered {reply!r}; expected 'Last <n> samples' or 'No unread samples'")


def identify_fields(reply: str) -> dict[str, str]:
    """The parts of an ``Identify`` reply power-dev and SPEC tools read: model and version."""
    parts = reply.split(",")
    out = {"model": parts[0] if parts else ""}
    m = re.search(r"version=([^,]+)", reply)
    if m:
        out["version"] = m.group(1)
    return out
