"""Recording what the network did into a test's result files (called by the runner after each test).

A test in which any request failed is INVALID: the engine reads the client SUT's ``failed_samples`` and marks
every log so (and with ``abort_on_failure``, the default, it also stops issuing). This adds what the network
did: the ``network`` section of ``podium_result.json`` and the failure count in the summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.loadgen.run import TestResult


def failure_line(report: dict[str, Any]) -> str:
    """One line for summaries: how many requests failed, and the first error (which names the endpoint)."""
    first = report["errors"][0] if report.get("errors") else "no error text kept"
    return (f"network: {report['failed_requests']} of {report['requests']} requests failed "
            f"({report['failed_samples']} samples answered empty, none retried); first: {first}")


def record_network_outcome(result: TestResult, sut: Any) -> list[str]:
    """Add ``sut.report()`` to the test's ``podium_result.json`` as ``network``; return notes for the summary.

    If requests failed, the result JSON's invalid reasons and the summary log get the count and the first error
    (naming the endpoint); the engine has already made the run INVALID.
    """
    report = sut.report()
    notes = [f"network: {report['requests']} requests to {', '.join(report.get('endpoints', []))} "
             f"({report.get('send')} inputs, pre-processing on the {report.get('preprocessing_on')}, "
             f"post-processing on the {report.get('postprocessing_on')}, policy {report.get('policy')})"]
    failed = report["failed_requests"] > 0
    if failed:
        notes.append(failure_line(report))
    path = result.result_json
    if path is not None and Path(path).is_file():
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data["network"] = report
        perf = data.get("performance")
        if failed and isinstance(perf, dict):
            perf.setdefault("invalid_reasons", []).append(failure_line(report))
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    summary = result.log_paths.get("summary")
    if failed and summary is not None and Path(summary).is_file():
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(f"podium: {failure_line(report)}\n")
    return notes
