"""Random quantities given as text (``50``, ``normal:50,5``, ``uniform:40,60``, ``lognormal:50,20``,
``exp:50``), drawn deterministically from a seeded numpy generator.

Used where a user describes a population rather than one value: the simulated LLM server's TTFT, TPOT and
output lengths (``podium serve --llm sim``), and synthetic prompts' input and output lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podium.errors import PodiumError

_KINDS = {"const": 1, "uniform": 2, "normal": 2, "lognormal": 2, "exp": 1}


@dataclass(frozen=True)
class Distribution:
    """A distribution of non-negative values: ``kind`` with its ``params`` (see the module docstring)."""

    kind: str
    params: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean before clipping at zero (normal) and rounding (lengths)."""
        if self.kind == "uniform":
            return (self.params[0] + self.params[1]) / 2
        return self.params[0]

    def sample(self, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
        """``n`` draws (one when None), never negative."""
        size = 1 if n is None else n
        p = self.params
        if self.kind == "const":
            out = np.full(size, p[0], dtype=np.float64)
        elif self.kind == "uniform":
            out = rng.uniform(p[0], p[1], size)
        elif self.kind == "normal":
            out = rng.normal(p[0], p[1], size)
        elif self.kind == "lognormal":
            # parameters are the values' own mean and standard deviation, as users think of lengths
            sigma2 = np.log1p((p[1] / p[0]) ** 2) if p[0] > 0 else 0.0
            out = rng.lognormal(np.log(p[0]) - sigma2 / 2 if p[0] > 0 else 0.0, np.sqrt(sigma2), size)
        else:
            out = rng.exponential(p[0], size)
        return np.maximum(out, 0.0)

    def spec(self) -> str:
        """The text form, as ``parse_distribution`` reads it."""
        nums = ",".join(f"{v:g}" for v in self.params)
        return nums if self.kind == "const" else f"{self.kind}:{nums}"


def parse_distribution(text: str, what: str) -> Distribution:
    """Read ``text``; a mistake is a one-line ``PodiumError`` naming ``what`` (the option or field)."""
    raw = str(text).strip()
    kind, sep, rest = raw.partition(":")
    if not sep:
        kind, rest = "const", raw
    kind = kind.strip().lower()
    expect = ("expected a number, or uniform:LOW,HIGH, normal:MEAN,SD, lognormal:MEAN,SD or exp:MEAN "
              "(non-negative numbers)")
    if kind not in _KINDS:
        raise PodiumError(f"{what} {raw!r}: unknown distribution {kind!r}; {expect}")
    try:
        params = tuple(float(v) for v in rest.split(","))
    except ValueError:
        raise PodiumError(f"{what} {raw!r}: {expect}") from None
    if len(params) != _KINDS[kind] or any(not np.isfinite(v) or v < 0 for v in params):
        raise PodiumError(f"{what} {raw!r}: {expect}")
    if kind == "uniform" and params[1] < params[0]:
        raise PodiumError(f"{what} {raw!r}: uniform:LOW,HIGH needs LOW <= HIGH")
    return Distribution(kind, params)
