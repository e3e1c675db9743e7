"""The compliance tests as a run pipeline drives them (``podium.suite.provider.ComplianceRunner``)."""

from __future__ import annotations

import os
from typing import Any

from podium.compliance.audit import check_test, required_tests
from podium.compliance.runner import ComplianceResult, run_compliance
from podium.loadgen.settings import TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest


class OfficialCompliance:
    """The round's compliance tests (v2.1: TEST01/04/05; v6.0/v6.1: TEST01/04) with the official audit.config
    contents and verification (see ``run_compliance``); the round is the current one (``active_round``)."""

    def required_tests(self, benchmark: str) -> tuple[str, ...]:
        return required_tests(benchmark)

    def check_test(self, test: str) -> str:
        return check_test(test)

    def run(self, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, benchmark: str,
            out_dir: str | os.PathLike[str], **options: Any) -> dict[str, ComplianceResult]:
        return run_compliance(sut, qsl, settings, benchmark, out_dir, **options)
