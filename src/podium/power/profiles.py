"""Watts profiles for the PTDaemon simulator: power as a function of seconds since ``Go``.

Spec strings (``podium power simulate --profile …``): ``120`` or ``constant:120``;
``steps:0=100,0.5=200,2=150`` (from each time on, that many watts); ``sine:mean=150,amp=20,period=2``;
``ramp:from=100,to=200,over=10`` (linear, then flat).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Callable, Protocol

from podium.power.errors import PowerError


class WattsProfile(Protocol):
    """Watts at ``t_s`` seconds after the measurement started."""

    def __call__(self, t_s: float) -> float: ...


@dataclass(frozen=True)
class ConstantProfile:
    """The same watts at all times."""

    watts: float

    def __call__(self, t_s: float) -> float:
        return self.watts


@dataclass(frozen=True)
class StepProfile:
    """``steps``: (from time s, watts) pairs; before the first time, the first watts."""

    steps: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise PowerError("steps profile: expected at least one time=watts step")
        if list(self.steps) != sorted(self.steps):
            raise PowerError("steps profile: step times must increase")

    def __call__(self, t_s: float) -> float:
        times = [t for t, _ in self.steps]
        i = bisect.bisect_right(times, t_s) - 1
        return self.steps[max(i, 0)][1]


@dataclass(frozen=True)
class SineProfile:
    """``mean + amp * sin(2 pi t / period)``."""

    mean: float
    amp: float
    period_s: float

    def __call__(self, t_s: float) -> float:
        return self.mean + self.amp * math.sin(2 * math.pi * t_s / self.period_s)


@dataclass(frozen=True)
class RampProfile:
    """Linear from ``start`` to ``end`` watts over ``over_s`` seconds, then ``end``."""

    start: float
    end: float
    over_s: float

    def __call__(self, t_s: float) -> float:
        if t_s >= self.over_s:
            return self.end
        return self.start + (self.end - self.start) * max(t_s, 0.0) / self.over_s


@dataclass(frozen=True)
class FunctionProfile:
    """Any function of time (the API's escape hatch)."""

    fn: Callable[[float], float]

    def __call__(self, t_s: float) -> float:
        return float(self.fn(t_s))


def _kv(body: str, spec: str, keys: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in body.split(","):
        if "=" not in part:
            raise PowerError(f"profile {spec!r}: expected key=value pairs ({', '.join(keys)})")
        k, v = part.split("=", 1)
        out[k.strip()] = float(v)
    missing = [k for k in keys if k not in out]
    if missing:
        raise PowerError(f"profile {spec!r}: missing {', '.join(missing)}")
    return out


def parse_profile(spec: str) -> WattsProfile:
    """A profile from its spec string (see the module doc)."""
    text = spec.strip()
    kind, _, body = text.partition(":")
    try:
        if not body:
            return ConstantProfile(float(kind))
        if kind == "constant":
            return ConstantProfile(float(body))
        if kind == "steps":
            steps = []
            for part in body.split(","):
                t, _, w = part.partition("=")
                steps.append((float(t), float(w)))
            return StepProfile(tuple(steps))
        if kind == "sine":
            kv = _kv(body, spec, ("mean", "amp", "period"))
            if kv["period"] <= 0:
                raise PowerError(f"profile {spec!r}: period must be positive")
            return SineProfile(kv["mean"], kv["amp"], kv["period"])
        if kind == "ramp":
            kv = _kv(body, spec, ("from", "to", "over"))
            if kv["over"] <= 0:
                raise PowerError(f"profile {spec!r}: 'over' must be positive")
            return RampProfile(kv["from"], kv["to"], kv["over"])
    except ValueError as exc:
        raise PowerError(f"profile {spec!r}: not a number ({exc})") from exc
    raise PowerError(f"profile {spec!r}: expected <watts>, constant:<w>, steps:<t>=<w>,…, "
                     "sine:mean=,amp=,period= or ramp:from=,to=,over=")
