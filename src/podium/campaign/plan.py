"""The plan of a campaign: the matrix in run order, a rough duration for each run, and every prerequisite
checked before anything runs (files, backend importable, memory, the scenarios the round requires)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from podium.campaign.model import Campaign, RunSpec
from podium.campaign.rounds import get_round
from podium.errors import PodiumError

#: rough seconds to load a model and its data, per benchmark (the rest: DEFAULT_SETUP_S)
SETUP_S = {"digits": 3.0, "resnet": 60.0, "retinanet": 60.0, "bert-99": 60.0, "bert-99.9": 60.0, "rnnt": 60.0,
           "3d-unet-99": 60.0, "3d-unet-99.9": 60.0, "dlrm-99": 300.0, "dlrm-99.9": 300.0}
DEFAULT_SETUP_S = 60.0
#: rough seconds for a full accuracy run (every sample of the data set once) on one accelerator
ACCURACY_S = {"digits": 2.0, "resnet": 600.0, "retinanet": 1800.0, "bert-99": 900.0, "bert-99.9": 900.0,
              "rnnt": 1800.0, "3d-unet-99": 1800.0, "3d-unet-99.9": 1800.0, "dlrm-99": 3600.0,
              "dlrm-99.9": 3600.0}
#: a full run's performance test: the 600 s minimum and some slack for the last queries
FULL_PERFORMANCE_S = 660.0
#: models a run needs (bytes) x this is the memory it is allowed to take
MEMORY_FACTOR = 3.0


@dataclass
class PlannedRun:
    """One run with its rough duration."""

    spec: RunSpec
    estimate_s: float


@dataclass
class Plan:
    """The matrix, its estimates, the problems that stop it from running, and the notes that do not."""

    campaign: Campaign
    runs: list[PlannedRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return sum(r.estimate_s for r in self.runs)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def short(self) -> bool:
        return any(r.spec.short for r in self.runs)


def estimate_s(spec: RunSpec) -> float:
    """Rough wall time of one run: loading, calibration, the performance test, the accuracy test, the
    compliance tests, find-peak probes."""
    s = spec.settings
    t = SETUP_S.get(spec.benchmark, DEFAULT_SETUP_S)
    perf = FULL_PERFORMANCE_S if s.full else float(s.duration_s or 5.0) + 1.0
    if s.duration_s is not None:
        t += 2.0 + perf  # calibration, and the harness probe of a short run
    if "performance" in spec.modes:
        t += perf
    if s.find_peak:
        t += 6 * perf
    if "accuracy" in spec.modes and not s.synthetic:
        t += ACCURACY_S.get(spec.benchmark, 600.0) if s.full or spec.benchmark != "digits" else 2.0
    if "compliance" in spec.modes:
        t += 3 * perf  # TEST01, TEST04 (short), TEST05
    return t


def format_duration(seconds: float) -> str:
    """``1h 02m``, ``3m 20s``, ``12s``."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def make_plan(campaign: Campaign) -> Plan:
    """The plan of ``campaign`` with every prerequisite checked (nothing runs)."""
    plan = Plan(campaign, [PlannedRun(spec, estimate_s(spec)) for spec in campaign.runs])
    _check_round(campaign, plan)
    _check_system(campaign, plan)
    checked_files: set[tuple[str, str, str | None]] = set()
    backends: dict[str, str] = {}
    for r in plan.runs:
        _check_run(r.spec, plan, checked_files, backends)
    if plan.short:
        tree = "a draft" if campaign.round == "v2.1" else "a practice tree (not an MLPerf submission)"
        plan.notes.append(f"short runs (settings.duration): not a valid MLPerf duration ({campaign.round} requires "
                          f"600 s and the mlperf.conf query counts); the submission tree will be {tree}")
    return plan


def _check_round(campaign: Campaign, plan: Plan) -> None:
    rnd = get_round(campaign.round)
    name = campaign.path.name
    if campaign.division == "open":
        return  # the open division may submit any subset of scenarios
    planned: dict[str, set[str]] = {}
    for spec in campaign.runs:
        planned.setdefault(spec.benchmark, set()).add(spec.scenario)
    for bench, scens in planned.items():
        req = rnd.required(bench, campaign.category)
        if req is None:
            if rnd.official_model(bench) is None:
                tree = "a draft tree" if rnd.name == "v2.1" else "a practice tree (not an MLPerf submission)"
                plan.notes.append(f"{bench} is not an MLPerf {rnd.name} benchmark: its runs go into {tree}")
            else:
                plan.problems.append(f"{name}: {bench} is not a {rnd.name} benchmark for {campaign.category} "
                                     "systems")
            continue
        missing = [s for s in req if s not in scens]
        if missing:
            plan.problems.append(f"{name}: {bench} on a {campaign.category} system needs {', '.join(req)} in "
                                 f"{rnd.name}; missing {', '.join(missing)}")
    for spec in campaign.runs:
        if rnd.official_model(spec.benchmark) is None:
            continue
        lacking = [m for m in ("performance", "accuracy", "compliance") if m not in spec.modes]
        if lacking:
            plan.problems.append(f"{spec.where}: {spec.run_id}: the {campaign.division} division needs "
                                 f"{', '.join(lacking)} (modes)")


