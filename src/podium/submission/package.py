"""``package_submission``: a v2.1 submission tree from finished ``podium run`` folders.

For each run (one benchmark x scenario): ``results/`` (performance logs in ``performance/run_1``, accuracy
logs with ``accuracy.txt``; the accuracy log truncated and ``hash=`` appended), ``measurements/`` (conf files,
README, measurements JSON), ``compliance/`` (TEST01/04/05 folders already run and verified by
``podium.compliance``, taken from ``<run>/compliance`` or a folder given per run), and once per tree the
system description, the code pointer and a README.

A run that cannot be submitted is refused with the reason (short, invalid, wrong seeds, accuracy below
target, random weights, missing compliance, ...) and nothing is written, unless ``draft`` is set: then the
tree is written and every README says it is a draft and why. An existing tree is only replaced with
``force``, and only if podium wrote it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import podium
from podium.errors import PodiumError
from podium.files import write_text_atomic
from podium.report.runs import FinishedRun, RunFolderError, read_run
from podium.submission import rules
from podium.submission.checker import CheckReport, check_compliance, check_submission
from podium.submission.checks import Findings, check_performance
from podium.submission.machine import Machine
from podium.submission.provenance import provenance_problems
from podium.submission.measurements import code_readme_text, implementation_name, safe_name, write_measurements
from podium.submission.sysdesc import SystemDescription, describe_system, field_problems, merge, read_system_json

#: podium's record of a tree it wrote: a file beside the tree (``<tree>.podium_package.json``), never inside it,
#: since the official checkers reject extra files in the tree's root
MARKER = "podium_package.json"


def marker_path(tree: Path) -> Path:
    """Where podium's record of the tree ``tree`` lives (beside it)."""
    return tree.with_name(f"{tree.name}.{MARKER}")


def _podium_wrote(tree: Path) -> bool:
    return marker_path(tree).is_file() or (tree / MARKER).is_file()  # inside: trees of podium 0.1
TESTS_FOLDER = "compliance"


