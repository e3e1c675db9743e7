"""Fixtures of the fetch tests (the loopback server lives in tests/fetch/loopback.py)."""

from tests.fetch.loopback import server  # noqa: F401 (a fixture)
