"""How a run's power is measured, as the suite sees it (``podium.suite.provider.PowerPlan``).

``power_plan(spec)`` turns ``podium run --power SPEC`` into a plan: a meter (connected now, so an unreachable
one fails before anything loads or runs) or none, which records "power: not measured". ``measure`` runs the
performance test under it: for PTDaemon a ranging run, then the testing run (``run_with_power``); for a
polling meter or none, one test with the meter as a record contributor. The caller owns the plan: use it as a
context manager, which closes the meter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Sequence

from podium.loadgen.record import RecordContributor
from podium.power.meter import Meter
from podium.power.factory import make_meter
from podium.power.session import PowerSession, run_with_power

#: ``run_once(folder, phase, contributors) -> folder``: one performance test into ``folder`` whose
#: ``start_test`` is given ``contributors``
RunOnce = Callable[[Path, str, Sequence[RecordContributor]], Path]


@dataclass
class MeasuredPower:
    """What ``MeterPlan.measure`` produced (a ``podium.suite.provider.PowerRun``)."""

    #: the test whose performance result stands (the testing run; the ranging run if testing never ran)
    performance_dir: Path
    #: the testing run's power block (None when no test ran)
    power: dict[str, Any] | None = None
    #: why the power run is INVALID (one line naming the phase); None when measured or when no meter was used
    failure: str | None = None
    #: the power session (``PowerOutcome``) of a PTDaemon ranging + testing run
    session: Any = field(default=None, repr=False)


class MeterPlan:
    """A meter (or none) for the run's performance test."""

    def __init__(self, meter: Meter | None) -> None:
        self.meter = meter
        self._closed = False

    @property
    def needs_ranging(self) -> bool:
        return self.meter is not None and self.meter.needs_ranging

    def measure(self, run_once: RunOnce, perf_dir: Path) -> MeasuredPower:
        """Run the performance test under the meter; the power block and verdict go into its record."""
        meter = self.meter
        if meter is not None and meter.needs_ranging:
            outcome = run_with_power(meter, run_once, perf_dir)  # closes the meter
            self._closed = True
            return MeasuredPower(outcome.performance_dir or perf_dir, outcome.power, outcome.failure, outcome)
        ps = PowerSession(meter, perf_dir)  # no meter: the record says "power: not measured"
        try:
            run_once(perf_dir, "testing", [ps])
        finally:
            self.close()
        return MeasuredPower(perf_dir, ps.block, ps.failure if meter is not None else None)

    def close(self) -> None:
        if self.meter is not None and not self._closed:
            self._closed = True
            self.meter.close()

    def __enter__(self) -> "MeterPlan":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def power_plan(spec: str | None) -> MeterPlan:
    """The plan for ``--power SPEC`` (None or "none": no meter). A meter that cannot be reached fails here."""
    meter = make_meter(spec) if spec else None
    connect = getattr(meter, "open", None)  # a networked meter (PTDaemon) connects now, before anything loads
    if meter is not None and callable(connect):
        try:
            connect()
        except BaseException:
            meter.close()
            raise
    return MeterPlan(meter)
