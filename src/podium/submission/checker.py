"""``check_submission(root)``: podium's checker of a v2.1 submission tree.

It walks ``<division>/<submitter>/results/<system>/<benchmark>/<scenario>`` as the official v2.1 checker
does, applies the rules of ``checks`` (layout, files, system fields, log keys, seeds, durations, sample
counts, latency bounds, early stopping, accuracy, compliance verdicts, required scenarios), and collects every
problem instead of stopping at the first. A scenario with no error becomes a row of the results table
(the official summary CSV, see ``table``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.submission import rules
from podium.submission.checks import (
    Findings,
    Problem,
    check_accuracy,
    check_measurements,
    check_performance,
    check_power,
    file_set_diff,
)
from podium.submission.sysdesc import field_problems


@dataclass
class ResultRow:
    """One accepted scenario: the columns of the official summary CSV."""

    submitter: str
    availability: str
    division: str
    system_type: str
    system_name: str
    platform: str
    model: str
    mlperf_model: str
    scenario: str
    result: float
    accuracy: str
    system: dict[str, Any]
    location: str
    compliance: int
    errors: int
    inferred: int
    power: float = 0.0
    #: the round whose checker accepted it (the CSV's ``version``; v6.x rows have the current columns)
    round: str = rules.ROUND
    weight_data_types: str = ""

    @property
    def units(self) -> str:
        if self.round != rules.ROUND:
            from podium.submission.rules_current import RESULT_UNITS

            return RESULT_UNITS[self.scenario]
        return rules.RESULT_UNITS[self.scenario]


@dataclass
class CheckReport:
    """Every problem found and the results accepted."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    rows: list[ResultRow] = field(default_factory=list)
    #: Every scenario with a measured result, accepted or not (``errors`` > 0 when not): ``submission table``.
    measured: list[ResultRow] = field(default_factory=list)
    #: Scenario folders checked -> True when accepted.
    scenarios: dict[str, bool] = field(default_factory=dict)
    #: a practice tree (``podium.submission.practice``): why it is one; empty for a submission
    practice: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.scenarios)


