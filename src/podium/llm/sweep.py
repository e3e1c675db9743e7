"""A sweep: load points in order (fixed concurrency, or LoadGen Server rates), stopped early once the server
is saturated when the levels were chosen automatically, with the Pareto front of the points.

``run_sweep`` takes the measuring as a callable, so the same loop serves both load modes; it is called from
one thread and blocks until the last point ends. After each point ``on_point`` gets the points so far, so a
caller can save them at once: an interruption keeps every finished point.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from podium.llm.metrics import pareto_front

#: auto sweeps stop after this many points in a row that raise system tokens/s by less than ...
SATURATED_POINTS = 2
#: ... this share over the best point so far
SATURATED_GAIN = 0.03


def saturated(points: Sequence[dict[str, Any]]) -> bool:
    """Whether the last points show the server saturated (no more throughput from more load)."""
    if len(points) <= SATURATED_POINTS:
        return False
    best_before = max(p.get("system_tps") or 0.0 for p in points[:-SATURATED_POINTS])
    return all((p.get("system_tps") or 0.0) < best_before * (1 + SATURATED_GAIN) for p in points[-SATURATED_POINTS:])


def run_sweep(values: Sequence[float], measure: Callable[[float], dict[str, Any]], *, auto: bool,
              on_point: Callable[[list[dict[str, Any]]], None] | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Measure each value in order; returns the points and why the sweep stopped early (None: it did not)."""
    points: list[dict[str, Any]] = []
    for v in values:
        point = measure(v)
        points.append(point)
        if on_point is not None:
            on_point(points)
        if point.get("requests") and point.get("failed") == point.get("requests"):
            return points, f"every request of the point at {v:g} failed: {point.get('first_error')}"
        if auto and saturated(points):
            return points, (f"saturated: the last {SATURATED_POINTS} points raised system tokens/s by less than "
                            f"{100 * SATURATED_GAIN:g} %")
    return points, None


def summarize(points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The sweep's summary: its points, the Pareto front's indices, and ``extra`` (title, labels, ...)."""
    front = pareto_front(points)
    for i, p in enumerate(points):
        p["pareto"] = i in front
    return {**extra, "points": points, "pareto": front}
