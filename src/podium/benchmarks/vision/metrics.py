"""The pass rule the MLPerf submission checker applies to a printed accuracy line."""

from __future__ import annotations


def checker_passes(value: float, target: float, decimals: int = 3) -> bool:
    """Whether ``value`` passes as the checker sees it: it reads the number back from the line printed with
    ``decimals`` places, so 75.69545 (printed 75.695) fails a 75.6954 target although it is above it."""
    return float(f"{value:.{decimals}f}") >= target
