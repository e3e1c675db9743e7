"""Parsing shared by several subcommands."""

from __future__ import annotations

from typing import Any

from podium.errors import PodiumError


def backend_options(items: list[str]) -> dict[str, Any]:
    """``["intra_op_threads=2", ...]`` from repeated ``--backend-option KEY=VALUE`` into a dict."""
    opts: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise PodiumError(f"--backend-option {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        opts[k.strip()] = v.strip()
    return opts
