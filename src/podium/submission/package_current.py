"""``package_current``: a current-round (v6.0/v6.1) submission tree from finished ``podium run`` folders.

The layout is the current checker's (``rules_current``): per ``results/<system>/<benchmark>/<scenario>`` the
performance logs in ``performance/run_1``, the accuracy logs with ``accuracy.txt`` (truncated, ``hash=``
appended), ``measurements.json``, ``user.conf``, ``README.md``, ``mlperf.conf`` and the compliance folders
``TEST01``/``TEST04`` already run by ``podium.compliance``; once per submitter ``systems/<system>.json`` and
``src/<benchmark>/README.md``. Refusals, drafts and ``force`` behave as in the v2.1 packager.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import podium
from podium.report.runs import FinishedRun
from podium.submission import rules_current as cur
from podium.submission.check_current import check_current, check_performance_current
from podium.submission.checks import Findings
from podium.submission.machine import Machine
from podium.submission.measurements import (
    code_readme_text,
    implementation_name,
    measurements_fields,
    readme_text,
    user_conf_text,
)
from podium.submission.package import (
    PackageResult,
    RunInput,
    SubmissionRefused,
    _compliance_dir,
    _copy,
    _copy_power,
    _write_system,
    check_request,
    description_problems,
    move_into_place,
    system_description,
    truncate_tree,
    vet_runs,
)
from podium.submission.practice import LABEL, Practice, practice_benchmark
from podium.submission.provenance import provenance_problems
from podium.submission.sysdesc import SystemDescription, read_system_json


def _accuracy_problems(run: FinishedRun, model: str, closed: bool, tr: cur.CurrentTreeRules) -> list[str]:
    acc = run.accuracy
    if acc is None:
        return [f"{run.path}: no accuracy run (podium run --mode accuracy)"]
    out: list[str] = []
    txt = acc.folder / cur.ACCURACY_TXT
    metric, target = tr.accuracy_target(model)
    if not txt.is_file():
        out.append(f"{acc.folder}: no accuracy.txt (score the accuracy log first)")
    else:
        value = None
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            m = cur.ACCURACY_PATTERNS[metric].match(line)
            if m:
                value = m.group(1)
        if value is None:
            out.append(f"{txt}: no {metric} line the {tr.name} checker reads "
                       f"({cur.ACCURACY_PATTERNS[metric].pattern})")
        elif closed and float(value) < target:
            out.append(f"{txt}: {metric} {value} is below the {model} target {target:.6g}")
    for n in (cur.ACCURACY_LOG, cur.SUMMARY, cur.DETAIL):
        if not (acc.folder / n).is_file():
            out.append(f"{acc.folder / n}: missing")
    return out


def run_problems_current(run: FinishedRun, division: str, compliance_dir: Path | None,
                         tr: cur.CurrentTreeRules, short_runs: list[str] | None = None) -> list[str]:
    """Why ``run`` cannot go into a ``division`` submission of round ``tr`` (empty: it can). With
    ``short_runs`` (a practice tree), the breaches of a short run go there instead."""
    where = str(run.path)
    model = tr.mlperf_model(run.benchmark)
    closed = division in ("closed", "network")
    if model is None:
        return [f"{where}: benchmark {run.benchmark!r} is not a {tr.name} benchmark podium can package "
                f"(it packages {', '.join(tr.models)})"]
    if run.scenario not in cur.SCENARIOS:
        return [f"{where}: scenario {run.scenario!r} is not a {tr.name} scenario"]
    reasons: list[str] = []
    if run.random_weights:
        reasons.append(f"{where}: the model has random weights (performance only); a submission needs the "
                       "trained model")
    reasons += provenance_problems(run)
    perf = run.performance
    if perf is None:
        reasons.append(f"{where}: no performance run (podium run --mode performance)")
    else:
        f = Findings(perf.folder, relaxed=dict(cur.PRACTICE_RELAXED) if short_runs is not None else {})
        check_performance_current(f, perf.folder, tr, model, run.scenario, division,
                                  {cur.IS_NETWORK: "true"} if division == "network" else {})
        reasons += [f"{perf.folder}: {p.message}" for p in f.problems if p.level == "error"]
        if short_runs is not None:
            short_runs += [p.message.replace(f" ({cur.PRACTICE_RELAXED[p.rule]})", "") for p in f.problems
                           if p.level == "warning" and p.rule in cur.PRACTICE_RELAXED]
    reasons += _accuracy_problems(run, model, closed, tr)
    if closed:
        tests = tr.compliance_tests(model)
        if tests and (compliance_dir is None or not compliance_dir.is_dir()):
            reasons.append(f"{where}: no compliance results at {compliance_dir} (run {'/'.join(tests)} with "
                           "podium run --compliance, or pass --compliance RUN=DIR)")
        elif tests and compliance_dir is not None:
            from podium.compliance import check_compliance_dir

            reasons += [f"{compliance_dir}: {m}" for m in check_compliance_dir(compliance_dir, model, tests)]
    return reasons


def package_current(runs: list[RunInput], *, round_name: str, division: str, submitter: str, system: str,
                    out: str | Path, system_json: str | Path | None = None, status: str | None = None,
                    system_type: str | None = None, measurements_json: str | Path | None = None,
                    force: bool = False, draft: bool = False, machine: Machine | None = None,
                    practice: bool = False) -> PackageResult:
    """Lay out the ``round_name`` tree of ``runs`` under ``out`` (see the module docstring); ``practice``: a
    practice tree (``podium.submission.practice``)."""
    from podium.loadgen.rules import active_round

    tr = cur.tree_rules(round_name)
    benches: dict[str, cur.PracticeBenchmark] = {}
    short: list[str] | None = [] if practice else None

    def problems(inp: RunInput, run: FinishedRun) -> list[str]:
        nonlocal tr
        if practice and tr.mlperf_model(run.benchmark) is None:
            pb, why = practice_benchmark(run)
            if pb is None:
                return [str(why)]
            benches[pb.name] = pb
            tr = tr.with_practice(tuple(benches.values()))
        return run_problems_current(run, division, _compliance_dir(inp, run), tr, short)

    with active_round(round_name):
        out_path = check_request(runs, division, submitter, system, out, force)
        read, reasons = vet_runs(runs, round_name, problems)
        desc = system_description(
            read, machine=machine, division=division, submitter=submitter, system=system, status=status,
            system_type=system_type, system_json=system_json, required_fields=cur.SYSTEM_FIELDS_REQUIRED,
            defaults={"host_network_card_count": "", "system_type_detail": "",
                      "sw_notes": f"Run with podium {podium.__version__}, a Python reimplementation of the MLPerf "
                                  f"Inference LoadGen 6.0.17 (round {round_name})"})
        reasons += description_problems(desc, read, system=system, division=division, submitter=submitter,
                                        round_name=round_name, mlperf_model=tr.mlperf_model,
                                        required_scenarios=tr.required_scenarios, practice=practice)
        if reasons and not draft:
            raise SubmissionRefused(reasons)
        prac = None
        if practice:
            why = [f"{b.name} is podium's own benchmark, not an MLPerf {round_name} benchmark (its accuracy target "
                   f"{b.target:.6g} is the one its runs declared)" for b in benches.values()]
            why += [f"short runs: {m}" for m in dict.fromkeys(short or [])]
            prac = Practice(tuple(why or ["packaged with --practice"]), tuple(benches.values()))
        return _write_tree(read, tr, division, submitter, system, out_path, desc, reasons if draft else [],
                           measurements_json, draft, prac)


def _write_tree(read: list[tuple[RunInput, FinishedRun]], tr: cur.CurrentTreeRules, division: str, submitter: str,
                system: str, out_path: Path, desc: SystemDescription, draft_reasons: list[str],
                measurements_json: str | Path | None, draft: bool, practice: Practice | None) -> PackageResult:
    from podium.loadgen import config as lgconfig

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.", dir=out_path.parent))
    result = PackageResult(out_path, draft_reasons=list(draft_reasons),
                           practice=list(practice.why) if practice is not None else [])
    try:
        user_meas = read_system_json(measurements_json) if measurements_json is not None else None
        sub = tmp / division / submitter
        _write_system(sub, system, desc)
        result.system_to_fill = list(desc.to_fill)
        for inp, run in read:
            bench, scen = run.benchmark, run.scenario
            rel = f"{system}/{bench}/{scen}"
            res = sub / "results" / rel
            perf, acc = run.performance, run.accuracy
            if perf is not None:
                for n in (cur.SUMMARY, cur.DETAIL):
                    if (perf.folder / n).is_file():
                        _copy(perf.folder / n, res / "performance" / "run_1" / n)
                if perf.power_session is not None:
                    _copy_power(perf.power_session, res / "performance")
            if acc is not None:
                for n in (cur.SUMMARY, cur.DETAIL, cur.ACCURACY_TXT, cur.ACCURACY_LOG):
                    if (acc.folder / n).is_file():
                        _copy(acc.folder / n, res / "accuracy" / n)
            impl = implementation_name(run)
            fields, to_fill = measurements_fields(run, user_meas)
            res.mkdir(parents=True, exist_ok=True)
            (res / cur.MEASUREMENTS_JSON).write_text(json.dumps(fields, indent=2) + "\n", encoding="utf-8")
            (res / "user.conf").write_text(user_conf_text(run), encoding="utf-8")
            label = f"**{LABEL}.** " + " ".join(f"{w}." for w in practice.why) + "\n\n" if practice else ""
            (res / "README.md").write_text(label + readme_text(run, system, impl), encoding="utf-8")
            shutil.copyfile(lgconfig.builtin_mlperf_conf_path(tr.name), res / "mlperf.conf")
            result.measurements_to_fill[f"{division}/{submitter}/results/{rel}/{cur.MEASUREMENTS_JSON}"] = to_fill
            code = sub / cur.SRC_FOLDER / bench / "README.md"
            if not code.exists():
                code.parent.mkdir(parents=True, exist_ok=True)
                code.write_text(label + code_readme_text(run, impl), encoding="utf-8")
            comp = _compliance_dir(inp, run)
            model = tr.mlperf_model(bench) or bench
            if division != "open" and comp.is_dir():
                for test in tr.compliance_tests(model):
                    if (comp / test).is_dir():
                        shutil.copytree(comp / test, res / test)
            result.entries.append(f"{division}/{submitter}/results/{rel}")
        truncate_tree(tmp, submitter, draft, result)
        move_into_place(tmp, out_path, tr.name, result, read,
                        {"division": division, "submitter": submitter, "system": system,
                         **({"practice": practice.to_json()} if practice is not None else {})})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.check = check_current(out_path, tr.name)
    return result
