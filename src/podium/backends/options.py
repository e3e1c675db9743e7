"""Coercion of backend options that may arrive as strings (from a command line or a settings file)."""

from __future__ import annotations

from typing import Any

from podium.backends.base import BackendError


def as_int(value: Any, field: str, *, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum``; ``field`` names the option in the error message."""
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise BackendError(f"backend option {field}: expected an integer, got {value!r}") from None
    if number < minimum:
        raise BackendError(f"backend option {field}: expected an integer >= {minimum}, got {number}")
    return number


def as_str_list(value: Any, field: str) -> list[str]:
    """A list of strings from a list/tuple or a comma-separated string."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise BackendError(f"backend option {field}: expected a list of names, got {value!r}")
    if not items:
        raise BackendError(f"backend option {field}: expected at least one name")
    return items
