"""What the network did, as a part of each test's run record (``NetworkRecorder``, a record contributor).

A test in which any request failed is INVALID: the engine reads the client SUT's ``failed_samples`` and marks
every log so (with ``abort_on_failure``, the default, it also stops issuing), and its summary carries the
client's ``describe_failures`` line (the count and the first error, naming the endpoint). The recorder adds
the ``network`` section (``sut.report()``) to the record and the same line to its invalid reasons; it never
opens a log file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from podium.loadgen.record import RecordPart
from podium.loadgen.run import TestResult
from podium.loadgen.settings import TestSettings


class ReportingSUT(Protocol):
    """The client SUT's side the recorder reads: per-test counters and their report."""

    def reset_counters(self) -> None: ...

    def report(self) -> dict[str, Any]: ...


def failure_line(report: dict[str, Any]) -> str:
    """One line for summaries: how many requests failed, and the first error (which names the endpoint)."""
    first = report["errors"][0] if report.get("errors") else "no error text kept"
    return (f"network: {report['failed_requests']} of {report['requests']} requests failed "
            f"({report['failed_samples']} samples answered empty, none retried); first: {first}")


def usage_line(report: dict[str, Any]) -> str:
    """One line for notes: how many requests went where, and where pre/post-processing ran."""
    return (f"network: {report['requests']} requests to {', '.join(report.get('endpoints', []))} "
            f"({report.get('send')} inputs, pre-processing on the {report.get('preprocessing_on')}, "
            f"post-processing on the {report.get('postprocessing_on')}, policy {report.get('policy')})")


class NetworkRecorder:
    """Record contributor for a network SUT: fresh counters per test, then its ``network`` section.

    Pass it to ``start_test(contributors=[...])``. ``notes`` collects, over every test it saw, the lines a run
    shows to people (the request count; the failure count and first error when requests failed).
    """

    def __init__(self, sut: ReportingSUT) -> None:
        self.sut = sut
        self.notes: list[str] = []

    def test_starting(self, outdir: Path, settings: TestSettings) -> None:
        self.sut.reset_counters()

    def test_ended(self, result: TestResult) -> RecordPart:
        report = self.sut.report()
        notes = [usage_line(report)]
        reasons = []
        if report["failed_requests"] > 0:
            notes.append(failure_line(report))
            reasons.append(failure_line(report))
        self.notes.extend(notes)
        return RecordPart(values={"network": report}, invalid_reasons=reasons)
