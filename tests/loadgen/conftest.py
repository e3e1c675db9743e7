"""Fixtures for loadgen."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _round_v2_1(round_v2_1):
    """The engine's v2.1 tests (the official v2.1 examples, the v2.1 settings files); the 6.0.17 ones name
    their round (tests/official and the round tests)."""
