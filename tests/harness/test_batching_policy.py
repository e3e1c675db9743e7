"""Scenario → batching policy defaults and overrides."""

from __future__ import annotations

import pytest

from podium.errors import PodiumError
from podium.harness import BatchingPolicy, policy_for
from podium.loadgen.settings import Scenario


def test_scenario_defaults() -> None:
    assert policy_for("SingleStream") == BatchingPolicy(1, 0, 0)
    assert policy_for(None) == BatchingPolicy(1, 0, 0)
    assert policy_for(Scenario.Offline) == BatchingPolicy(32, 0, 2)
    assert policy_for("server").max_wait_us > 0
    assert policy_for("multi-stream").max_batch_size == 8


def test_overrides() -> None:
    assert policy_for("Offline", max_batch_size="64", workers=4) == BatchingPolicy(64, 0, 4)
    # Inline (workers=0) drops the scenario's batching window instead of failing.
    assert policy_for("Server", workers=0) == BatchingPolicy(8, 0, 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"scenario_hint": "Batch"}, "unknown scenario 'Batch'"),
    ({"max_batch_size": 0}, "max_batch_size: expected >= 1"),
    ({"max_wait_us": -1}, "max_wait_us: expected >= 0"),
    ({"workers": "two"}, "workers: expected an integer"),
    ({"workers": 0, "max_wait_us": 100}, "needs workers >= 1"),
])
def test_bad_policies(kwargs: dict, message: str) -> None:
    with pytest.raises(PodiumError, match=message):
        policy_for(**kwargs)
