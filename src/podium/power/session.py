"""Measuring a run: ``PowerSession`` around one LoadGen run, ``run_with_power`` for the official double run.

``with PowerSession(meter, run_dir) as ps: <one performance run>`` then ``ps.attach(run_dir)``: the meter
starts before the run and stops after it; a meter failure (e.g. PTDaemon disconnecting) never stops the
run, its performance result stands and the power block says "missing" with the error.

``run_with_power(meter, run_once, out_dir)`` does what the MLCommons power client does: for a meter that
needs it (PTDaemon) a ranging run then a testing run of the same workload, and it writes the session folder
in the submission tree's ``performance/`` layout: ``ranging/`` and ``run_1/`` (LoadGen logs + ``spl.txt``,
plus podium's ``podium/podium_result.json``/``podium/power_summary.txt``) and ``power/`` (client/server json
and logs, ``ptd_logs.txt``). ``export_power_tree`` copies it without podium's files, as the checker requires.

A meter that dies (during the ranging run, between the runs, or during the testing run) never loses the
LoadGen logs already measured, but the power run is then INVALID: ``PowerOutcome.failure`` says why in one
line naming the phase, and the result of the run whose performance stands (``performance_dir``) carries
``"power_valid": false``, ``"power_error"`` and ``"power_run_result": "INVALID"``. A caller must treat a
``failure`` as a failed power run (exit code), not as a valid result with power left out.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from podium.power.errors import MeterDisconnectedError, PowerError
from podium.power.meter import Meter
from podium.power.official_files import write_power_folder
from podium.power.ptd_client import PtdMeter
from podium.loadgen.record import RecordContributor, RecordPart
from podium.power.result import (
    attach_power_result,
    record_labels,
    record_not_measured,
    record_power_missing,
    record_power_verdict,
    verdict_values,
)
from podium.power.window import RunWindow, window_from_result
from podium.power.samples import PowerSample

LOADGEN_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
                 "mlperf_log_trace.json", "podium_result.json")


def _phase_point() -> list[float]:
    return [time.time(), time.monotonic()]


def describe_failure(phase: str, err: BaseException | str, before: bool = False) -> str:
    """One line for a meter failure: what failed, in which run, and the meter's own message."""
    what = "meter connection lost" if isinstance(err, MeterDisconnectedError) else "power measurement failed"
    return f"{what} {'before' if before else 'during'} the {phase} run: {err}"


