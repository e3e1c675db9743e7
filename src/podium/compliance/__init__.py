"""MLPerf Inference v2.1 compliance tests (TEST01, TEST04, TEST05) and accuracy-log truncation.

Run a test on a SUT/QSL (objects following ``podium.loadgen.types``) with the submission's base settings;
each writes its audit.config into a per-test run folder (default ``<out_dir>/.runs/TESTxx``), runs
``start_test`` with it, verifies the run the way the official ``compliance/nvidia/TESTxx`` scripts do, and
writes ``<out_dir>/TESTxx/`` in the layout the submission checker expects. ``out_dir`` is the compliance
folder of one (system, benchmark, scenario): ``compliance_scenario_dir(...)`` /
``submission_compliance_dir(...)`` build it.

Running (return ``ComplianceResult``; ``passed`` is what the checker will conclude)::

    run_test01(sut, qsl, settings, model, out_dir, accuracy_run_dir, reference_run_dir,
               *, run_dir=None, dtype="byte", scorer=None, sampling_target=None, log_settings=None,
               options=None, clock=None)
    run_test04(sut, qsl, settings, out_dir, reference_run_dir, *, run_dir=None, ...)
    run_test05(sut, qsl, settings, out_dir, reference_run_dir, *, run_dir=None, ...)
    run_compliance(sut, qsl, settings, model, out_dir, accuracy_run_dir, reference_run_dir, *, tests=None, ...)
        -> {test: ComplianceResult} for required_tests(model) (TEST04 only where the checker asks for it)
    run_compliance_run(test, sut, qsl, settings, run_dir, ...)   the LoadGen run only

``accuracy_run_dir`` is the accuracy-mode run (folder holding ``mlperf_log_accuracy.json``, or the file, or a
results scenario folder with ``accuracy/``); ``reference_run_dir`` the performance run (folder holding
``mlperf_log_summary.txt``, the file, or a results scenario folder with ``performance/run_1``). ``scorer``
(e.g. ``benchmark.score_accuracy``) turns an accuracy log into accuracy.txt text; with it TEST01 writes
``accuracy/accuracy.txt`` and, when verification fails, ``baseline_accuracy.txt``/``compliance_accuracy.txt``.
Without it, a failed TEST01 leaves ``mlperf_log_accuracy_baseline.json`` in the run folder to score by hand.

Verifying existing runs (the official ``run_verification.py``)::

    verify_test01(accuracy_log, reference_summary, run_dir, out_dir, *, benchmark=None, dtype="byte", scorer=None)
    verify_test04(reference_summary, run_dir, out_dir)
    verify_test05(reference_summary, run_dir, out_dir)
    verify_accuracy(reference_accuracy_log, test_accuracy_log, dtype="byte") -> AccuracyVerification
    verify_performance(test, reference_summary, test_summary) -> PerformanceVerification
    create_accuracy_baseline(accuracy_log, test_accuracy_log, out_path)
    accuracy_delta(baseline_txt, compliance_txt, benchmark)   the checker's TEST01 fallback check
    check_compliance_dir(scenario_dir, benchmark) -> [problems]  the checker's compliance-folder rules

Audit configs: ``AUDIT_CONFIGS`` (official file path -> text), ``audit_config_text(test, model)``,
``write_audit_config``, ``TEST01_SAMPLING_TARGETS``, ``TEST05_SEEDS``, ``required_tests(benchmark)``.

Truncation (``podium.compliance.truncate``): ``truncate_accuracy_log(accuracy_dir_or_log, accuracy_txt=None,
*, backup=None, compliance=False)`` and ``truncate_submission(root, submitter=None, backup=None)``.
"""

from podium.compliance.audit import (
    AUDIT_CONFIGS,
    TEST01,
    TEST01_ACCURACY_LOG_RNG_SEED,
    TEST01_SAMPLING_TARGETS,
    TEST04,
    TEST04_SAME_INDEX,
    TEST05,
    TEST05_SEEDS,
    TESTS,
    ComplianceError,
    audit_config_text,
    required_tests,
    sampling_target_for,
    write_audit_config,
)
from podium.compliance.layout import (
    TestLayout,
    check_compliance_dir,
    compliance_scenario_dir,
    layout_for,
    submission_compliance_dir,
)
from podium.compliance.runner import (
    ComplianceResult,
    default_run_dir,
    run_compliance,
    run_compliance_run,
    run_test01,
    run_test04,
    run_test05,
    verify_test01,
    verify_test04,
    verify_test05,
)
from podium.compliance.plan import OfficialCompliance
from podium.compliance.truncate import truncate_accuracy_log, truncate_submission
from podium.compliance.verify import (
    AccuracyDelta,
    AccuracyVerification,
    PerformanceVerification,
    accuracy_delta,
    create_accuracy_baseline,
    read_summary_score,
    verify_accuracy,
    verify_performance,
)

__all__ = [
    "AUDIT_CONFIGS",
    "TEST01",
    "TEST01_ACCURACY_LOG_RNG_SEED",
    "TEST01_SAMPLING_TARGETS",
    "TEST04",
    "TEST04_SAME_INDEX",
    "TEST05",
    "TEST05_SEEDS",
    "TESTS",
    "AccuracyDelta",
    "AccuracyVerification",
    "ComplianceError",
    "ComplianceResult",
    "OfficialCompliance",
    "PerformanceVerification",
    "TestLayout",
    "accuracy_delta",
    "audit_config_text",
    "check_compliance_dir",
    "compliance_scenario_dir",
    "create_accuracy_baseline",
    "default_run_dir",
    "layout_for",
    "read_summary_score",
    "required_tests",
    "run_compliance",
    "run_compliance_run",
    "run_test01",
    "run_test04",
    "run_test05",
    "sampling_target_for",
    "submission_compliance_dir",
    "truncate_accuracy_log",
    "truncate_submission",
    "verify_accuracy",
    "verify_performance",
    "verify_test01",
    "verify_test04",
    "verify_test05",
    "write_audit_config",
]
