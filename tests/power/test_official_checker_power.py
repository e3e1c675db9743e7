"""Cross-check with the official v2.1 submission checker's power part, when one is at hand.

The official checker is not part of podium (never committed): fetch ``tools/submission/submission-checker.py``
and ``log_parser.py`` from mlcommons/inference at tag v2.1 into one folder and point ``PODIUM_V21_CHECKER`` at
``submission-checker.py``. Without it these tests are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from podium.power import (
    ConstantProfile,
    PtdMeter,
    PtdSimulator,
    SimulatorConfig,
    StepProfile,
    export_power_tree,
    run_with_power,
)
from tests.power.helpers import real_run

CHECKER = os.environ.get("PODIUM_V21_CHECKER")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHECKER or not Path(CHECKER).is_file(),
                                 reason="set PODIUM_V21_CHECKER to the official v2.1 submission-checker.py")]


def _checker():
    folder = str(Path(CHECKER).parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # for its own "from log_parser import MLPerfLog"
    spec = importlib.util.spec_from_file_location("official_submission_checker", CHECKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("scenario,profile", [
    ("Offline", StepProfile(((0.0, 95.0), (0.1, 130.0)))),
    ("SingleStream", ConstantProfile(61.5)),
])
def test_official_check_power_dir_accepts_the_tree_and_agrees(tmp_path, scenario, profile):
    with PtdSimulator(SimulatorConfig(profile=profile)) as sim:
        meter = PtdMeter(*sim.address, interval_ms=10, poll_s=0.05)
        outcome = run_with_power(meter, lambda folder, phase, parts: real_run(folder, scenario, duration_ms=250, contributors=parts),
                                 tmp_path / "performance")
    assert outcome.measured
    mod = _checker()
    config = mod.Config("v2.1", None)
    perf = export_power_tree(tmp_path / "performance", tmp_path / "submission" / "performance")
    valid, metric = mod.check_power_dir(str(perf / "power"), str(perf / "ranging"), str(perf / "run_1"),
                                        scenario, config)
    assert valid is True
    assert metric == outcome.power["official_metric"]["value"]  # bit for bit
