"""The SUT side of a run behind one interface: a ``SutProvider`` opens the system under test for ``run_benchmark``.

The CLI (or any caller) picks the concrete provider: ``podium.providers`` has the local harness over a
backend and remote KServe v2 endpoints; pools and Ray plug in the same way. The suite sees only this module,
so it never imports a backend, the harness or the network client.

Contract (all calls from the thread that calls ``run_benchmark``, in this order):

* ``provider.load(benchmark, stage)``: before the data set loads. Loads what the SUT needs locally (the model);
  may take minutes (BERT-Large) and reports its stage through ``stage``. Bad input raises ``PodiumError``
  before anything is measured or any run folder exists.
* ``provider.open(benchmark, qsl, scenario, stage)`` -> ``SutSession``: after the data set is ready. The
  session's ``sut`` is what every test of the run drives; it stays valid until ``session.close()``.
* ``session.calibrate(qsl, scenario)``: a quick measurement (at most a few seconds) to size a short run.
* ``session.record_info(stage)``: what every test's record says of the SUT side (called once, may hash a
  model file).
* ``session.unusable()`` / ``session.accuracy_spoiled()``: after a test, why no more tests should run on the
  SUT (a dead endpoint), why an accuracy score cannot count (requests answered empty); None when fine.
* ``session.close()``: once, at the end, even after a failure or Ctrl-C; returns notes for people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from podium.benchmarks.base import Benchmark
from podium.loadgen.record import RecordContributor
from podium.loadgen.settings import Scenario, TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest
from podium.suite.calibrate import Calibration

Stage = Callable[[str], None]


class SutSession(Protocol):
    """The system under test of one run, opened by a ``SutProvider`` (see the module docstring)."""

    @property
    def sut(self) -> SystemUnderTest:
        """What every test drives."""

    @property
    def labels(self) -> list[str]:
        """Labels every output of the run carries ("network SUT: ... latency includes the network")."""

    @property
    def contributors(self) -> list[RecordContributor]:
        """Add their parts to every test's record (the network client's per-test counters)."""

    def calibrate(self, qsl: QuerySampleLibrary, scenario: Scenario) -> Calibration: ...

    def record_info(self, stage: Stage) -> dict[str, Any]: ...

    def unusable(self) -> str | None: ...

    def accuracy_spoiled(self) -> str | None: ...

    def close(self) -> list[str]: ...


class SutProvider(Protocol):
    """Makes the system under test of a run (see the module docstring for who calls what, and when)."""

    @property
    def kind(self) -> str:
        """"local" (a backend on this machine) or "network" (remote endpoints)."""

    def load(self, benchmark: Benchmark, stage: Stage) -> None: ...

    def open(self, benchmark: Benchmark, qsl: QuerySampleLibrary, scenario: Scenario, stage: Stage) -> SutSession: ...


#: ``run_once(folder, phase, contributors) -> folder``: one performance test into ``folder`` (phase "ranging" or
#: "testing") whose ``start_test`` gets ``contributors``
RunOnce = Callable[[Path, str, Sequence[RecordContributor]], Path]


class PowerRun(Protocol):
    """What a power plan measured (``podium.power.MeasuredPower``)."""

    @property
    def performance_dir(self) -> Path:
        """The test whose performance result stands (the testing run; the ranging run if testing never ran)."""

    @property
    def power(self) -> dict[str, Any] | None:
        """The testing run's power block, as its record holds it."""

    @property
    def failure(self) -> str | None:
        """Why the power run is INVALID (one line naming the phase); None when measured or not asked for."""


class PowerPlan(Protocol):
    """How the performance test's power is measured (``podium.power.power_plan(spec)`` makes one).

    ``measure`` is called once, from the ``run_benchmark`` thread, with the performance test to run; it
    calls ``run_once`` once (twice for a meter that needs a ranging run) and puts its parts in those tests'
    records. Its creator closes it (it is a context manager).
    """

    @property
    def needs_ranging(self) -> bool: ...

    def measure(self, run_once: RunOnce, perf_dir: Path) -> PowerRun: ...


class ComplianceOutcome(Protocol):
    """One compliance test's verdict, as the checker will read its folder."""

    @property
    def passed(self) -> bool: ...

    def explain(self) -> str: ...


class ComplianceRunner(Protocol):
    """Runs the compliance tests after a run's performance and accuracy tests (``podium.compliance.
    OfficialCompliance``), on the ``run_benchmark`` thread, with the run's SUT and QSL still open."""

    def required_tests(self, benchmark: str) -> tuple[str, ...]: ...

    def check_test(self, test: str) -> str:
        """The test's official name; raises a one-line ``PodiumError`` for a test the run's round lacks."""
        ...

    def run(self, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings, benchmark: str,
            out_dir: Path, **options: Any) -> Mapping[str, ComplianceOutcome]: ...
