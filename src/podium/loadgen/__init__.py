"""Podium's LoadGen: the MLPerf Inference load generator (round v2.1 semantics), in Python.

Public entry point: ``start_test(sut, qsl, settings, log_settings, options)``. The package knows nothing of
models: a SUT is any object with ``bind``/``issue_queries``/``flush_queries`` (see ``types``).
"""

from podium.loadgen.peak import PeakResult, Probe, find_peak
from podium.loadgen.run import TestResult, start_test
from podium.loadgen.session import abort_test
from podium.loadgen.settings import LogSettings, RunOptions, Scenario, TestMode, TestSettings
from podium.loadgen.types import (
    BaseSUT,
    QuerySample,
    QuerySampleLibrary,
    QuerySampleResponse,
    SimpleQSL,
    SystemUnderTest,
)

__all__ = [
    "BaseSUT",
    "LogSettings",
    "QuerySample",
    "QuerySampleLibrary",
    "QuerySampleResponse",
    "RunOptions",
    "Scenario",
    "SimpleQSL",
    "SystemUnderTest",
    "TestMode",
    "TestResult",
    "TestSettings",
    "PeakResult",
    "Probe",
    "abort_test",
    "find_peak",
    "start_test",
]
