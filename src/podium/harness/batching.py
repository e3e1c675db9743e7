"""Batching policies: how many samples a batch may hold, how long to wait for one to fill, how many workers.

Defaults per scenario (explicit options override each field):

| scenario     | max batch | max wait | workers | why |
|--------------|-----------|----------|---------|-----|
| SingleStream | 1         | 0        | 0 (inline) | one query at a time: run it in the issuing thread, no hand-off |
| MultiStream  | 8         | 0        | 0 (inline) | one query of N samples at a time, issued together |
| Server       | 8         | 500 µs   | 2       | queries arrive one by one: trade a bounded wait for larger batches |
| Offline      | 32        | 0        | 2       | everything arrives in one call: batches are full without waiting |

``workers=0`` means inline: the calling thread runs the batch before ``issue_queries`` returns (the SUT
API allows completing synchronously). No hint gives the SingleStream policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from podium.errors import PodiumError


@dataclass(frozen=True)
class BatchingPolicy:
    """``max_batch_size`` samples per backend call, ``max_wait_us`` to let a partial batch fill, ``workers``
    threads running batches (0 = run inline in the issuing thread)."""

    max_batch_size: int = 1
    max_wait_us: int = 0
    workers: int = 0

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise PodiumError(f"harness max_batch_size: expected >= 1, got {self.max_batch_size}")
        if self.max_wait_us < 0:
            raise PodiumError(f"harness max_wait_us: expected >= 0, got {self.max_wait_us}")
        if self.workers < 0:
            raise PodiumError(f"harness workers: expected >= 0, got {self.workers}")
        if self.workers == 0 and self.max_wait_us > 0:
            raise PodiumError("harness max_wait_us: waiting for a batch to fill needs workers >= 1 "
                              "(workers=0 runs each issue inline)")


SCENARIO_POLICIES: dict[str, BatchingPolicy] = {
    "singlestream": BatchingPolicy(max_batch_size=1, max_wait_us=0, workers=0),
    "multistream": BatchingPolicy(max_batch_size=8, max_wait_us=0, workers=0),
    "server": BatchingPolicy(max_batch_size=8, max_wait_us=500, workers=2),
    "offline": BatchingPolicy(max_batch_size=32, max_wait_us=0, workers=2),
}


def _scenario_key(hint: Any) -> str:
    text = getattr(hint, "value", hint)  # accepts podium.loadgen.Scenario members as well as strings
    key = str(text).replace(" ", "").replace("-", "").replace("_", "").lower()
    if key not in SCENARIO_POLICIES:
        raise PodiumError(f"harness scenario_hint: unknown scenario {text!r}, "
                          "expected SingleStream, MultiStream, Server or Offline")
    return key


def policy_for(scenario_hint: Any = None, *, max_batch_size: int | None = None, max_wait_us: int | None = None,
               workers: int | None = None) -> BatchingPolicy:
    """The default policy for ``scenario_hint`` (SingleStream when None) with any explicit option applied."""
    base = SCENARIO_POLICIES[_scenario_key(scenario_hint)] if scenario_hint is not None \
        else SCENARIO_POLICIES["singlestream"]
    changes: dict[str, int] = {}
    for field, value in (("max_batch_size", max_batch_size), ("max_wait_us", max_wait_us), ("workers", workers)):
        if value is not None:
            try:
                changes[field] = int(value)
            except (TypeError, ValueError):
                raise PodiumError(f"harness {field}: expected an integer, got {value!r}") from None
    if "workers" in changes and changes["workers"] == 0 and "max_wait_us" not in changes:
        changes["max_wait_us"] = 0  # inline has no batching window; don't inherit the scenario's wait
    return replace(base, **changes)