class SubmissionRefused(PodiumError):
    """Runs that cannot be submitted; ``reasons`` holds one line per problem."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        super().__init__(f"cannot package: {reasons[0]}{more}")


@dataclass
class RunInput:
    """A run folder and, optionally, where its compliance results are (default ``<run>/compliance``)."""

    run_dir: Path
    compliance_dir: Path | None = None


@dataclass
class PackageResult:
    """What was written."""

    root: Path
    entries: list[str] = field(default_factory=list)
    system_to_fill: list[str] = field(default_factory=list)
    measurements_to_fill: dict[str, list[str]] = field(default_factory=dict)
    draft_reasons: list[str] = field(default_factory=list)
    #: a practice tree (``podium.submission.practice``): why it is one; empty for a submission
    practice: list[str] = field(default_factory=list)
    check: CheckReport | None = None


def _check_name(what: str, name: str) -> str:
    if not name or safe_name(name) != name:
        raise PodiumError(f"--{what} {name!r}: expected letters, digits, '.', '_' or '-' only (it names a folder)")
    return name


def _compliance_dir(inp: RunInput, run: FinishedRun) -> Path:
    if inp.compliance_dir is not None:
        return Path(inp.compliance_dir).expanduser().resolve()
    return run.path / TESTS_FOLDER


def run_problems(run: FinishedRun, division: str, compliance_dir: Path | None) -> list[str]:
    """Why ``run`` cannot go into a ``division`` submission (empty: it can)."""
    where = str(run.path)
    reasons: list[str] = []
    name = run.benchmark
    model = rules.mlperf_model(name)
    closed = division in ("closed", "network")
    if model is None:
        return [f"{where}: benchmark {name!r} is not an MLPerf v2.1 benchmark (the v2.1 checker accepts "
                f"{', '.join(rules.MODELS)})"]
    if closed and name not in rules.MODELS:
        reasons.append(f"{where}: benchmark {name!r}: the {division} division needs an official name "
                       f"({', '.join(rules.MODELS)})")
    if run.scenario not in rules.SCENARIOS:
        reasons.append(f"{where}: scenario {run.scenario!r} is not a v2.1 scenario")
        return reasons
    if run.random_weights:
        reasons.append(f"{where}: the model has random weights (performance only); a submission needs the "
                       "trained model")
    reasons += provenance_problems(run)
    perf, acc = run.performance, run.accuracy
    if perf is None:
        reasons.append(f"{where}: no performance run (podium run --mode performance)")
    else:
        f = Findings(perf.folder)
        if not (perf.folder / rules.SUMMARY).is_file():
            f.error("files", perf.folder / rules.SUMMARY, "missing")
        check_performance(f, perf.folder, model, run.scenario, division, _division_system(division))
        reasons += [f"{perf.folder}: {p.message}" for p in f.problems if p.level == "error"]
    if acc is None:
        reasons.append(f"{where}: no accuracy run (podium run --mode accuracy)")
    else:
        txt = acc.folder / rules.ACCURACY_TXT
        metric, target = rules.accuracy_target(model)
        value = None
        if not txt.is_file():
            reasons.append(f"{acc.folder}: no accuracy.txt (score the accuracy log first)")
        else:
            for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
                if rules.HASH_LINE.match(line):
                    break
                m = rules.ACCURACY_PATTERNS[metric].match(line)
                if m:
                    value = m.group(1)
            if value is None:
                reasons.append(f"{txt}: no {metric} line in the v2.1 format "
                               f"({rules.ACCURACY_PATTERNS[metric].pattern})")
            elif closed and float(value) < target:
                reasons.append(f"{txt}: {metric} {value} is below the {model} target {target:.6g}")
        for n in (rules.ACCURACY_LOG, rules.SUMMARY, rules.DETAIL):
            if not (acc.folder / n).is_file():
                reasons.append(f"{acc.folder / n}: missing")
    if closed:
        if compliance_dir is None or not compliance_dir.is_dir():
            reasons.append(f"{where}: no compliance results at {compliance_dir} (run TEST01/TEST04/TEST05 with "
                           "podium.compliance, or pass --compliance RUN=DIR)")
        else:
            f = Findings(compliance_dir)
            check_compliance(f, compliance_dir, model, run.scenario, division, _division_system(division))
            reasons += [f"{compliance_dir}: {p.path}: {p.message}" for p in f.problems if p.level == "error"]
    return reasons


def _division_system(division: str) -> dict[str, Any]:
    """The system fields the log checks read (a network system's SUT name must say so)."""
    return {rules.IS_NETWORK: "true"} if division == "network" else {}


def _prepare_out(out: Path, force: bool) -> None:
    if not out.exists():
        return
    if out.is_dir() and not any(out.iterdir()):
        return
    if not force:
        raise PodiumError(f"--out {out}: already exists; pass --force to replace it")
    if not _podium_wrote(out):
        raise PodiumError(f"--out {out}: exists and is not a tree podium wrote ({marker_path(out).name} missing); "
                          "remove it yourself or choose another folder")


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _tree_readme(req: dict[str, Any], result: PackageResult, rows: list[tuple[str, str, FinishedRun]]) -> str:
    lines = [f"# MLPerf Inference v2.1 submission: {req['submitter']}, {req['division']} division", ""]
    if result.draft_reasons:
        lines += ["**DRAFT: this tree cannot be submitted as it is.**", ""]
        lines += [f"- {r}" for r in result.draft_reasons] + [""]
    lines += [f"Written by podium {podium.__version__} on {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}.",
              "", "| benchmark | scenario | result | accuracy | run folder |", "|---|---|---|---|---|"]
    for bench, scen, run in rows:
        m = run.metric
        a = run.accuracy_result
        lines.append(f"| {bench} | {scen} | {m.get('name', '')} {m.get('value', '')} | "
                     f"{a.get('metric', '')} {a.get('value', '')} | `{run.path}` |")
    lines.append("")
    if result.system_to_fill:
        lines += [f"## Fill in before submitting: systems/{req['system']}.json", ""]
        lines += [f"- `{k}`" for k in result.system_to_fill] + [""]
    if any(result.measurements_to_fill.values()):
        lines += ["## Fill in before submitting: measurements JSON files", ""]
        for path, keys in result.measurements_to_fill.items():
            if keys:
                lines.append(f"- `{path}`: " + ", ".join(f"`{k}`" for k in keys))
        lines.append("")
    lines += ["## Check", "", "```", "podium submission check .",
              "python3 submission-checker.py --input . --version v2.1   # the official v2.1 checker", "```", ""]
    return "\n".join(lines)


def package_submission(runs: list[RunInput], *, division: str, submitter: str, system: str, out: str | Path,
                       system_json: str | Path | None = None, status: str | None = None,
                       system_type: str | None = None, measurements_json: str | Path | None = None,
                       force: bool = False, draft: bool = False, machine: Machine | None = None,
                       round: str | None = None, practice: bool = False) -> PackageResult:
    """Lay out the tree of ``runs`` under ``out`` for ``round`` (default: the runs' round; v2.1 here, the
    current rounds in ``package_current``). ``practice``: a practice tree (``podium.submission.practice``;
    current rounds only)."""
    from podium.loadgen.rules import active_round

    round_name = round or _runs_round(runs)
    if practice and round_name == rules.ROUND:
        raise PodiumError(f"--practice: practice trees have the current rounds' layout; the runs are round "
                          f"{round_name} (rerun them with --round v6.1)")
    if round_name != rules.ROUND:
        from podium.submission.package_current import package_current

        return package_current(runs, round_name=round_name, division=division, submitter=submitter,
                               system=system, out=out, system_json=system_json, status=status,
                               system_type=system_type, measurements_json=measurements_json, force=force,
                               draft=draft, machine=machine, practice=practice)

    with active_round(rules.ROUND):  # the tree, its compliance tests and its checker are round v2.1's
        return _package_submission(runs, division=division, submitter=submitter, system=system, out=out,
                                   system_json=system_json, status=status, system_type=system_type,
                                   measurements_json=measurements_json, force=force, draft=draft,
                                   machine=machine)


def _runs_round(runs: list[RunInput]) -> str:
    """The round of the first readable run (v2.1 when none can be read: the v2.1 packager reports why)."""
    for inp in runs:
        try:
            return read_run(inp.run_dir).round
        except RunFolderError:
            continue
    return rules.ROUND


def check_request(runs: list[RunInput], division: str, submitter: str, system: str, out: str | Path,
                  force: bool) -> Path:
    """Refuse bad arguments in one line (division, folder names, no runs, an ``out`` podium may not replace);
    returns the resolved ``out``."""
    if division not in rules.DIVISIONS:
        raise PodiumError(f"--division {division}: expected one of {', '.join(rules.DIVISIONS)}")
    _check_name("submitter", submitter)
    _check_name("system", system)
    if not runs:
        raise PodiumError("no runs given: pass the output folders of podium run")
    out_path = Path(out).expanduser().resolve()
    _prepare_out(out_path, force)
    return out_path


def vet_runs(runs: list[RunInput], round_name: str,
             problems: Callable[[RunInput, FinishedRun], list[str]]) -> tuple[list[tuple[RunInput, FinishedRun]],
                                                                            list[str]]:
    """Read the run folders, refuse (raise) a run of another round than the tree's, and collect every reason a
    run cannot be submitted: unreadable folders, a second run of one benchmark and scenario, ``problems``."""
    reasons: list[str] = []
    read: list[tuple[RunInput, FinishedRun]] = []
    for inp in runs:
        try:
            read.append((inp, read_run(inp.run_dir)))
        except RunFolderError as exc:
            reasons.append(str(exc))
    for _inp, run in read:
        if run.round != round_name:
            raise PodiumError(f"{run.path}: a round {run.round} run; a {round_name} submission takes runs of round "
                              f"{round_name} only (rerun with --round {round_name}, or package with "
                              f"--round {run.round})")
    seen: dict[tuple[str, str], Path] = {}
    for inp, run in read:
        key = (run.benchmark, run.scenario)
        if key in seen:
            reasons.append(f"{run.path}: a second {run.benchmark} {run.scenario} run (the first is {seen[key]}); "
                           "pass one per benchmark and scenario")
        seen[key] = run.path
        reasons += problems(inp, run)
    return read, reasons


def system_description(read: list[tuple[RunInput, FinishedRun]], *, machine: Machine | None, division: str,
                       submitter: str, system: str, status: str | None, system_type: str | None,
                       system_json: str | Path | None, required_fields: tuple[str, ...] = rules.SYSTEM_FIELDS_REQUIRED,
                       defaults: dict[str, Any] | None = None) -> SystemDescription:
    """The tree's system description: the machine's, the round's ``defaults`` over it, the user's file over
    that, the command line's status and category last; division and submitter are the folder names."""
    desc = describe_system(machine, division=division, submitter=submitter, system_name=system, status=status,
                           system_type=system_type, network=division == "network",
                           backends=[r.backend_info for _, r in read if r.backend_info])
    desc.fields.update(defaults or {})
    if system_json is not None:
        desc = merge(desc, read_system_json(system_json))
        if status:
            desc.fields["status"] = status
        if system_type:
            desc.fields["system_type"] = system_type
    desc.required_fields = required_fields
    # the folder names are what the checker compares with: this packaging decides them
    desc.fields["division"], desc.fields["submitter"] = division, submitter
    if division == "network":
        desc.fields[rules.IS_NETWORK] = "true"
    desc.refresh_to_fill()
    return desc


def description_problems(desc: SystemDescription, read: list[tuple[RunInput, FinishedRun]], *, system: str,
                         division: str, submitter: str, round_name: str,
                         mlperf_model: Callable[[str], str | None],
                         required_scenarios: Callable[[str, str], tuple[str, ...] | None],
                         practice: bool = False) -> list[str]:
    """Why the system description, or the scenarios given for its category, cannot be submitted (in a
    ``practice`` tree the fields left to fill are not reasons: the tree lists them)."""
    reasons: list[str] = []
    for level, field_name, message in field_problems(desc.fields, division, submitter, round_name):
        if practice and field_name in desc.to_fill:
            continue
        if level == "error":
            hint = {"status": " (pass --status)", "system_type": " (pass --system-type)"}.get(field_name, "")
            reasons.append(f"systems/{system}.json: {message}{hint}")
    sys_type = desc.fields.get("system_type")
    if division == "open" or sys_type not in rules.SYSTEM_TYPES:
        return reasons
    by_model: dict[str, set[str]] = {}
    for _, run in read:
        model = mlperf_model(run.benchmark)
        if model is not None:
            by_model.setdefault(model, set()).add(run.scenario)
    for model, scens in sorted(by_model.items()):
        req = required_scenarios(model, str(sys_type))
        if req is None:
            reasons.append(f"{model} is not a {round_name} benchmark for {sys_type} systems")
        elif set(req) - scens:
            reasons.append(f"{model} on a {sys_type} system needs {', '.join(req)}; runs given for "
                           f"{', '.join(sorted(scens))} (missing {', '.join(sorted(set(req) - scens))})")
    return reasons


def truncate_tree(tmp: Path, submitter: str, draft: bool, result: PackageResult) -> None:
    """Truncate every accuracy log of the tree being written (a failure refuses it, or labels a draft)."""
    from podium.compliance.truncate import truncate_submission

    for outcome in truncate_submission(tmp, submitter):
        if outcome.action == "error":
            if not draft:
                raise PodiumError(f"truncating {outcome.accuracy_log}: {outcome.message}")
            result.draft_reasons.append(f"not truncated: {outcome.message}")


def move_into_place(tmp: Path, out_path: Path, round_name: str, result: PackageResult,
                    read: list[tuple[RunInput, FinishedRun]], names: dict[str, Any]) -> None:
    """Replace ``out_path`` by the finished tree ``tmp`` and write podium's record of it beside it."""
    marker = json.dumps({
        "podium_version": podium.__version__, "round": round_name, **names, "draft": bool(result.draft_reasons),
        "runs": [str(r.path) for _, r in read],
        "run_ids": [r.main.result.get("run_id") for _, r in read]}, indent=2) + "\n"
    if out_path.exists():
        shutil.rmtree(out_path)
    os.replace(tmp, out_path)
    write_text_atomic(marker_path(out_path), marker)


def _package_submission(runs: list[RunInput], *, division: str, submitter: str, system: str, out: str | Path,
                       system_json: str | Path | None = None, status: str | None = None,
                       system_type: str | None = None, measurements_json: str | Path | None = None,
                       force: bool = False, draft: bool = False, machine: Machine | None = None) -> PackageResult:
    """The body of ``package_submission``."""
    out_path = check_request(runs, division, submitter, system, out, force)

    # ---- read and vet the runs, the system description and the category's scenarios ---------------------
    read, reasons = vet_runs(runs, rules.ROUND,
                             lambda inp, run: run_problems(run, division, _compliance_dir(inp, run)))
    desc = system_description(read, machine=machine, division=division, submitter=submitter, system=system,
                              status=status, system_type=system_type, system_json=system_json)
    reasons += description_problems(desc, read, system=system, division=division, submitter=submitter,
                                    round_name=rules.ROUND, mlperf_model=rules.mlperf_model,
                                    required_scenarios=rules.required_scenarios)
    if reasons and not draft:
        raise SubmissionRefused(reasons)

    # ---- write into a temporary folder, then move it into place ------------------------------------------
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.", dir=out_path.parent))
    result = PackageResult(out_path, draft_reasons=reasons if draft else [])
    try:
        user_meas = read_system_json(measurements_json) if measurements_json is not None else None
        sub = tmp / division / submitter
        _write_system(sub, system, desc)
        result.system_to_fill = list(desc.to_fill)
        rows = []
        for inp, run in read:
            bench, scen = run.benchmark, run.scenario
            rel = f"{system}/{bench}/{scen}"
            res = sub / "results" / rel
            perf, acc = run.performance, run.accuracy
            if perf is not None:
                for n in (rules.SUMMARY, rules.DETAIL):
                    if (perf.folder / n).is_file():
                        _copy(perf.folder / n, res / "performance" / "run_1" / n)
                if perf.kind == "performance" and (perf.folder / rules.ACCURACY_LOG).is_file():
                    _copy(perf.folder / rules.ACCURACY_LOG, res / "performance" / "run_1" / rules.ACCURACY_LOG)
                if perf.power_session is not None:
                    _copy_power(perf.power_session, res / "performance")
            if acc is not None:
                for n in (rules.SUMMARY, rules.DETAIL, rules.ACCURACY_TXT, rules.ACCURACY_LOG):
                    if (acc.folder / n).is_file():
                        _copy(acc.folder / n, res / "accuracy" / n)
            meas = sub / "measurements" / rel
            result.measurements_to_fill[f"{division}/{submitter}/measurements/{rel}"] = write_measurements(
                meas, run, system, user_meas)
            impl = implementation_name(run)
            code = sub / "code" / bench / impl / "README.md"
            if not code.exists():
                code.parent.mkdir(parents=True, exist_ok=True)
                code.write_text(code_readme_text(run, impl), encoding="utf-8")
            comp = _compliance_dir(inp, run)
            if division != "open" and comp.is_dir():
                for test in rules.compliance_tests(rules.mlperf_model(bench) or bench):
                    if (comp / test).is_dir():
                        shutil.copytree(comp / test, sub / "compliance" / rel / test)
            rows.append((bench, scen, run))
            result.entries.append(f"{division}/{submitter}/results/{rel}")
        truncate_tree(tmp, submitter, draft, result)
        names = {"submitter": submitter, "division": division, "system": system}
        (tmp / "README.md").write_text(_tree_readme(names, result, rows), encoding="utf-8")
        move_into_place(tmp, out_path, rules.ROUND, result, read, names)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.check = check_submission(out_path)
    return result


def _copy_power(session: Path, performance: Path) -> None:
    """A power session's files in the checker's layout: run_1/spl.txt, ranging/{logs, spl.txt}, power/*."""
    if (session / "run_1" / "spl.txt").is_file():
        _copy(session / "run_1" / "spl.txt", performance / "run_1" / "spl.txt")
    for name in (rules.SUMMARY, rules.DETAIL, "spl.txt"):
        if (session / "ranging" / name).is_file():
            _copy(session / "ranging" / name, performance / "ranging" / name)
    for name in sorted(rules.POWER_FILES):
        if (session / "power" / name).is_file():
            _copy(session / "power" / name, performance / "power" / name)


def _write_system(sub: Path, system: str, desc: SystemDescription) -> None:
    path = sub / "systems" / f"{system}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(desc.to_json(), encoding="utf-8")
