"""Reading the output folder of a finished ``podium run``.

A run folder holds one sub-folder per mode it ran (``performance/``, ``accuracy/`` with ``accuracy.txt``, or
``submission/`` for a SubmissionRun), each with the official logs and podium's ``podium_result.json``
(benchmark, scenario, settings, result, system). ``read_run`` accepts the run folder or one of those
sub-folders and returns a ``FinishedRun`` with the figures the results store, the report and the submission
packager need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import PodiumError
from podium.files import PODIUM_SUBDIR, find_result
from podium.loadgen.record import RunRecord

RESULT_FILE = "podium_result.json"
#: Sub-folders ``podium run`` writes, in the order they are looked for.
PART_FOLDERS: tuple[str, ...] = ("performance", "accuracy", "submission")
#: The testing run's folder inside a power session (``podium.power`` writes ranging/, run_1/, power/).
POWER_RUN = "run_1"
#: The ranging run's folder inside a power session.
POWER_RANGING = "ranging"
#: MLPerf v2.1 minimum run length; shorter runs are labelled "short run".
FULL_DURATION_MS = 600_000


class RunFolderError(PodiumError):
    """A folder given as a run is not the output of ``podium run`` (or its result file is unreadable)."""


@dataclass
class RunPart:
    """One mode's folder of a run: its logs and its parsed ``podium_result.json``."""

    kind: str
    folder: Path
    result: dict[str, Any]
    #: A power session's folder (``ranging/``, ``run_1/``, ``power/``) when this part is its ``run_1``.
    power_session: Path | None = None

    def file(self, name: str) -> Path:
        return self.folder / name

    @property
    def result_file(self) -> Path:
        """This part's ``podium_result.json`` (in ``podium/``, or where podium 0.1 wrote it)."""
        return find_result(self.folder) or self.folder / PODIUM_SUBDIR / RESULT_FILE

    @property
    def mode(self) -> str:
        return str(self.result.get("mode", ""))


def _load_result(path: Path) -> dict[str, Any]:
    """The run record at ``path`` (read through ``RunRecord``, the type the engine writes it as)."""
    try:
        return RunRecord.read(path).data
    except PodiumError as exc:
        raise RunFolderError(str(exc)) from None


def _part_kind(result: dict[str, Any], folder: Path) -> str:
    if folder.name in PART_FOLDERS:
        return folder.name
    return {"PerformanceOnly": "performance", "AccuracyOnly": "accuracy",
            "SubmissionRun": "submission"}.get(str(result.get("mode")), "performance")


