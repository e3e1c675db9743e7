"""``check_current(root, round)``: podium's checker of a current-round (v6.0/v6.1) submission tree.

It walks ``<division>/<submitter>/results/<system>/<benchmark>/<scenario>`` as the official checker package
does and applies its rules (``rules_current``): performance logs (seeds of the round, sample counts, min
duration, early stopping, latency bound, Offline samples per query, the equal-issue condition, network SUT
name, inferred results), accuracy (metric line vs target, ``hash=``, truncated log, dataset size), the scenario
folder's ``measurements.json``/``user.conf``/``README.md``, the system description, compliance TEST01/TEST04
inside the scenario folder, and the required scenarios. Every problem is collected; a scenario without errors
becomes a results-table row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from podium.loadgen.mllog import read_mllog
from podium.submission import rules_current as cur
from podium.submission.checker import CheckReport, ResultRow, _dirs, _load_system, report_missing_scenarios
from podium.submission.checks import Findings, PerformanceOutcome, _accuracy_value, _as_number, file_set_diff
from podium.submission.practice import LABEL, Practice, read_practice

_INFERRED = {("SingleStream", "MultiStream"), ("MultiStream", "Offline"), ("SingleStream", "Offline")}


def check_performance_current(f: Findings, folder: Path, tr: cur.CurrentTreeRules, model: str,
                              scenario_folder: str, division: str, system: dict[str, Any]) -> PerformanceOutcome:
    """The current checker's checks of one ``performance/run_1`` (also of a TEST01/TEST04 run)."""
    out = PerformanceOutcome()
    before = f.error_count
    detail = folder / cur.DETAIL
    if not detail.is_file():
        f.error("files", detail, "missing")
        return out
    try:
        log = read_mllog(detail)
    except OSError as exc:
        f.error("files", detail, f"cannot read ({exc.strerror})")
        return out
    out.log = log
    for n, text in log.invalid_lines:
        f.error("log", detail, f"line {n} starts with :::MLLOG but is not JSON: {text}")
    for message in log.errors():
        f.error("log", detail, f"error entry in the log: {message}")
    scenario = log.get("effective_scenario")
    if not isinstance(scenario, str):
        f.error("log", detail, "key effective_scenario is missing")
        return out
    out.scenario = scenario
    inferred = scenario != scenario_folder
    if inferred:
        if "edge" not in str(system.get("system_type", "edge")).lower():
            f.error("log", detail, f"a result cannot be inferred for a {system.get('system_type')} system "
                                   f"({scenario} log in a {scenario_folder} folder)")
        elif (scenario, scenario_folder) not in _INFERRED:
            f.error("log", detail, f"a {scenario_folder} result cannot be inferred from a {scenario} log")
    if log.get("result_validity") != "VALID":
        # INVALID with the latency constraints met can only come from a short run (duration, query count or
        # early stopping), which a practice tree reports as a warning; a missed latency bound stays an error
        short_only = log.get("result_perf_constraints_met") is not False and "result_validity" in log
        f.error("validity", detail, f"result_validity is {log.get('result_validity')}, expected VALID",
                relax_as="duration" if short_only else None)
    # no equal-issue check: the current checker's requires_equal_issue holds for round v4.1 only
    psc = _as_number(log.get("effective_performance_sample_count"))
    need = cur.PERFORMANCE_SAMPLE_COUNT.get(model)
    if need is not None and (psc is None or psc < need):
        f.error("sample-count", detail, f"performance_sample_count is {psc and int(psc)}, {model} needs >= {need}")
    for name, want in tr.seeds.items():
        got = log.get(f"effective_{name}")
        if got != want:
            f.error("seeds", detail, f"{name} is {got}, expected {want} (round {tr.name})")
    limit = cur.LATENCY_CONSTRAINT_NS.get(model, {}).get(scenario)
    if scenario in cur.EARLY_STOPPING_SCENARIOS:
        if not log.get("early_stopping_met"):
            f.error("early-stopping", detail, "early stopping condition not met: "
                    + " ".join(str(log.get("early_stopping_result", "")).split()))
        lat = _as_number(log.get("effective_target_latency_ns"))
        if limit and lat is not None and lat > limit:
            f.error("latency", detail, f"target latency {int(lat)} ns exceeds the {model} {scenario} bound of "
                                       f"{limit} ns")
    else:
        p99 = _as_number(log.get("result_99.00_percentile_latency_ns"))
        if limit and p99 is not None and p99 > limit:
            f.error("latency", detail, f"p99 latency {int(p99)} ns exceeds the {model} bound of {limit} ns")
        mqc = _as_number(log.get("effective_min_query_count"))
        need_q = cur.MIN_QUERIES.get(model, {}).get(scenario)
        if need_q and (mqc is None or mqc < need_q):
            f.error("sample-count", detail, f"min_query_count is {mqc and int(mqc)}, expected >= {need_q}")
    spq = _as_number(log.get("effective_samples_per_query"))
    need_spq = cur.OFFLINE_MIN_SPQ.get(model)
    if scenario == "Offline" and division == "closed" and need_spq and (spq is None or spq < need_spq):
        f.error("sample-count", detail, f"Offline samples per query is {spq and int(spq)}, expected >= {need_spq}")
    dur = _as_number(log.get("effective_min_duration_ms"))
    if dur is None or dur < cur.MIN_DURATION_MS:
        f.error("duration", detail, f"min_duration is {dur and int(dur)} ms, expected >= {cur.MIN_DURATION_MS} ms")
    is_net = str(system.get(cur.IS_NETWORK, "")).lower() == "true"
    if division == "network" and not is_net:
        f.error("system", detail, "a network-division system needs is_network true")
    if is_net and cur.NETWORK_SUT_NAME not in str(log.get("sut_name", "")):
        f.error("log", detail, f"sut_name {log.get('sut_name')!r} must contain {cur.NETWORK_SUT_NAME!r}")
    res = _as_number(log.get(cur.RESULT_KEY.get(scenario, "")))
    if res is not None and scenario in ("SingleStream", "MultiStream"):
        res /= 1e6
    if inferred:
        out.inferred = True
        if scenario_folder == "Offline" and scenario == "SingleStream":
            res = _as_number(log.get("result_qps_without_loadgen_overhead"))
        elif scenario_folder == "Offline" and scenario == "MultiStream":
            mean = _as_number(log.get("result_mean_query_latency_ns"))
            res = spq * 1000 / (mean / 1e6) if spq and mean else None
        elif scenario_folder == "MultiStream" and scenario == "SingleStream":
            es = _as_number(log.get("early_stopping_latency_ms"))
            if not es:
                f.error("early-stopping", detail, "not enough samples for an early-stopping estimate")
            res = es * 8 / 1e6 if es else None
    out.result = res
    out.ok = f.error_count == before and res is not None
    return out


