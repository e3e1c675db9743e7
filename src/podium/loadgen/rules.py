"""The benchmark rounds podium's LoadGen reproduces, and what each round changes in it, kept as data.

A round fixes two things: the LoadGen behaviour (round v2.1 ran LoadGen 2.1; rounds v6.0 and v6.1 run
LoadGen 6.0.x, whose published build 6.0.17 podium reproduces) and the built-in ``mlperf.conf`` (seeds, minimum
query counts, equal-issue and token-latency keys per model), which the official package compiles in. Scenarios,
logs and settings files consult a ``RoundRules`` instead of hard-coding round behaviour.

Sources: ``loadgen/`` and ``loadgen/mlperf.conf`` of github.com/mlcommons/inference at tag v2.1, at commit
80aaa82a (2026-02-06, LoadGen 6.0.10, the last conf before the v6.1 seeds: round v6.0) and at d6147c7e
(2026-07-24, "Increment version to 6.0.17": round v6.1, byte-identical to the conf inside the 6.0.17 wheel).
"""

from __future__ import annotations

import contextlib
import dataclasses
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass

from podium.errors import SettingError


@dataclass(frozen=True)
class RoundRules:
    """Round-dependent switches of the LoadGen."""

    name: str
    #: LoadGen behaviour family: "2.1" (round v2.1) or "6.0" (LoadGen 6.0.x: rounds v6.0, v6.1).
    generation: str
    #: LoadGen version string logged as ``loadgen_version`` ("<ver> @ <git rev>").
    loadgen_version: str
    #: Built-in mlperf.conf shipped in this package for the round (verbatim official file).
    mlperf_conf: str
    #: Where equal-issue mode (``sample_concatenate_permutation``) applies: "singlestream_offline" (v2.1)
    #: or "all" (LoadGen 6.0: every scenario in performance mode).
    equal_issue_scope: str
    #: Server headline metric: "scheduled" (v2.1) or "completed" (LoadGen 6.0).
    server_headline: str
    #: Decimals of the percentile in the SingleStream/MultiStream summary metric label ("90th" vs "90.0th").
    percentile_label_decimals: int
    #: The compliance tests the round defines.
    compliance_tests: tuple[str, ...]

    @property
    def current(self) -> bool:
        """True for the LoadGen 6.0.x rounds (token latencies, accuracy_sample_count, locked seeds, ...)."""
        return self.generation == "6.0"

    def __str__(self) -> str:
        return self.name


V2_1 = RoundRules(
    name="v2.1",
    generation="2.1",
    loadgen_version="2.1 @ podium",
    mlperf_conf="mlperf_v2_1.conf",
    equal_issue_scope="singlestream_offline",
    server_headline="scheduled",
    percentile_label_decimals=0,
    compliance_tests=("TEST01", "TEST04", "TEST05"),
)

V6_0 = RoundRules(
    name="v6.0",
    generation="6.0",
    loadgen_version="6.0.17 @ podium",
    mlperf_conf="mlperf_v6_0.conf",
    equal_issue_scope="all",
    server_headline="completed",
    percentile_label_decimals=1,
    compliance_tests=("TEST01", "TEST04", "TEST06", "TEST07", "TEST09"),
)

#: v6.1 differs from v6.0 in its mlperf.conf only (the seeds; its benchmark list is the checker's)
V6_1 = dataclasses.replace(V6_0, name="v6.1", mlperf_conf="mlperf_v6_1.conf")

ROUNDS: dict[str, RoundRules] = {r.name: r for r in (V2_1, V6_0, V6_1)}
#: The newest round podium supports: what a run uses when it names none (as installing the newest official
#: package would give).
NEWEST = V6_1
DEFAULT_ROUND = NEWEST
#: Environment variable naming the round of the drop-in ``podium.mlperf_loadgen`` (and of ``podium run``
#: when ``--round`` is not given).
ROUND_ENV = "PODIUM_ROUND"


def round_rules(name: str | RoundRules | None) -> RoundRules:
    """The rules of a round given by name (``v2.1``, ``6.0``, ``V6.1``), or the newest for None.

    Raises ``SettingError`` naming the rounds podium knows for any other name.
    """
    if isinstance(name, RoundRules):
        return name
    if name is None or str(name).strip() == "":
        return NEWEST
    key = str(name).strip().lower()
    if not key.startswith("v"):
        key = "v" + key
    if key in ROUNDS:
        return ROUNDS[key]
    raise SettingError(f"unknown round {name!r}: expected one of {', '.join(ROUNDS)}")


def env_round(default: RoundRules = NEWEST) -> RoundRules:
    """The round named by ``PODIUM_ROUND``, or ``default`` when it is unset or empty.

    A set but unknown value raises ``SettingError`` naming the variable.
    """
    value = os.environ.get(ROUND_ENV, "").strip()
    if not value:
        return default
    try:
        return round_rules(value)
    except SettingError as exc:
        raise SettingError(f"{ROUND_ENV}={value!r}: {exc}") from None


_ACTIVE: contextvars.ContextVar[RoundRules | None] = contextvars.ContextVar("podium_round", default=None)


@contextlib.contextmanager
def active_round(name: str | RoundRules | None) -> Iterator[RoundRules]:
    """Within the block, ``start_test`` and the settings builders that name no round use this one.

    How a caller that runs many tests (a benchmark run: probes, find-peak, accuracy, compliance) gives them all
    its round without threading it through every helper. Per thread/task (a context variable).
    """
    rules = round_rules(name)
    token = _ACTIVE.set(rules)
    try:
        yield rules
    finally:
        _ACTIVE.reset(token)


def current_round() -> RoundRules:
    """The round of the enclosing ``active_round`` block, else ``DEFAULT_ROUND``."""
    return _ACTIVE.get() or DEFAULT_ROUND
