"""Fixtures for compliance."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _round_v2_1(round_v2_1):
    """Podium's compliance tests are round v2.1's (TEST01, TEST04, TEST05)."""