def _check_accuracy(f: Findings, folder: Path, tr: cur.CurrentTreeRules, model: str, closed: bool) -> str:
    """accuracy.txt vs target, hash line, truncated log, dataset size; returns the table's accuracy text."""
    txt = folder / cur.ACCURACY_TXT
    if not txt.is_file():
        f.error("files", txt, "missing: run the accuracy script and save its output there")
        return ""
    metric, target = tr.accuracy_target(model)
    acc, hash_val = _accuracy_value(txt, cur.ACCURACY_PATTERNS[metric])
    if acc is None:
        f.error("accuracy", txt, f"no {metric} line the checker reads ({cur.ACCURACY_PATTERNS[metric].pattern})")
    elif float(acc) < target:
        msg = f"{metric} {acc} is below the {model} target {target:.6g}"
        (f.error if closed else f.warning)("accuracy", txt, msg if closed else msg + " (accepted in open)")
    if hash_val is None:
        f.error("accuracy", txt, "no hash= line (truncate the accuracy log: podium submission package does)")
    log = folder / cur.ACCURACY_LOG
    if not log.is_file():
        f.error("files", log, "missing")
    elif log.stat().st_size > cur.MAX_ACCURACY_LOG_SIZE:
        f.error("accuracy", log, f"is not truncated ({log.stat().st_size} bytes; at most "
                                 f"{cur.MAX_ACCURACY_LOG_SIZE})")
    detail = folder / cur.DETAIL
    if not detail.is_file():
        f.error("files", detail, "missing")
    else:
        mlog = read_mllog(detail)
        for message in mlog.errors():
            f.error("log", detail, f"error entry in the log: {message}")
        count = mlog.get("effective_accuracy_sample_count", mlog.get("qsl_reported_total_count"))
        size = tr.dataset_size(model)
        if size is not None and count != size:
            f.error("accuracy", detail, f"the accuracy run covers {count} samples; the {model} dataset has {size}")
    return "" if acc is None else f"{metric}: {acc}"


