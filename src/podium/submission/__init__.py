"""MLPerf Inference submission trees (round v2.1; the current rounds v6.0/v6.1 in ``package_current``,
``check_current``, ``rules_current``): packaging finished runs, the system description, the checker and the
final results table. ``package_submission`` and ``check_submission`` take ``round=`` (default: the runs' or the
tree's round).

    package_submission(runs, division=, submitter=, system=, out=, ...) -> PackageResult
    check_submission(root) -> CheckReport          (problems, accepted rows)
    write_summary_csv(report.rows, fh)             (the official summary CSV)
    describe_system(...) -> SystemDescription      (systems/<system>.json fields, what is left to fill)

The compliance tests themselves (TEST01/04/05 runs and verification, accuracy-log truncation) live in
``podium.compliance``; the packager takes their already-run folders.
"""

from podium.submission.checker import CheckReport, ResultRow, check_submission
from podium.submission.checks import RULES, Problem
from podium.submission.package import PackageResult, RunInput, SubmissionRefused, package_submission
from podium.submission.sysdesc import SystemDescription, describe_system
from podium.submission.table import write_summary_csv

__all__ = [
    "RULES",
    "CheckReport",
    "PackageResult",
    "Problem",
    "ResultRow",
    "RunInput",
    "SubmissionRefused",
    "SystemDescription",
    "check_submission",
    "describe_system",
    "package_submission",
    "write_summary_csv",
]
