"""Per-request LLM timings and the figures of a load point: system tokens/s, tokens/s per user, TTFT and
TPOT percentiles, and goodput against the user's SLOs.

Definitions (as MLPerf Endpoints and the LLM serving tools use them): TTFT from the request's issue to its
first non-empty content fragment; TPOT = (end − first fragment) / (output tokens − 1); system tokens/s =
output tokens of successful requests / the point's duration; tokens/s per user = 1000 / TPOT p90 (ms);
goodput = the share of requests (failed ones count against it) that met every SLO given, and that many per
second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from podium.errors import PodiumError


@dataclass(frozen=True)
class RequestTiming:
    """One request as the client saw it (ms; None where it never happened)."""

    ok: bool
    ttft_ms: float | None
    tpot_ms: float | None
    e2e_ms: float | None
    output_tokens: int


@dataclass(frozen=True)
class SLO:
    """Service-level objectives a request must all meet to count as good (None: not asked)."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2e_ms: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.ttft_ms, self.tpot_ms, self.e2e_ms))

    def met(self, r: RequestTiming) -> bool:
        if not r.ok:
            return False
        for limit, value in ((self.ttft_ms, r.ttft_ms), (self.tpot_ms, r.tpot_ms), (self.e2e_ms, r.e2e_ms)):
            if limit is not None and (value is None or value > limit):
                return False
        return True

    def text(self) -> str:
        parts = [f"{n} <= {v:g} ms" for n, v in (("TTFT", self.ttft_ms), ("TPOT", self.tpot_ms),
                                                  ("E2E", self.e2e_ms)) if v is not None]
        return ", ".join(parts) or "none"

    def to_json(self) -> dict[str, float | None]:
        return {"ttft_ms": self.ttft_ms, "tpot_ms": self.tpot_ms, "e2e_ms": self.e2e_ms}


def parse_slo(text: str | None) -> SLO:
    """``ttft=500,tpot=50[,e2e=10000]`` (ms) -> ``SLO``; a mistake is one line naming ``--slo``."""
    if not text:
        return SLO()
    vals: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower().removesuffix("_ms")
        try:
            v = float(value)
        except ValueError:
            v = -1.0
        if not sep or key not in ("ttft", "tpot", "e2e") or not v > 0:
            raise PodiumError(f"--slo {text}: expected ttft=MS,tpot=MS[,e2e=MS] with positive numbers")
        vals[key] = v
    return SLO(vals.get("ttft"), vals.get("tpot"), vals.get("e2e"))


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    """p50/p90/p99 and mean of ``values`` (None when empty)."""
    if not values:
        return None
    a = np.asarray(values, dtype=np.float64)
    return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
            "p99": float(np.percentile(a, 99)), "mean": float(a.mean())}


def point_figures(requests: Sequence[RequestTiming], duration_s: float, slo: SLO) -> dict[str, Any]:
    """The figures of one load point (see the module docstring)."""
    good = [r for r in requests if r.ok]
    tokens = sum(r.output_tokens for r in good)
    ttft = percentiles([r.ttft_ms for r in good if r.ttft_ms is not None])
    tpot = percentiles([r.tpot_ms for r in good if r.tpot_ms is not None])
    e2e = percentiles([r.e2e_ms for r in good if r.e2e_ms is not None])
    dur = max(duration_s, 1e-9)
    out: dict[str, Any] = {
        "requests": len(requests), "failed": len(requests) - len(good), "duration_s": duration_s,
        "output_tokens": tokens, "system_tps": tokens / dur, "requests_per_s": len(good) / dur,
        "tps_per_user": 1000.0 / tpot["p90"] if tpot and tpot["p90"] > 0 else None,
        "ttft_ms": ttft, "tpot_ms": tpot, "e2e_ms": e2e, "slo": slo.to_json() if slo.given else None,
        "goodput": None, "goodput_rps": None,
    }
    if slo.given and requests:
        n_good = sum(1 for r in requests if slo.met(r))
        out["goodput"] = n_good / len(requests)
        out["goodput_rps"] = n_good / dur
    return out


def pareto_front(points: Sequence[dict[str, Any]], x: str = "tps_per_user", y: str = "system_tps") -> list[int]:
    """Indices of the points no other point beats on both ``x`` and ``y`` (higher is better), by ``x``."""
    idx = [i for i, p in enumerate(points) if isinstance(p.get(x), (int, float)) and isinstance(p.get(y), (int, float))]
    front = [i for i in idx if not any(points[j][x] >= points[i][x] and points[j][y] >= points[i][y]
                                       and (points[j][x] > points[i][x] or points[j][y] > points[i][y]) for j in idx)]
    return sorted(front, key=lambda i: points[i][x])


def concurrency_points(c_max: int, cap: int = 32, min_points: int = 7) -> list[int]:
    """Concurrency levels for ``--concurrency auto`` up to ``c_max``, after MLPerf Endpoints' scheme (rules
    §5): an ultra-low region (powers of two from 1 to 32), then three log-spaced regions from 32 up to
    ``c_max`` with a point inside and at the end of each; at least ``min_points`` levels when ``c_max``
    allows, at most ``cap``. (The rules' own ``compute_regions()`` was not at hand: this follows their text.)"""
    if c_max < 1:
        raise PodiumError(f"--max-concurrency: expected an integer >= 1, got {c_max}")
    pts: set[int] = set()
    k = 1
    while k <= min(32, c_max):
        pts.add(k)
        k *= 2
    pts.add(min(32, c_max))
    if c_max > 32:
        edges = np.geomspace(32, c_max, 4)
        for lo, hi in zip(edges[:-1], edges[1:]):
            pts.update(int(round(v)) for v in np.geomspace(lo, hi, 3)[1:])
    if len(pts) < min_points:
        pts.update(int(round(v)) for v in np.geomspace(1, c_max, min(min_points, c_max)))
    out = sorted(p for p in pts if 1 <= p <= c_max)
    if len(out) > cap:
        keep = np.unique(np.rint(np.linspace(0, len(out) - 1, cap)).astype(int))
        out = [out[i] for i in keep]
    return out
