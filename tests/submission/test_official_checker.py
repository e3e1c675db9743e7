"""Cross-check with the official v2.1 submission checker, when one is at hand.

The official checker is not part of podium (never committed): fetch ``tools/submission/submission-checker.py``
and ``log_parser.py`` from mlcommons/inference at tag v2.1 into one folder and point ``PODIUM_V21_CHECKER`` at
``submission-checker.py``. Without it these tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podium.submission import check_submission, write_summary_csv
from tests.submission.test_checker import CASES

CHECKER = os.environ.get("PODIUM_V21_CHECKER")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHECKER or not Path(CHECKER).is_file(),
                                 reason="set PODIUM_V21_CHECKER to the official v2.1 submission-checker.py")]


def official(root: Path, csv: Path) -> tuple[int, list[str]]:
    proc = subprocess.run([sys.executable, CHECKER, "--input", str(root), "--version", "v2.1", "--csv", str(csv)],
                          capture_output=True, text=True, timeout=120, check=False)
    lines = (proc.stdout + proc.stderr).splitlines()
    return proc.returncode, [line for line in lines if " ERROR]" in line]


def test_packaged_tree_has_no_error_line_and_the_same_csv(packaged, tmp_path):
    rc, errors = official(packaged, tmp_path / "official.csv")
    assert rc == 0 and errors == [], errors
    with open(tmp_path / "podium.csv", "w") as fh:
        write_summary_csv(check_submission(packaged).rows, fh)
    assert sorted((tmp_path / "official.csv").read_text().splitlines()) == \
        sorted((tmp_path / "podium.csv").read_text().splitlines())


@pytest.mark.parametrize("rule,what,breaker", CASES, ids=[f"{r}:{w}" for r, w, _ in CASES])
def test_podium_flags_what_the_official_flags(packaged, tmp_path, rule, what, breaker):
    tree = tmp_path / "tree"
    shutil.copytree(packaged, tree)
    breaker(tree)
    _, errors = official(tree, tmp_path / "o.csv")
    rep = check_submission(tree)
    if errors:
        assert rep.errors, f"{what}: the official checker reports {errors[:3]} but podium finds nothing"


def test_edge_tree_has_no_error_line(edge_tree, tmp_path):
    rc, errors = official(edge_tree, tmp_path / "official.csv")
    assert rc == 0 and errors == [], errors