def _check_system(campaign: Campaign, plan: Plan) -> None:
    desc = campaign.system.description
    if desc is not None and not Path(desc).is_file():
        plan.problems.append(f"{campaign.path.name}: system.description {desc}: file not found")
    if campaign.measurements is not None and not Path(campaign.measurements).is_file():
        plan.problems.append(f"{campaign.path.name}: measurements {campaign.measurements}: file not found")


def _fetched(benchmark: str, what: str) -> Path | None:
    """Where ``podium fetch`` put ``what`` of ``benchmark`` (None when it did not, or podium.fetch is absent)."""
    try:
        from podium.fetch import asset_path
    except ImportError:
        return None
    try:
        return asset_path(benchmark, what)
    except PodiumError:
        return None


def _check_run(spec: RunSpec, plan: Plan, checked: set[tuple[str, str, str | None]],
               backends: dict[str, str]) -> None:
    from podium.benchmarks import get_benchmark

    where = f"{spec.where}: {spec.run_id}"
    bench = get_benchmark(spec.benchmark)
    if spec.settings.synthetic:
        try:
            bench = bench.synthetic_variant()
        except PodiumError as exc:
            plan.problems.append(f"{where}: settings.synthetic: {exc}")
            return
    if not bench.supports(spec.scenario):
        plan.problems.append(f"{where}: {bench.name} runs {', '.join(bench.scenarios)}, not {spec.scenario}")
    # backend importable (one line per backend, not per run)
    if spec.backend.backend not in backends:
        from podium.backends import available_backends

        avail = available_backends()
        backends[spec.backend.backend] = avail.get(spec.backend.backend.lower(),
                                                   f"unknown backend; expected one of {', '.join(sorted(avail))}")
        if backends[spec.backend.backend] != "ok":
            plan.problems.append(f"{where}: backend {spec.backend.backend}: {backends[spec.backend.backend]}")
    # model file
    key = (spec.benchmark, "model", spec.model_path)
    model: Path | None = None
    if spec.model_path is not None:
        model = Path(spec.model_path)
        if not model.is_file():
            if key not in checked:
                plan.problems.append(f"{where}: model_path {model}: file not found")
            model = None
    else:
        model = _fetched(spec.benchmark, "model") or bench.default_model_path()
        if model is None or not model.is_file():
            if key not in checked:
                hint = bench.missing_files_hint() or bench.build_hint()
                shown = f"default {model}" if model else "no default"
                plan.problems.append(f"{where}: model: not found ({shown}); give model_path or `podium fetch "
                                     f"{spec.benchmark} --what model`" + (f" ({hint})" if hint else ""))
            model = None
    # data folder
    dkey = (spec.benchmark, "data", spec.data_dir)
    if spec.data_dir is not None:
        if not bench.takes_data_dir:
            plan.problems.append(f"{where}: data_dir: {bench.name} ships its own data; leave data_dir out")
        elif dkey not in checked and not Path(spec.data_dir).is_dir():
            plan.problems.append(f"{where}: data_dir {spec.data_dir}: folder not found")
    elif bench.needs_data_dir and not spec.settings.synthetic and dkey not in checked:
        if _fetched(spec.benchmark, "data") is None:
            plan.problems.append(f"{where}: data_dir: not given and not fetched; give data_dir or "
                                 f"`podium fetch {spec.benchmark} --what data`")
    checked.update({key, dkey})
    # memory: a rough bound from the model's size
    if model is not None:
        need = model.stat().st_size * MEMORY_FACTOR
        free = available_memory()
        if free is not None and need > free:
            plan.problems.append(f"{where}: memory: the model ({model.stat().st_size / 2**30:.1f} GiB) needs about "
                                 f"{need / 2**30:.1f} GiB; {free / 2**30:.1f} GiB available")


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``; elsewhere the physical size), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
