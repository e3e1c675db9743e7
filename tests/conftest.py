"""Shared test helpers: simulated SUTs driven by the simulated clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPEC_EXAMPLES = ROOT / "tests" / "data" / "official_examples" / "official-v2.1"


@pytest.fixture
def spec_examples() -> Path:
    if not SPEC_EXAMPLES.is_dir():
        pytest.fail(f"official example logs missing: {SPEC_EXAMPLES}")
    return SPEC_EXAMPLES


@pytest.fixture(scope="module")
def round_v2_1():
    """The module's tests are round-v2.1 tests: the engine, the settings builders, the drop-in and ``podium``
    subprocesses follow round v2.1 (podium's default is the newest round). Module-scoped, so the module's own
    module-scoped fixtures (runs made once) follow it too."""
    from podium.loadgen.rules import active_round

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PODIUM_ROUND", "v2.1")
        with active_round("v2.1"):
            yield


@pytest.fixture(autouse=True)
def _private_results_store(monkeypatch, tmp_path_factory):
    """No test writes to the user's results store (~/.local/share/podium)."""
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path_factory.getbasetemp() / "results.sqlite"))