def _check_measurements(f: Findings, scen_dir: Path) -> str:
    """measurements.json keys, user.conf and README.md present and non-empty; returns weight_data_types."""
    for name in cur.MEASURE_FILES:
        p = scen_dir / name
        if not p.is_file():
            f.error("measurements", scen_dir, f"is missing {name}")
        elif p.stat().st_size == 0:
            f.error("measurements", p, "is empty")
    path = scen_dir / cur.MEASUREMENTS_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        f.error("measurements", path, f"missing or not JSON ({exc})")
        return ""
    for k in cur.MEASUREMENTS_KEYS:
        if k not in data:
            f.error("measurements", path, f"field {k} is missing")
        elif not data[k]:
            f.to_fill("measurements", path, f"field {k} is missing meaningful value")
    return str(data.get("weight_data_types", ""))


def _check_compliance(f: Findings, scen_dir: Path, tr: cur.CurrentTreeRules, model: str, scenario: str,
                      division: str, system: dict[str, Any]) -> bool:
    from podium.compliance import check_compliance_dir

    before = f.error_count
    tests = tr.compliance_tests(model)
    for message in check_compliance_dir(scen_dir, model, tests):
        path, _, what = message.partition(": ")
        f.error("compliance", Path(path), what or message)
    for test in tests:
        run = scen_dir / test / "performance" / "run_1"
        if run.is_dir():
            diff = file_set_diff(run, cur.COMPLIANCE_PERF_FILES, cur.PERFORMANCE_OPTIONAL)
            if diff:
                f.error("compliance", run, f"file list mismatch ({', '.join(diff)})")
            check_performance_current(f, run, tr, model, scenario, division, system)
    return f.error_count == before


def check_current(root: str | os.PathLike[str], round_name: str, skip_compliance: bool = False,
                  practice: Practice | None = None) -> CheckReport:
    """Check the tree at ``root`` with round ``round_name``'s checker rules; a ``practice`` tree (by default:
    what podium's record beside the tree says) with the practice rules of ``podium.submission.practice``."""
    from podium.loadgen.rules import active_round

    tr = cur.tree_rules(round_name)
    base = Path(root).resolve()
    if practice is None:
        practice = read_practice(base)
    f = Findings(base)
    report = CheckReport(base)
    if practice is not None:
        tr = tr.with_practice(practice.benchmarks)
        f.relaxed = dict(cur.PRACTICE_RELAXED)
        report.practice = list(practice.why) or [LABEL]
    with active_round(round_name):
        if not base.is_dir():
            f.error("layout", base, "not a folder")
        else:
            divisions = [d for d in _dirs(base) if d.name in cur.DIVISIONS]
            if not divisions:
                f.error("layout", base, f"no division folder ({', '.join(cur.DIVISIONS)}) in it")
            for division in divisions:
                for sub in _dirs(division):
                    _check_submitter(f, report, sub, division.name, tr, skip_compliance)
    report.problems = f.problems
    return report