class PowerSession:
    """Start ``meter`` on entry and stop it on exit, around one run; ``attach`` writes the power result.

    ``meter`` None means no meter: ``attach`` records "power: not measured".
    """

    def __init__(self, meter: Meter | None, run_dir: Path | str | None = None, mark: str | None = None,
                 phase: str = "testing") -> None:
        self.meter = meter
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.phase = phase
        self.mark = mark or f"podium_{phase}"
        self.samples: list[PowerSample] = []
        self.error: str | None = None
        self.exception: PowerError | None = None
        self.block: dict[str, Any] | None = None
        self.phases: list[list[float]] = []

    def start(self) -> None:
        """Start the meter (``__enter__``); a meter that cannot start raises before the run, nothing is lost."""
        self.phases.append(_phase_point())
        if self.meter is not None:
            self.meter.start(self.mark)
        self.phases.append(_phase_point())

    def finish(self) -> None:
        """Stop the meter (``__exit__``); a meter failure is kept in ``error``, never raised."""
        self.phases.append(_phase_point())
        if self.meter is not None:
            try:
                self.samples = self.meter.stop()
            except PowerError as err:
                self.exception = err
                self.error = str(err)
                self.samples = self.meter.samples()  # what was read before the failure
        self.phases.append(_phase_point())

    def __enter__(self) -> "PowerSession":
        self.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> Literal[False]:
        self.finish()
        return False  # the run's own exception, if any, goes on

    @property
    def measured(self) -> bool:
        return self.meter is not None and self.error is None

    @property
    def failure(self) -> str | None:
        """Why this run's power is missing (one line naming the phase), or None: measured, or no meter."""
        if self.meter is None:
            return None
        if self.error is not None:
            return describe_failure(self.phase, self.exception or self.error)
        if self.block is not None and not self.block.get("measured"):
            errors = self.block.get("errors") or [self.block.get("reason") or "no power figures"]
            return f"no power figures for the {self.phase} run: {errors[0]}"
        return None

    def attach(self, run_dir: Path | str | None = None, verdict: bool = True, *, window: RunWindow | None = None,
               write_result: bool = True) -> dict[str, Any]:
        """Write the power result into the run folder's ``podium_result.json`` (and ``spl.txt``).

        With a meter and ``verdict``, the result also says whether the power run stands (``power_valid``,
        ``power_error``: see ``record_power_verdict``).
        For a run already recorded (a run folder podium did not write); inside ``start_test`` the session is
        a record contributor instead (``test_starting``/``test_ended``), and nothing is rewritten.
        """
        target = Path(run_dir) if run_dir is not None else self.run_dir
        if target is None:
            raise PowerError("PowerSession.attach: no run folder given")
        if self.meter is None:
            self.block = record_not_measured(target, write_result=write_result)
            return self.block
        if self.error is not None:
            self.block = record_power_missing(target, describe_failure(self.phase, self.exception or self.error),
                                              self.meter.info, self.phase, samples=self.samples, mark=self.mark,
                                              write_result=write_result)
        else:
            try:
                self.block = attach_power_result(target, self.samples, self.meter.info, mark=self.mark,
                                                 phase=self.phase, window=window, write_result=write_result)
            except PowerError as err:
                self.block = record_power_missing(target, str(err), self.meter.info, self.phase,
                                                  samples=self.samples, mark=self.mark, write_result=write_result)
        if verdict and write_result:
            record_power_verdict(target, self.failure, self.phase)
        return self.block

    # -- as a record contributor: start_test(contributors=[session]) -------------------------------------
    #: which verdict the record gets: "always" (the testing run), "on_failure" (a ranging run, whose failure
    #: ends the power run), "never"
    verdict_policy: str = "always"
    #: added to the failure line in the record (a ranging run: "; the testing run never ran")
    failure_suffix: str = ""

    def test_starting(self, outdir: Path, settings: Any) -> None:
        """Start the meter just before the test opens its logs (called by ``start_test``)."""
        self.run_dir = Path(outdir)
        self.start()

    def test_ended(self, result: Any) -> RecordPart:
        """Stop the meter once the logs are closed; the power block (and verdict) for the test's record."""
        self.finish()
        assert self.run_dir is not None
        window = None
        if self.meter is not None and self.error is None:
            try:
                window = window_from_result(result)
            except PowerError as err:
                self.error, self.exception = str(err), err
        block = self.attach(self.run_dir, verdict=False, window=window, write_result=False)
        values: dict[str, Any] = {"power": block}
        failure = self.failure
        if self.meter is not None and (self.verdict_policy == "always"
                                       or (self.verdict_policy == "on_failure" and failure is not None)):
            values.update(verdict_values(failure + self.failure_suffix if failure else None, self.phase))
        return RecordPart(values=values, labels=record_labels(block))


@dataclass
class PowerOutcome:
    """What ``run_with_power`` produced: the session folder, the two runs, their power blocks."""

    out_dir: Path
    session_name: str
    testing_dir: Path | None = None
    ranging_dir: Path | None = None
    power: dict[str, Any] = field(default_factory=dict)
    ranging_power: dict[str, Any] | None = None
    #: the meter's own message when it failed (None when it did not)
    error: str | None = None
    power_folder: Path | None = None
    #: why the power run is INVALID, one line naming the phase ("meter connection lost during the ranging
    #: run: ...; the testing run never ran"); None when the power was measured or no meter was used
    failure: str | None = None
    #: the run the failure hit: "ranging" or "testing" (None without a failure)
    failed_phase: str | None = None

    @property
    def measured(self) -> bool:
        return bool(self.power.get("measured"))

    @property
    def power_valid(self) -> bool:
        """The power run stands: a meter measured the testing run and nothing failed."""
        return self.failure is None and self.testing_dir is not None and self.measured

    @property
    def performance_dir(self) -> Path | None:
        """The run whose performance result stands (the testing run; the ranging run if testing never ran)."""
        return self.testing_dir or self.ranging_dir


def _place(returned: Path | None, official: Path) -> Path:
    """Make sure the LoadGen files (and podium's ``podium/`` files) are in the folder the submission tree expects."""
    from podium.files import PODIUM_SUBDIR

    if returned is None or Path(returned).resolve() == official.resolve():
        return official
    official.mkdir(parents=True, exist_ok=True)
    for name in LOADGEN_FILES:
        src = Path(returned) / name
        if src.is_file():
            shutil.copy2(src, official / name)
    if (Path(returned) / PODIUM_SUBDIR).is_dir():
        shutil.copytree(Path(returned) / PODIUM_SUBDIR, official / PODIUM_SUBDIR, dirs_exist_ok=True)
    return official


def _not_run_block(ranging_block: dict[str, Any] | None, reason: str) -> dict[str, Any]:
    """The testing run's power block when the testing run never ran (the meter failed before it)."""
    base = ranging_block or {}
    return {"status": "missing", "measured": False, "phase": "testing", "simulated": bool(base.get("simulated")),
            "labels": list(base.get("labels", [])), "meter": base.get("meter"), "errors": [reason],
            "reason": reason, "issues": []}