def _dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def _load_system(f: Findings, path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        f.error("system", path, f"cannot read ({exc.strerror})")
        return None
    except json.JSONDecodeError as exc:
        f.error("system", path, f"not valid JSON (line {exc.lineno}: {exc.msg})")
        return None
    if not isinstance(data, dict):
        f.error("system", path, "expected a JSON object of system fields")
        return None
    return data


def check_compliance(f: Findings, folder: Path, model: str, scenario: str, division: str,
                     system: dict[str, Any]) -> bool:
    """The compliance folder of one scenario: each required test, its performance logs (TEST05 with its own
    seeds), ``TEST PASS`` verdicts, exact file sets, TEST01's accuracy folder (and its fallback delta)."""
    from podium.compliance import check_compliance_dir  # the compliance engineer's rules for these folders

    before = f.error_count
    if not folder.is_dir():
        f.error("compliance", folder, "missing (closed and network submissions need TEST01/TEST04/TEST05 results)")
        return False
    tests = rules.compliance_tests(model)
    for message in check_compliance_dir(folder, model, tests):
        path, _, what = message.partition(": ")
        f.error("compliance", Path(path), what or message)
    for test in tests:
        run = folder / test / "performance" / "run_1"
        if run.is_dir():
            check_performance(f, run, model, scenario, division, system, test05=test == "TEST05")
    return f.error_count == before


def tree_round(root: str | os.PathLike[str]) -> str:
    """The round of the tree at ``root``: the one podium's record beside it names, else its layout's (a
    submitter folder with ``measurements/`` or ``compliance/`` is v2.1's; otherwise the newest round's)."""
    from podium.loadgen.rules import NEWEST

    base = Path(root).resolve()
    marker = base.with_name(f"{base.name}.podium_package.json")
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8")).get("round") or rules.ROUND)
        except (OSError, json.JSONDecodeError):
            pass
    for division in _dirs(base):
        for sub in _dirs(division):
            if (sub / "measurements").is_dir() or (sub / "compliance").is_dir():
                return rules.ROUND
    return NEWEST.name


def check_submission(root: str | os.PathLike[str], skip_compliance: bool = False,
                     round: str | None = None) -> CheckReport:
    """Check the submission tree at ``root`` (the folder holding ``closed``/``open``/``network``) with the
    checker rules of ``round`` (default: the tree's round, ``tree_round``), its compliance tests included."""
    from podium.loadgen.rules import active_round

    round_name = round or tree_round(root)
    if round_name != rules.ROUND:
        from podium.submission.check_current import check_current

        return check_current(root, round_name, skip_compliance)
    with active_round(rules.ROUND):
        return _check_submission(root, skip_compliance)


def _check_submission(root: str | os.PathLike[str], skip_compliance: bool) -> CheckReport:
    base = Path(root).resolve()
    f = Findings(base)
    report = CheckReport(base)
    if not base.is_dir():
        f.error("layout", base, "not a folder")
        report.problems = f.problems
        return report
    divisions = [d for d in _dirs(base) if d.name not in rules.IGNORED_TOP_LEVEL]
    for d in divisions:
        if d.name not in rules.DIVISIONS:
            f.error("layout", d, f"invalid division {d.name!r}: expected one of {', '.join(rules.DIVISIONS)}")
    if not any(d.name in rules.DIVISIONS for d in divisions):
        f.error("layout", base, f"no division folder ({', '.join(rules.DIVISIONS)}) in it")
    for division in (d for d in divisions if d.name in rules.DIVISIONS):
        closed = division.name in ("closed", "network")
        for sub in _dirs(division):
            _check_submitter(f, report, sub, division.name, closed, skip_compliance)
    report.problems = f.problems
    return report


def _check_submitter(f: Findings, report: CheckReport, sub: Path, division: str, closed: bool,
                     skip_compliance: bool) -> None:
    results = sub / "results"
    if not results.is_dir():
        f.error("layout", sub, "no results folder")
        return
    for folder in ("systems", "measurements", "code"):
        if not (sub / folder).is_dir():
            f.error("layout", sub / folder, "missing")
    for sys_dir in _dirs(results):
        system_id = sys_dir.name
        sys_json = sub / "systems" / f"{system_id}.json"
        if not sys_json.is_file():
            f.error("system", sys_json, f"missing: every results/{system_id} needs a system description")
            system: dict[str, Any] | None = None
        else:
            system = _load_system(f, sys_json)
        system_type = None
        if system is not None:
            for level, _key, message in field_problems(system, division, sub.name):
                (f.error if level == "error" else f.warning)("system", sys_json, message)
            if system.get("system_type") in rules.SYSTEM_TYPES:
                system_type = system["system_type"]
        for model_dir in _dirs(sys_dir):
            _check_model(f, report, sub, division, closed, skip_compliance, system_id, system or {}, system_type,
                         model_dir)


def _check_model(f: Findings, report: CheckReport, sub: Path, division: str, closed: bool, skip_compliance: bool,
                 system_id: str, system: dict[str, Any], system_type: str | None, model_dir: Path) -> None:
    model = rules.mlperf_model(model_dir.name)
    if model is None:
        f.error("model", model_dir, f"{model_dir.name!r} is not a v2.1 benchmark (expected one of "
                                    f"{', '.join(rules.MODELS)})")
        return
    if closed and model_dir.name not in rules.MODELS and model_dir.name not in rules.MODEL_ALIASES:
        f.error("model", model_dir, f"{model_dir.name!r}: closed and network need an official benchmark name")
        return
    required: set[str] | None = None
    if system_type is not None:
        req = rules.required_scenarios(model, system_type)
        if req is None:
            f.error("model", model_dir, f"{model} is not a v2.1 benchmark for {system_type} systems")
            return
        required = set(req)
    errors_in_model = 0
    for scen_dir in _dirs(model_dir):
        scenario = rules.scenario_name(scen_dir.name)
        key = f.rel(scen_dir)
        if scenario not in rules.SCENARIOS:
            f.error("layout", scen_dir, f"{scen_dir.name!r} is not a scenario ({', '.join(rules.SCENARIOS)})")
            continue
        if closed and required is not None and scenario not in required:
            f.warning("scenarios", scen_dir, f"{scenario} is not a {system_type} scenario of {model}: ignored")
            continue
        before = f.error_count
        meas = sub / "measurements" / system_id / model_dir.name / scen_dir.name
        check_measurements(f, meas, sub, system_id, model_dir.name, scen_dir.name)
        acc = check_accuracy(f, scen_dir / "accuracy", model, closed, scen_dir.name)
        perf_root = scen_dir / "performance"
        run = perf_root / "run_1"
        perf = None
        power = 0.0
        if not run.is_dir():
            f.error("files", run, "missing")
        else:
            opt = rules.PERFORMANCE_OPTIONAL
            req_files = rules.PERFORMANCE_FILES | (rules.POWER_RUN_FILES if (perf_root / "power").is_dir()
                                                   else frozenset())
            diff = file_set_diff(run, req_files, opt)
            if diff:
                f.error("files", run, f"file list mismatch ({', '.join(diff)}); expected "
                                      f"{', '.join(sorted(req_files))} (and optionally {', '.join(sorted(opt))})")
            perf = check_performance(f, run, model, scenario, division, system)
            if (perf_root / "power").is_dir():
                power = check_power(f, perf_root, scenario) or 0.0
        compliance_ok = not closed
        if closed and not skip_compliance:
            comp = sub / "compliance" / system_id / model_dir.name / scen_dir.name
            compliance_ok = check_compliance(f, comp, model, scenario, division, system)
        accepted = f.error_count == before and perf is not None and perf.result is not None and system_type is not None
        errors_in_model += f.error_count - before
        report.scenarios[key] = accepted
        if perf is not None and perf.result is not None:
            row = ResultRow(
                submitter=sub.name, availability=str(system.get("status", "")).lower(), division=division,
                system_type=str(system_type), system_name=str(system.get("system_name", "")), platform=system_id,
                model=model_dir.name, mlperf_model=model, scenario=scenario, result=perf.result,
                accuracy=acc.text or "", system=system, location=key, compliance=int(compliance_ok),
                errors=errors_in_model if accepted else f.error_count - before, inferred=int(perf.inferred),
                power=power)
            report.measured.append(row)
            if accepted:
                if required is not None:
                    required.discard(scenario)
                report.rows.append(row)
    report_missing_scenarios(f, model_dir, model, required, closed, system_type)


def report_missing_scenarios(f: Findings, model_dir: Path, model: str, required: set[str] | None, closed: bool,
                             system_type: str | None) -> None:
    """The required scenarios no accepted result covers: an error in closed and network, a warning in open."""
    if not required:
        return
    missing = ", ".join(sorted(required))
    if closed:
        f.error("scenarios", model_dir, f"missing required {system_type} scenarios of {model}: {missing}")
    else:
        f.warning("scenarios", model_dir, f"missing {system_type} scenarios of {model}: {missing} "
                                          "(allowed in the open division)")