def _check_submitter(f: Findings, report: CheckReport, sub: Path, division: str, tr: cur.CurrentTreeRules,
                     skip_compliance: bool) -> None:
    from podium.submission.sysdesc import field_problems

    results = sub / "results"
    if not results.is_dir():
        f.error("layout", sub, "no results folder")
        return
    for sys_dir in _dirs(results):
        sys_json = sub / "systems" / f"{sys_dir.name}.json"
        system = _load_system(f, sys_json) if sys_json.is_file() else None
        if system is None:
            if not sys_json.is_file():
                f.error("system", sys_json, f"missing: every results/{sys_dir.name} needs a system description")
            system = {}
        for level, key, message in field_problems(system, division, sub.name, tr.name) if system else []:
            if level == "error" and key in system and not system[key]:
                f.to_fill("system", sys_json, message)
            else:
                (f.error if level == "error" else f.warning)("system", sys_json, message)
        system_type = system.get("system_type") if system.get("system_type") in cur.SYSTEM_TYPES else None
        for model_dir in _dirs(sys_dir):
            _check_model(f, report, sub, division, tr, skip_compliance, sys_dir.name, system, system_type, model_dir)


def _check_model(f: Findings, report: CheckReport, sub: Path, division: str, tr: cur.CurrentTreeRules,
                 skip_compliance: bool, system_id: str, system: dict[str, Any], system_type: str | None,
                 model_dir: Path) -> None:
    model = tr.mlperf_model(model_dir.name)
    closed = division in ("closed", "network")
    if model is None:
        f.error("model", model_dir, f"{model_dir.name!r} is not a {tr.name} benchmark podium checks "
                                    f"({', '.join(tr.models)})")
        return
    required: set[str] | None = None
    if system_type is not None:
        req = tr.required_scenarios(model, system_type)
        if req is None:
            f.error("model", model_dir, f"{model} is not a {tr.name} benchmark for {system_type} systems")
            return
        required = set(req)
    if not (sub / cur.SRC_FOLDER / model_dir.name).exists():
        f.error("layout", sub / cur.SRC_FOLDER / model_dir.name, "missing (the code of the benchmark)")
    for scen_dir in _dirs(model_dir):
        scenario = cur.scenario_name(scen_dir.name)
        if scenario not in cur.SCENARIOS:
            f.error("layout", scen_dir, f"{scen_dir.name!r} is not a scenario ({', '.join(cur.SCENARIOS)})")
            continue
        if closed and required is not None and required and scenario not in required:
            f.error("scenarios", scen_dir, f"{scenario} is not a {system_type} scenario of {model}")
            continue
        before = f.error_count
        weights = _check_measurements(f, scen_dir)
        acc_text = _check_accuracy(f, scen_dir / "accuracy", tr, model, closed)
        run = scen_dir / "performance" / "run_1"
        perf = None
        if not run.is_dir():
            f.error("files", run, "missing")
        else:
            diff = file_set_diff(run, cur.PERFORMANCE_FILES, cur.PERFORMANCE_OPTIONAL)
            if diff:
                f.error("files", run, f"file list mismatch ({', '.join(diff)})")
            perf = check_performance_current(f, run, tr, model, scenario, division, system)
        compliance_ok = not closed
        if closed and not skip_compliance:
            compliance_ok = _check_compliance(f, scen_dir, tr, model, scenario, division, system)
        accepted = f.error_count == before and perf is not None and perf.result is not None \
            and system_type is not None
        report.scenarios[f.rel(run)] = accepted  # keyed like the rows' Location (the run_1 folder)
        if perf is not None and perf.result is not None:
            row = ResultRow(
                submitter=sub.name, availability=str(system.get("status", "")), division=division,
                system_type=str(system_type), system_name=str(system.get("system_name", "")), platform=system_id,
                model=model_dir.name, mlperf_model=model, scenario=scenario, result=perf.result,
                accuracy=acc_text, system=system, location=f.rel(run), compliance=int(compliance_ok),
                errors=0 if accepted else f.error_count - before, inferred=int(perf.inferred),
                round=tr.name, weight_data_types=weights)
            report.measured.append(row)
            if accepted:
                if required is not None:
                    required.discard(scenario)
                report.rows.append(row)
    report_missing_scenarios(f, model_dir, model, required, closed, system_type)