@dataclass
class FinishedRun:
    """A finished ``podium run``: its performance part and/or accuracy part (a SubmissionRun is both)."""

    path: Path
    parts: dict[str, RunPart] = field(default_factory=dict)

    # ---- parts -----------------------------------------------------------------------------------------
    @property
    def performance(self) -> RunPart | None:
        """The part holding the performance result (``performance/``, else ``submission/``)."""
        return self.parts.get("performance") or self.parts.get("submission")

    @property
    def accuracy(self) -> RunPart | None:
        """The part holding the accuracy log and ``accuracy.txt`` (``accuracy/``, else ``submission/``)."""
        return self.parts.get("accuracy") or self.parts.get("submission")

    @property
    def main(self) -> RunPart:
        part = self.performance or self.accuracy
        assert part is not None  # read_run never returns a run without parts
        return part

    # ---- what was run ----------------------------------------------------------------------------------
    @property
    def benchmark_info(self) -> dict[str, Any]:
        info = self.main.result.get("benchmark")
        return info if isinstance(info, dict) else {}

    @property
    def benchmark(self) -> str:
        return str(self.benchmark_info.get("name") or "unknown")

    @property
    def scenario(self) -> str:
        return str(self.main.result.get("scenario") or "unknown")

    @property
    def round(self) -> str:
        """The MLPerf round the run followed (records from before rounds were a setting are v2.1)."""
        return str(self.main.result.get("round") or "v2.1")

    @property
    def backend(self) -> str:
        b = self.main.result.get("backend")
        return str(b.get("name")) if isinstance(b, dict) and b.get("name") else ""

    @property
    def backend_info(self) -> dict[str, Any]:
        b = self.main.result.get("backend")
        return b if isinstance(b, dict) else {}

    @property
    def model_info(self) -> dict[str, Any]:
        m = self.main.result.get("model")
        return m if isinstance(m, dict) else {}

    @property
    def system(self) -> dict[str, Any]:
        s = self.main.result.get("system")
        return s if isinstance(s, dict) else {}

    @property
    def podium_version(self) -> str:
        return str(self.main.result.get("podium_version", ""))

    @property
    def effective_settings(self) -> dict[str, Any]:
        part = self.performance or self.main
        s = part.result.get("effective_settings")
        return s if isinstance(s, dict) else {}

    @property
    def requested_settings(self) -> dict[str, Any]:
        part = self.performance or self.main
        s = part.result.get("requested_settings")
        return s if isinstance(s, dict) else {}

    @property
    def modes(self) -> list[str]:
        return sorted(self.parts)

    # ---- performance ------------------------------------------------------------------------------------
    @property
    def perf(self) -> dict[str, Any]:
        part = self.performance
        p = part.result.get("performance") if part is not None else None
        return p if isinstance(p, dict) else {}

    @property
    def metric(self) -> dict[str, Any]:
        m = self.perf.get("metric")
        return m if isinstance(m, dict) else {}

    @property
    def valid(self) -> bool | None:
        """True/False for the performance result; None when the run has no performance part."""
        if not self.perf:
            return None
        return bool(self.perf.get("valid"))

    @property
    def lateness(self) -> dict[str, Any]:
        late = self.perf.get("issue_lateness")
        return late if isinstance(late, dict) else {}

    @property
    def power(self) -> dict[str, Any]:
        """Power figures a power meter added to the result (``power`` key), if any."""
        for part in (self.performance, self.accuracy):
            if part is not None and isinstance(part.result.get("power"), dict):
                return part.result["power"]
        return {}

    # ---- accuracy ---------------------------------------------------------------------------------------
    @property
    def accuracy_result(self) -> dict[str, Any]:
        part = self.accuracy
        a = part.result.get("accuracy") if part is not None else None
        return a if isinstance(a, dict) else {}

    @property
    def accuracy_txt(self) -> Path | None:
        part = self.accuracy
        if part is None:
            return None
        p = part.file("accuracy.txt")
        return p if p.is_file() else None

    # ---- labels -----------------------------------------------------------------------------------------
    @property
    def random_weights(self) -> bool:
        return bool(self.benchmark_info.get("random_weights"))

    @property
    def short_run(self) -> bool:
        """Shorter than the 600 s MLPerf v2.1 requires (or podium labelled it so)."""
        dur = self.effective_settings.get("min_duration_ms")
        if isinstance(dur, (int, float)) and dur < FULL_DURATION_MS:
            return True
        return any(str(label).startswith("short run") for label in self.labels_raw)

    @property
    def labels_raw(self) -> list[str]:
        out: list[str] = []
        for part in self.parts.values():
            for label in part.result.get("labels") or []:
                if label not in out:
                    out.append(str(label))
        return out

    def labels(self) -> list[str]:
        """Honest labels to show beside every figure of this run."""
        out = list(self.labels_raw)
        if self.short_run and not any(lbl.startswith("short run") for lbl in out):
            out.append("short run: shorter than the 600 s MLPerf v2.1 requires")
        if self.random_weights and not any(lbl.startswith("random weights") for lbl in out):
            out.append("random weights: performance only, accuracy is meaningless")
        for lbl in self.power.get("labels") or []:
            text = str(lbl) if str(lbl).startswith("power") else f"power: {lbl}"
            if text not in out and str(lbl) not in out:
                out.append(text)
        if self.valid is False:
            reasons = "; ".join(str(r) for r in self.perf.get("invalid_reasons") or [])
            out.append("INVALID" + (f": {reasons}" if reasons else ""))
        return out

    @property
    def finished_at(self) -> float:
        """Modification time of the newest result file (seconds since the epoch)."""
        return max(os.path.getmtime(p.result_file) for p in self.parts.values())


def read_run(path: str | os.PathLike[str]) -> FinishedRun:
    """Read a ``podium run`` output folder (or one of its mode sub-folders)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise RunFolderError(f"{p}: no such run folder")
    if p.is_file():
        if p.name != RESULT_FILE:
            raise RunFolderError(f"{p}: expected a run folder or its {RESULT_FILE}")
        p = p.parent
        if p.name == PODIUM_SUBDIR:
            p = p.parent  # the result file in a log folder's podium/ sub-folder (contract A)
    run = FinishedRun(path=p.resolve())
    own = find_result(p)
    if own is not None:
        result = _load_result(own)
        kind = _part_kind(result, p)
        session = p.resolve().parent if p.name == POWER_RUN and (p.parent / "power").is_dir() else None
        run.parts[kind] = RunPart(kind, p.resolve(), result, power_session=session)
        return run
    for name in PART_FOLDERS:
        f = find_result(p / name)
        if f is not None:
            run.parts[name] = RunPart(name, (p / name).resolve(), _load_result(f))
        else:
            g = find_result(p / name / POWER_RUN)
            if g is not None:
                # a run measured with power: the session folder holds ranging/, run_1/ and power/
                folder = (p / name / POWER_RUN).resolve()
                run.parts[name] = RunPart(name, folder, _load_result(g), power_session=folder.parent)
            elif (r := find_result(p / name / POWER_RANGING)) is not None:
                # the meter failed during ranging, so no testing run: the ranging run's result stands (its
                # power block says "missing"); it is recorded, never packaged (no power session to submit)
                run.parts[name] = RunPart(name, (p / name / POWER_RANGING).resolve(), _load_result(r))
    if not run.parts:
        raise RunFolderError(f"{p}: not a podium run folder (no {RESULT_FILE} in it nor in "
                             f"{', '.join(n + '/' for n in PART_FOLDERS)})")
    return run
