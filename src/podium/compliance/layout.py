"""Where compliance results go in a v2.1 submission tree, and the checker's rules for those folders.

``<submission>/<division>/<submitter>/compliance/<system>/<benchmark>/<scenario>/`` (the ``-o`` folder of the
official ``run_verification.py``) holds one folder per test::

    TEST01/ verify_accuracy.txt  verify_performance.txt
            accuracy/ mlperf_log_accuracy.json  accuracy.txt
                      [baseline_accuracy.txt  compliance_accuracy.txt   only when verify_accuracy fails]
            performance/run_1/ mlperf_log_summary.txt  mlperf_log_detail.txt
    TEST04/ verify_performance.txt  performance/run_1/ mlperf_log_summary.txt  mlperf_log_detail.txt
    TEST05/ verify_performance.txt  performance/run_1/ mlperf_log_summary.txt  mlperf_log_detail.txt

The checker compares ``performance/run_1`` and ``TEST01/accuracy`` as exact file sets (``mlperf_log_trace.json``,
``results.json`` and ``.gitkeep`` tolerated; ``mlperf_log_accuracy.json`` also optional in ``performance/run_1``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from podium.compliance.audit import TEST01, check_test, required_tests
from podium.compliance.verify import (
    ACCURACY_FILE,
    DETAIL_FILE,
    SUMMARY_FILE,
    accuracy_delta,
)

VERIFY_ACCURACY = "verify_accuracy.txt"
VERIFY_PERFORMANCE = "verify_performance.txt"
ACCURACY_TXT = "accuracy.txt"
BASELINE_ACCURACY_TXT = "baseline_accuracy.txt"
COMPLIANCE_ACCURACY_TXT = "compliance_accuracy.txt"

#: Files the checker tolerates in any compared folder.
TOLERATED_FILES = frozenset({"mlperf_log_trace.json", "results.json", ".gitkeep"})
PERFORMANCE_FILES = frozenset({SUMMARY_FILE, DETAIL_FILE})
TEST01_ACCURACY_FILES = frozenset({ACCURACY_FILE, ACCURACY_TXT})
TEST01_FALLBACK_FILES = TEST01_ACCURACY_FILES | {BASELINE_ACCURACY_TXT, COMPLIANCE_ACCURACY_TXT}


def compliance_scenario_dir(compliance_root: str | os.PathLike[str], system: str, benchmark: str,
                            scenario: str) -> Path:
    """``<compliance_root>/<system>/<benchmark>/<scenario>``; ``compliance_root`` is
    ``<submission>/<division>/<submitter>/compliance``."""
    return Path(compliance_root) / system / benchmark / scenario


def submission_compliance_dir(submission_root: str | os.PathLike[str], division: str, submitter: str,
                              system: str, benchmark: str, scenario: str) -> Path:
    """The compliance folder of one (system, benchmark, scenario) inside a submission tree."""
    return compliance_scenario_dir(Path(submission_root) / division / submitter / "compliance", system,
                                   benchmark, scenario)


@dataclass(frozen=True)
class TestLayout:
    """The paths of one test folder (``<scenario dir>/TESTxx``)."""

    __test__ = False  # not a pytest test class

    test: str
    root: Path

    @property
    def verify_accuracy(self) -> Path:
        return self.root / VERIFY_ACCURACY

    @property
    def verify_performance(self) -> Path:
        return self.root / VERIFY_PERFORMANCE

    @property
    def accuracy_dir(self) -> Path:
        return self.root / "accuracy"

    @property
    def performance_dir(self) -> Path:
        return self.root / "performance" / "run_1"

    def managed_files(self) -> list[Path]:
        """Every file podium writes in this folder (cleared before a new verification is written)."""
        files = [self.verify_performance] + [self.performance_dir / f for f in sorted(PERFORMANCE_FILES)]
        if self.test == TEST01:
            files.append(self.verify_accuracy)
            files += [self.accuracy_dir / f for f in sorted(TEST01_FALLBACK_FILES)]
        return files


def layout_for(out_dir: str | os.PathLike[str], test: str) -> TestLayout:
    """The layout of ``test`` under the compliance scenario folder ``out_dir`` (``run_verification -o``)."""
    return TestLayout(check_test(test), Path(out_dir) / check_test(test))


def copy_run_logs(layout: TestLayout, run_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Copy the compliance run's summary and detail logs into ``performance/run_1`` and, for TEST01, its
    accuracy log into ``accuracy/`` (what run_verification copies)."""
    run = Path(run_dir)
    out: dict[str, Path] = {}
    layout.performance_dir.mkdir(parents=True, exist_ok=True)
    for name in (SUMMARY_FILE, DETAIL_FILE):
        out[f"performance/run_1/{name}"] = Path(shutil.copy2(run / name, layout.performance_dir / name))
    if layout.test == TEST01:
        layout.accuracy_dir.mkdir(parents=True, exist_ok=True)
        out[f"accuracy/{ACCURACY_FILE}"] = Path(shutil.copy2(run / ACCURACY_FILE,
                                                             layout.accuracy_dir / ACCURACY_FILE))
    return out


