"""Fixtures for the comparisons with the official LoadGen 6.0.17."""

from __future__ import annotations

import pytest

from tests.official import peers


@pytest.fixture(scope="session")
def site():
    """The folder holding the official module (installed there on first use); skips, saying why, when it
    cannot be had."""
    found, why = peers.official_site()
    if found is None:
        pytest.skip(why)
    return found
