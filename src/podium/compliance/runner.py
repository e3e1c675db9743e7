"""Running TEST01, TEST04 and TEST05 on a SUT/QSL, and verifying existing compliance runs.

``run_test0x`` = write the test's audit.config into a per-test run folder, run ``start_test`` there with
``audit_config=`` that file (the LoadGen logs the official "Found Audit Config file" warning and applies it
over the base settings), delete the audit.config (as the official instructions ask), then ``verify_test0x``.

``verify_test0x`` = the official ``run_verification.py`` of that test: verify accuracy (TEST01) and
performance against the submission's runs, and write ``<out_dir>/TESTxx/`` in the checker's layout
(see ``layout``). ``out_dir`` is the compliance folder of one (system, benchmark, scenario).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.compliance.audit import (
    TEST01,
    TEST04,
    TEST05,
    ComplianceError,
    check_test,
    required_tests,
    write_audit_config,
)
from podium.compliance.layout import (
    ACCURACY_TXT,
    BASELINE_ACCURACY_TXT,
    COMPLIANCE_ACCURACY_TXT,
    TestLayout,
    clear_test_dir,
    copy_run_logs,
    layout_for,
)
from podium.compliance.verify import (
    ACCURACY_FILE,
    BASELINE_FILE,
    SUMMARY_FILE,
    AccuracyDelta,
    AccuracyVerification,
    PerformanceVerification,
    accuracy_delta,
    create_accuracy_baseline,
    verify_accuracy,
    verify_performance,
)
from podium.errors import PodiumError
from podium.loadgen.clock import Clock
from podium.loadgen.run import TestResult, start_test
from podium.loadgen.settings import LogSettings, RunOptions, TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest

#: An accuracy scorer: given an accuracy log, the accuracy script's output (the text of accuracy.txt), or an
#: object with ``accuracy_txt`` (podium's ``AccuracyResult``), e.g. ``benchmark.score_accuracy``.
Scorer = Callable[[Path], Any]

RUNS_FOLDER = ".runs"


@dataclass
class ComplianceResult:
    """The outcome of one compliance test.

    ``passed`` is what the checker will conclude from the written folder: performance verified, and for
    TEST01 accuracy verified or (when it was not) baseline and compliance accuracy within the allowed delta.
    """

    test: str
    passed: bool
    performance: PerformanceVerification
    layout: TestLayout
    accuracy: AccuracyVerification | None = None
    accuracy_delta: AccuracyDelta | None = None
    #: The compliance run's folder (its logs) and the LoadGen result when podium ran it.
    run_dir: Path | None = None
    run: TestResult | None = None

    def explain(self) -> str:
        """One line: what was compared and how it came out (performance, then TEST01's accuracy check)."""
        parts = [self.performance.explain()]
        if self.accuracy is not None:
            parts.append("accuracy log " + ("matches" if self.accuracy.passed else
                                             f"differs ({self.accuracy.num_acc_log_data_mismatch} mismatched)"))
        if self.accuracy_delta is not None and not (self.accuracy and self.accuracy.passed):
            d = self.accuracy_delta
            delta = "n/a" if d.delta_percent is None else f"{d.delta_percent:.3f} %"
            parts.append(f"accuracy delta {delta} (allowed {d.allowed_percent:g} %)")
        return "; ".join(parts)
    audit_config: str | None = None
    #: TEST01 when accuracy failed: the accuracy-mode log restricted to the sampled qsl indices.
    baseline_log: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def test_dir(self) -> Path:
        return self.layout.root

    @property
    def accuracy_passed(self) -> bool | None:
        return None if self.accuracy is None else self.accuracy.passed

    def summary(self) -> str:
        """One line for people."""
        parts = [f"{self.test}: {'PASS' if self.passed else 'FAIL'}"]
        p = self.performance
        if p.reference_score is not None and p.test_score is not None:
            parts.append(f"performance {'pass' if p.passed else 'fail'} (reference {p.reference_score:g}, "
                         f"test {p.test_score:g}, threshold {p.threshold:g})")
        else:
            parts.append(f"performance fail ({p.reason})")
        if self.accuracy is not None:
            a = self.accuracy
            parts.append(f"accuracy {'pass' if a.passed else 'fail'} ({a.num_perf_log_data_mismatch} of "
                         f"{a.num_perf_log_qsl_idx_match} compared responses differ)")
        if self.accuracy_delta is not None and self.accuracy_delta.delta_percent is not None:
            d = self.accuracy_delta
            parts.append(f"baseline/compliance accuracy delta {d.delta_percent:.4f} % (allowed "
                         f"{d.allowed_percent:g} %)")
        return "; ".join(parts)


# ------------------------------------------------------------------------------------------- helpers


def _find(path: str | os.PathLike[str], name: str, subdir: str) -> Path:
    """``path`` itself when it is a file, else ``path/name``, else ``path/<subdir>/name`` (a results folder)."""
    p = Path(path)
    if p.is_file():
        return p
    for candidate in (p / name, p / subdir / name):
        if candidate.is_file():
            return candidate
    raise ComplianceError(f"{p}: no {name} there (nor in {p / subdir})")


def _accuracy_text(scorer: Scorer, log: Path) -> str:
    result = scorer(log)
    text = result if isinstance(result, str) else getattr(result, "accuracy_txt", None)
    if text is None:
        text = str(result)
    return text if text.endswith("\n") else text + "\n"


def _write(path: Path, text: str, files: dict[str, Path], key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    files[key] = path


# -------------------------------------------------------------------------------------------- verify


def verify_test01(accuracy_log: str | os.PathLike[str], reference_summary: str | os.PathLike[str],
                  run_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                  benchmark: str | None = None, dtype: str = "byte", scorer: Scorer | None = None) -> ComplianceResult:
    """Verify an existing TEST01 run and write ``<out_dir>/TEST01``.

    ``accuracy_log``: the accuracy-mode run's ``mlperf_log_accuracy.json`` (or its folder, or a results
    scenario folder holding ``accuracy/``); ``reference_summary``: the performance run's summary (or its
    folder, or a results scenario folder holding ``performance/run_1``); ``run_dir``: the TEST01 run's logs.
    ``scorer`` (optional) writes ``accuracy/accuracy.txt`` and, when accuracy verification fails,
    ``baseline_accuracy.txt`` and ``compliance_accuracy.txt``; ``benchmark`` picks the checker's metric
    pattern and allowed delta for that fallback.
    """
    run = Path(run_dir)
    acc_log = _find(accuracy_log, ACCURACY_FILE, "accuracy")
    ref_summary = _find(reference_summary, SUMMARY_FILE, "performance/run_1")
    run_log = run / ACCURACY_FILE
    if not run_log.is_file():
        raise ComplianceError(f"{run}: no {ACCURACY_FILE} there (is it the TEST01 run's folder?)")
    layout = layout_for(out_dir, TEST01)
    acc = verify_accuracy(acc_log, run_log, dtype)
    perf = verify_performance(TEST01, ref_summary, run / SUMMARY_FILE)
    clear_test_dir(layout)
    files: dict[str, Path] = {}
    _write(layout.verify_accuracy, acc.text, files, "verify_accuracy.txt")
    _write(layout.verify_performance, perf.text, files, "verify_performance.txt")
    files.update(copy_run_logs(layout, run))
    result = ComplianceResult(TEST01, False, perf, layout, accuracy=acc, run_dir=run, files=files)
    if scorer is not None:
        try:
            _write(layout.accuracy_dir / ACCURACY_TXT, _accuracy_text(scorer, run_log), files, "accuracy/accuracy.txt")
        except PodiumError as exc:
            result.notes.append(f"scoring the TEST01 accuracy log failed: {exc}")
    if not acc.passed:
        result.baseline_log = create_accuracy_baseline(acc_log, run_log, run / BASELINE_FILE)
        if scorer is None:
            result.notes.append(
                f"accuracy verification failed: score {result.baseline_log} and {run_log} with the benchmark's "
                f"accuracy script and save the outputs as {layout.accuracy_dir / BASELINE_ACCURACY_TXT} and "
                f"{layout.accuracy_dir / COMPLIANCE_ACCURACY_TXT}")
        else:
            try:
                _write(layout.accuracy_dir / BASELINE_ACCURACY_TXT, _accuracy_text(scorer, result.baseline_log),
                       files, f"accuracy/{BASELINE_ACCURACY_TXT}")
                _write(layout.accuracy_dir / COMPLIANCE_ACCURACY_TXT, _accuracy_text(scorer, run_log), files,
                       f"accuracy/{COMPLIANCE_ACCURACY_TXT}")
                result.accuracy_delta = accuracy_delta(layout.accuracy_dir / BASELINE_ACCURACY_TXT,
                                                       layout.accuracy_dir / COMPLIANCE_ACCURACY_TXT, benchmark)
            except PodiumError as exc:
                result.notes.append(f"scoring the baseline/compliance accuracy logs failed: {exc}")
    accuracy_ok = acc.passed or (result.accuracy_delta is not None and result.accuracy_delta.passed)
    result.passed = perf.passed and accuracy_ok
    return result


def _verify_performance_test(test: str, reference_summary: str | os.PathLike[str], run_dir: str | os.PathLike[str],
                             out_dir: str | os.PathLike[str]) -> ComplianceResult:
    run = Path(run_dir)
    ref_summary = _find(reference_summary, SUMMARY_FILE, "performance/run_1")
    layout = layout_for(out_dir, test)
    perf = verify_performance(test, ref_summary, run / SUMMARY_FILE)
    clear_test_dir(layout)
    files: dict[str, Path] = {}
    _write(layout.verify_performance, perf.text, files, "verify_performance.txt")
    files.update(copy_run_logs(layout, run))
    return ComplianceResult(test, perf.passed, perf, layout, run_dir=run, files=files)


def verify_test04(reference_summary: str | os.PathLike[str], run_dir: str | os.PathLike[str],
                  out_dir: str | os.PathLike[str]) -> ComplianceResult:
    """Verify an existing TEST04 run against the performance run and write ``<out_dir>/TEST04``."""
    return _verify_performance_test(TEST04, reference_summary, run_dir, out_dir)


def verify_test05(reference_summary: str | os.PathLike[str], run_dir: str | os.PathLike[str],
                  out_dir: str | os.PathLike[str]) -> ComplianceResult:
    """Verify an existing TEST05 run against the performance run and write ``<out_dir>/TEST05``."""
    return _verify_performance_test(TEST05, reference_summary, run_dir, out_dir)


# ----------------------------------------------------------------------------------------------- run


def default_run_dir(out_dir: str | os.PathLike[str], test: str) -> Path:
    """Where a compliance run's raw logs go by default: ``<out_dir>/.runs/TESTxx``. The official checker and
    truncation tool ignore that folder; a submission packager should leave it out."""
    return Path(out_dir) / RUNS_FOLDER / check_test(test)


def run_compliance_run(test: str, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, run_dir: str | os.PathLike[str], *,
                       model: str | None = None, sampling_target: int | None = None,
                       log_settings: LogSettings | None = None, options: RunOptions | None = None,
                       clock: Clock | None = None) -> tuple[TestResult, str]:
    """Only the LoadGen run of ``test``: audit.config written into ``run_dir``, ``start_test`` with it, the
    file removed afterwards. Returns the LoadGen result and the audit.config text used."""
    test = check_test(test)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    audit = write_audit_config(test, run / "audit.config", model=model, sampling_target=sampling_target)
    text = audit.read_text(encoding="utf-8")
    base = log_settings or LogSettings()
    logs = LogSettings(outdir=str(run), prefix="mlperf_log_", suffix="", prefix_with_datetime=False,
                       copy_detail_to_stdout=base.copy_detail_to_stdout,
                       copy_summary_to_stdout=base.copy_summary_to_stdout, enable_trace=base.enable_trace)
    try:
        result = start_test(sut, qsl, settings, logs, options, audit_config=audit, clock=clock)
    finally:
        audit.unlink(missing_ok=True)
    return result, text


def run_test01(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, model: str, out_dir: str | os.PathLike[str],
               accuracy_run_dir: str | os.PathLike[str], reference_run_dir: str | os.PathLike[str], *,
               run_dir: str | os.PathLike[str] | None = None, dtype: str = "byte", scorer: Scorer | None = None,
               sampling_target: int | None = None, log_settings: LogSettings | None = None,
               options: RunOptions | None = None, clock: Clock | None = None) -> ComplianceResult:
    """Run TEST01 (performance run with accuracy-log sampling) and verify it into ``<out_dir>/TEST01``.

    ``model``: benchmark or mlperf.conf model name (selects the official sampling target, unless
    ``sampling_target`` is given); ``accuracy_run_dir``/``reference_run_dir``: the accuracy-mode and
    performance runs of the submission (folders or files, see ``verify_test01``).
    """
    run = Path(run_dir) if run_dir is not None else default_run_dir(out_dir, TEST01)
    res, text = run_compliance_run(TEST01, sut, qsl, settings, run, model=model, sampling_target=sampling_target,
                                   log_settings=log_settings, options=options, clock=clock)
    result = verify_test01(accuracy_run_dir, reference_run_dir, run, out_dir, benchmark=model, dtype=dtype,
                           scorer=scorer)
    result.run, result.audit_config = res, text
    return result


def run_test04(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, out_dir: str | os.PathLike[str],
               reference_run_dir: str | os.PathLike[str], *, run_dir: str | os.PathLike[str] | None = None,
               log_settings: LogSettings | None = None, options: RunOptions | None = None,
               clock: Clock | None = None) -> ComplianceResult:
    """Run TEST04 (the same sample, index 3 of the loaded set, for the whole run) and verify it."""
    run = Path(run_dir) if run_dir is not None else default_run_dir(out_dir, TEST04)
    res, text = run_compliance_run(TEST04, sut, qsl, settings, run, log_settings=log_settings, options=options,
                                   clock=clock)
    result = verify_test04(reference_run_dir, run, out_dir)
    result.run, result.audit_config = res, text
    return result


def run_test05(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, out_dir: str | os.PathLike[str],
               reference_run_dir: str | os.PathLike[str], *, run_dir: str | os.PathLike[str] | None = None,
               log_settings: LogSettings | None = None, options: RunOptions | None = None,
               clock: Clock | None = None) -> ComplianceResult:
    """Run TEST05 (alternate qsl/sample-index/schedule seeds) and verify it."""
    run = Path(run_dir) if run_dir is not None else default_run_dir(out_dir, TEST05)
    res, text = run_compliance_run(TEST05, sut, qsl, settings, run, log_settings=log_settings, options=options,
                                   clock=clock)
    result = verify_test05(reference_run_dir, run, out_dir)
    result.run, result.audit_config = res, text
    return result


def run_compliance(sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, model: str, out_dir: str | os.PathLike[str],
                   accuracy_run_dir: str | os.PathLike[str], reference_run_dir: str | os.PathLike[str], *,
                   tests: tuple[str, ...] | None = None, dtype: str = "byte", scorer: Scorer | None = None,
                   sampling_target: int | None = None, log_settings: LogSettings | None = None,
                   options: RunOptions | None = None, clock: Clock | None = None) -> dict[str, ComplianceResult]:
    """Run every test ``model`` needs (``required_tests``; or ``tests``) into ``out_dir``."""
    out: dict[str, ComplianceResult] = {}
    for test in tests or required_tests(model):
        test = check_test(test)
        if test == TEST01:
            out[test] = run_test01(sut, qsl, settings, model, out_dir, accuracy_run_dir, reference_run_dir,
                                   dtype=dtype, scorer=scorer, sampling_target=sampling_target,
                                   log_settings=log_settings, options=options, clock=clock)
        elif test == TEST04:
            out[test] = run_test04(sut, qsl, settings, out_dir, reference_run_dir, log_settings=log_settings,
                                   options=options, clock=clock)
        else:
            out[test] = run_test05(sut, qsl, settings, out_dir, reference_run_dir, log_settings=log_settings,
                                   options=options, clock=clock)
    return out