def clear_test_dir(layout: TestLayout) -> None:
    """Remove the files a previous verification wrote (stale fallback files would break the file sets)."""
    for f in layout.managed_files():
        if f.is_file():
            f.unlink()


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def _has_pass(path: Path) -> bool:
    if not path.is_file():
        return False
    return any("TEST PASS" in line for line in path.read_text(encoding="utf-8", errors="replace").splitlines())


def check_compliance_dir(scenario_dir: str | os.PathLike[str], benchmark: str,
                         tests: tuple[str, ...] | None = None) -> list[str]:
    """The v2.1 checker's compliance-folder rules, minus the detail-log checks of ``performance/run_1``
    (those are the results checks): the required tests exist, each ``verify_performance.txt`` says
    ``TEST PASS``, ``performance/run_1`` holds exactly summary + detail, TEST01 has ``verify_accuracy.txt``
    and an ``accuracy/`` folder with the right file set, and when TEST01's accuracy did not pass, baseline and
    compliance accuracy within 1 % (0.1 % for 99.9 models). Returns the problems found (empty: it passes)."""
    base = Path(scenario_dir)
    problems: list[str] = []
    for test in tests or required_tests(benchmark):
        layout = layout_for(base, test)
        if not layout.root.is_dir():
            problems.append(f"{layout.root}: missing {test}")
            continue
        if not layout.verify_performance.is_file():
            problems.append(f"{layout.verify_performance}: missing")
        elif not _has_pass(layout.verify_performance):
            problems.append(f"{layout.verify_performance}: no 'TEST PASS'")
        if not layout.performance_dir.is_dir():
            problems.append(f"{layout.performance_dir}: missing")
        else:
            diff = (_listing(layout.performance_dir) ^ PERFORMANCE_FILES) - TOLERATED_FILES - {ACCURACY_FILE}
            if diff:
                problems.append(f"{layout.performance_dir}: file list mismatch ({sorted(diff)})")
        if test != TEST01:
            continue
        if not layout.verify_accuracy.is_file():
            problems.append(f"{layout.verify_accuracy}: missing")
            continue
        passed = _has_pass(layout.verify_accuracy)
        if not layout.accuracy_dir.is_dir():
            problems.append(f"{layout.accuracy_dir}: missing")
            continue
        want = TEST01_ACCURACY_FILES if passed else TEST01_FALLBACK_FILES
        diff = (_listing(layout.accuracy_dir) ^ want) - TOLERATED_FILES
        if diff:
            problems.append(f"{layout.accuracy_dir}: file list mismatch ({sorted(diff)})")
        elif not passed:
            delta = accuracy_delta(layout.accuracy_dir / BASELINE_ACCURACY_TXT,
                                   layout.accuracy_dir / COMPLIANCE_ACCURACY_TXT, benchmark)
            if not delta.passed:
                shown = "no metric found" if delta.delta_percent is None else f"{delta.delta_percent:.4f} %"
                problems.append(f"{layout.accuracy_dir}: baseline vs compliance accuracy differ by {shown} "
                                f"(allowed {delta.allowed_percent:g} %)")
    return problems

