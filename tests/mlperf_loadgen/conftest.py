"""Fixtures for the ``podium.mlperf_loadgen`` tests: a simulated clock behind the module's private hook, and a
clean working directory (the official StartTest reads ``audit.config`` and writes default logs there)."""

from __future__ import annotations

import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen.clock import SimClock


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True, scope="module")
def _round_v2_1(round_v2_1):
    """These are the round-v2.1 binding's tests: the drop-in follows PODIUM_ROUND (its default is the newest
    round; tests/official checks the 6.0.17 binding against the official one)."""
    lg.SetRound(None)


@pytest.fixture
def sim(monkeypatch):
    """Make every StartTest of this test run on a fresh SimClock; returns a function giving that clock."""
    clocks: list[SimClock] = []

    def factory() -> SimClock:
        return clocks[-1]

    def new_clock() -> SimClock:
        clocks.append(SimClock())
        return clocks[-1]

    monkeypatch.setattr(lg, "_clock_factory", factory)
    return new_clock