def _session_label(meter: Meter | None, label: str) -> str:
    simulated = meter is not None and meter.info.simulated
    return f"{label}-SIMULATED" if simulated else label


def run_with_power(meter: Meter | None, run_once: Callable[[Path, str, Sequence[RecordContributor]], Path],
                   out_dir: Path | str, label: str = "podium") -> PowerOutcome:
    """Run the workload under ``meter``: ranging then testing for PTDaemon, a single testing run otherwise.

    ``run_once(folder, phase, contributors)`` performs one LoadGen performance run writing its logs into
    ``folder`` (phase "ranging" or "testing"), passing ``contributors`` to ``start_test(contributors=...)``,
    and returns the folder it wrote. The meter starts and stops inside each test, and the power block and
    verdict go into the test's record as it is written (nothing rewrites it afterwards). The meter is closed
    at the end.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    client_log: list[str] = []

    def log(text: str) -> None:
        secs, rem = divmod(time.time_ns(), 1_000_000_000)
        client_log.append(f"podium-power {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(secs))},"
                          f"{rem // 1_000_000:03d} [INFO] {text}")

    phases: dict[str, list[list[float]]] = {"ranging": [], "testing": []}
    try:
        if meter is not None:
            meter.prepare("ranging" if meter.needs_ranging else "testing")  # failing here: nothing ran yet
        session = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{_session_label(meter, label)}"
        outcome = PowerOutcome(out_dir=out, session_name=session)

        def fail(phase: str, text: str, error: str | None) -> PowerOutcome:
            # the power run is INVALID; the record of the run whose logs stand already says why, except for a
            # failure between the runs, which only the outcome carries
            outcome.failure, outcome.failed_phase, outcome.error = text, phase, error
            log(f"{phase} run: {text}")
            return outcome

        log(f"session {session}, meter {meter.info.name if meter else 'none'}")
        testing = out / "run_1"
        ps = PowerSession(meter, testing, mark=f"{session}_testing", phase="testing")
        if meter is not None and meter.needs_ranging:
            ranging = out / "ranging"
            log("ranging run: start")
            rs = PowerSession(meter, ranging, mark=f"{session}_ranging", phase="ranging")
            rs.verdict_policy, rs.failure_suffix = "on_failure", "; the testing run never ran"
            outcome.ranging_dir = _place(run_once(ranging, "ranging", [rs]), ranging)
            phases["ranging"] = rs.phases
            outcome.ranging_power = rs.block
            assert rs.block is not None
            log(f"ranging run: done, power {rs.block['status']}")
            if rs.error is not None:
                # without ranging there are no testing ranges; the ranging run's performance result stands
                outcome.power = rs.block
                return fail("ranging", f"{rs.failure}; the testing run never ran", rs.error)
            log("testing run: start")
            try:
                meter.prepare("testing", rs.samples)
                returned = run_once(testing, "testing", [ps])
            except PowerError as err:
                if len(ps.phases) >= 2:  # the meter had started: not a failure between the runs
                    raise
                # the meter died (or refused the ranges) between the runs: the testing run did not run, since
                # its power could not be measured; the ranging run's logs are the performance result
                _remove_if_empty(testing)
                text = describe_failure("testing", err, before=True)
                outcome.power = _not_run_block(outcome.ranging_power, text)
                return fail("testing", f"{text}; the testing run never ran", str(err))
        else:
            log("testing run: start")
            returned = run_once(testing, "testing", [ps])  # a meter that cannot start fails before the run
        phases["testing"] = ps.phases
        outcome.testing_dir = _place(returned, testing)
        assert ps.block is not None
        outcome.power = ps.block
        log(f"testing run: done, power {ps.block['status']}")
        if meter is not None and ps.failure is not None:
            fail("testing", ps.failure, ps.error)
        if isinstance(meter, PtdMeter):
            info = meter.info
            owned = getattr(meter, "_owned", None)
            note = {"writer": "podium", "simulated": info.simulated,
                    "note": "written by podium's PTDaemon client; no MLCommons power server or client took part",
                    "clock_offset": info.clock_offset, "meter": info.name, "address": info.address}
            outcome.power_folder = write_power_folder(
                out, session, phases, meter.client.exchanges, client_log,
                getattr(owned, "log_lines", None), note,
                {"command": [], "device_type": None, "interface_flag": "", "device_port": info.address,
                 "channel": None, "identify": info.identify})
        return outcome
    finally:
        if meter is not None:
            meter.close()


def _remove_if_empty(folder: Path) -> None:
    """The test made ``folder``, then its meter refused to start: nothing is in it."""
    try:
        folder.rmdir()
    except OSError:
        pass
