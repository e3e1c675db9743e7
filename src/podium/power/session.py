"""Measuring a run: ``PowerSession`` around one LoadGen run, ``run_with_power`` for the official double run.

``with PowerSession(meter, run_dir) as ps: <one performance run>`` then ``ps.attach(run_dir)``: the meter
starts before the run and stops after it; a meter failure (e.g. PTDaemon disconnecting) never stops the
run, its performance result stands and the power block says "missing" with the error.

``run_with_power(meter, run_once, out_dir)`` does what the MLCommons power client does: for a meter that
needs it (PTDaemon) a ranging run then a testing run of the same workload, and it writes the session folder
in the submission tree's ``performance/`` layout: ``ranging/`` and ``run_1/`` (LoadGen logs + ``spl.txt``,
plus podium's ``podium_result.json``/``power_summary.txt``) and ``power/`` (client/server json and logs,
``ptd_logs.txt``). ``export_power_tree`` copies it without podium's files, as the checker requires.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from podium.power.errors import PowerError
from podium.power.meter import Meter
from podium.power.official_files import write_power_folder
from podium.power.ptd_client import PtdMeter
from podium.power.result import (
    attach_power_result,
    record_not_measured,
    record_power_missing,
)
from podium.power.samples import PowerSample

LOADGEN_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
                 "mlperf_log_trace.json", "podium_result.json")


def _phase_point() -> list[float]:
    return [time.time(), time.monotonic()]


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
        self.phases: list[list[float]] = []

    def __enter__(self) -> "PowerSession":
        self.phases.append(_phase_point())
        if self.meter is not None:
            self.meter.start(self.mark)  # a meter that cannot start fails before the run, nothing is lost
        self.phases.append(_phase_point())
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> Literal[False]:
        self.phases.append(_phase_point())
        if self.meter is not None:
            try:
                self.samples = self.meter.stop()
            except PowerError as err:
                self.error = str(err)
                self.samples = self.meter.samples()
        self.phases.append(_phase_point())
        return False  # the run's own exception, if any, goes on

    @property
    def measured(self) -> bool:
        return self.meter is not None and self.error is None

    def attach(self, run_dir: Path | str | None = None) -> dict[str, Any]:
        """Write the power result into the run folder's ``podium_result.json`` (and ``spl.txt``)."""
        target = Path(run_dir) if run_dir is not None else self.run_dir
        if target is None:
            raise PowerError("PowerSession.attach: no run folder given")
        if self.meter is None:
            return record_not_measured(target)
        if self.error is not None:
            return record_power_missing(target, f"power measurement failed: {self.error}", self.meter.info,
                                        self.phase)
        try:
            return attach_power_result(target, self.samples, self.meter.info, mark=self.mark, phase=self.phase)
        except PowerError as err:
            return record_power_missing(target, str(err), self.meter.info, self.phase)


@dataclass
class PowerOutcome:
    """What ``run_with_power`` produced: the session folder, the two runs, their power blocks."""

    out_dir: Path
    session_name: str
    testing_dir: Path | None = None
    ranging_dir: Path | None = None
    power: dict[str, Any] = field(default_factory=dict)
    ranging_power: dict[str, Any] | None = None
    error: str | None = None
    power_folder: Path | None = None

    @property
    def measured(self) -> bool:
        return bool(self.power.get("measured"))

    @property
    def performance_dir(self) -> Path | None:
        """The run whose performance result stands (the testing run; the ranging run if testing never ran)."""
        return self.testing_dir or self.ranging_dir


def _place(returned: Path | None, official: Path) -> Path:
    """Make sure the LoadGen files are in the folder the submission tree expects."""
    if returned is None or Path(returned).resolve() == official.resolve():
        return official
    official.mkdir(parents=True, exist_ok=True)
    for name in LOADGEN_FILES:
        src = Path(returned) / name
        if src.is_file():
            shutil.copy2(src, official / name)
    return official


def _session_label(meter: Meter | None, label: str) -> str:
    simulated = meter is not None and meter.info.simulated
    return f"{label}-SIMULATED" if simulated else label


def run_with_power(meter: Meter | None, run_once: Callable[[Path, str], Path], out_dir: Path | str,
                   label: str = "podium") -> PowerOutcome:
    """Run the workload under ``meter``: ranging then testing for PTDaemon, a single testing run otherwise.

    ``run_once(folder, phase)`` performs one LoadGen performance run writing its logs into ``folder``
    (phase "ranging" or "testing") and returns the folder it wrote. The meter is closed at the end.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    client_log: list[str] = []

    def log(text: str) -> None:
        secs, rem = divmod(time.time_ns(), 1_000_000_000)
        client_log.append(f"podium-power {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(secs))},"
                          f"{rem // 1_000_000:03d} [INFO] {text}")

    phases: dict[str, list[list[float]]] = {"ranging": [], "testing": []}
    ranging_samples: list[PowerSample] | None = None
    try:
        if meter is not None:
            meter.prepare("ranging" if meter.needs_ranging else "testing")
        session = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{_session_label(meter, label)}"
        outcome = PowerOutcome(out_dir=out, session_name=session)
        log(f"session {session}, meter {meter.info.name if meter else 'none'}")
        if meter is not None and meter.needs_ranging:
            ranging = out / "ranging"
            log("ranging run: start")
            with PowerSession(meter, ranging, mark=f"{session}_ranging", phase="ranging") as ps:
                returned = run_once(ranging, "ranging")
            phases["ranging"] = ps.phases
            outcome.ranging_dir = _place(returned, ranging)
            outcome.ranging_power = ps.attach(outcome.ranging_dir)
            log(f"ranging run: done, power {outcome.ranging_power['status']}")
            if ps.error is not None:
                # without ranging there are no testing ranges; the ranging run's performance result stands
                outcome.error = ps.error
                outcome.power = outcome.ranging_power
                log(f"ranging run: meter failed: {ps.error}")
                return outcome
            ranging_samples = ps.samples
            meter.prepare("testing", ranging_samples)
        testing = out / "run_1"
        log("testing run: start")
        with PowerSession(meter, testing, mark=f"{session}_testing", phase="testing") as ps:
            returned = run_once(testing, "testing")
        phases["testing"] = ps.phases
        outcome.testing_dir = _place(returned, testing)
        outcome.power = ps.attach(outcome.testing_dir)
        outcome.error = ps.error
        log(f"testing run: done, power {outcome.power['status']}")
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
