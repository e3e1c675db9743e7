"""Podium's LoadGen: the MLPerf Inference load generator of rounds v2.1 (LoadGen 2.1) and v6.0/v6.1 (6.0.17).

Public entry point: ``start_test(sut, qsl, settings, log_settings, options, round=...)``; token-latency SUTs
report first tokens with ``first_token_complete`` and ``n_tokens`` on each response. The package knows nothing of
models: a SUT is any object with ``bind``/``issue_queries``/``flush_queries`` (see ``types``).
"""

from podium.loadgen.peak import PeakResult, Probe, find_peak
from podium.loadgen.run import TestResult, start_test
from podium.loadgen.rules import NEWEST, ROUNDS, RoundRules, round_rules
from podium.loadgen.session import abort_test, first_token_complete
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
    "first_token_complete",
    "NEWEST",
    "ROUNDS",
    "RoundRules",
    "round_rules",
    "find_peak",
    "start_test",
]
