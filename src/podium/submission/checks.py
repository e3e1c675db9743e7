"""The per-folder checks of a v2.1 submission tree: performance logs, accuracy folder, measurements folder,
power logs. Each returns the problems found; the walk over the tree is ``checker``.

Rule names (what a problem is about) are listed in ``RULES``. Every violation the official v2.1 checker
reports at ERROR level is an error here, including those it only logs without rejecting the result (wrong
seeds, short duration, early stopping not met, latency bound, file-set mismatch): a submission must show no
ERROR line at all.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.submission import rules
from podium.loadgen.mllog import MlLog, read_mllog

RULES: dict[str, str] = {
    "layout": "divisions, submitter folders and the folders each must hold",
    "files": "required files and the exact file sets of results and compliance folders",
    "system": "systems/<system>.json: required fields and valid values",
    "model": "benchmark folder names and the models allowed for the system type",
    "measurements": "measurements/<system>/<benchmark>/<scenario>: conf files, README, JSON keys, code folder",
    "log": "detail logs: valid :::MLLOG lines, required keys, no error entries, scenario matches its folder",
    "validity": "result_validity is VALID",
    "seeds": "the v2.1 RNG seeds (TEST05: its alternate seeds)",
    "duration": "min_duration of at least 600 s",
    "sample-count": "performance sample count, Offline samples per query and min query count",
    "latency": "Server latency bound of the benchmark",
    "early-stopping": "early stopping condition met (SingleStream, MultiStream, Server)",
    "accuracy": "accuracy.txt metric against the target, hash= line, truncated accuracy log",
    "compliance": "TEST01/TEST04/TEST05 present, passed and laid out as the checker expects",
    "scenarios": "every scenario the benchmark requires for the system type",
    "power": "power logs and samples inside the power window",
}

TRUNCATION_MARKER = b"\n\n...\n\n"
VIEWABLE_SIZE = 4096


@dataclass
class Problem:
    """One finding: ``level`` error or warning, the ``rule`` it breaks, the path (relative to the tree root)."""

    level: str
    rule: str
    path: str
    message: str

    def line(self) -> str:
        return f"{self.level.upper()} [{self.rule}] {self.path}: {self.message}"


@dataclass
class Findings:
    """Problems collected while checking one folder, with paths shown relative to ``root``."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    #: rules whose breaches are recorded as warnings, with the note to add (a practice tree's short runs)
    relaxed: dict[str, str] = field(default_factory=dict)

    def rel(self, path: Path) -> str:
        try:
            return Path(os.path.relpath(path, self.root)).as_posix()
        except ValueError:
            return str(path)

    def error(self, rule: str, path: Path, message: str, relax_as: str | None = None) -> None:
        """An error under ``rule``; a warning with the note where ``relaxed`` has ``relax_as`` (or ``rule``)."""
        note = self.relaxed.get(relax_as or rule)
        if note is not None:
            self.problems.append(Problem("warning", rule, self.rel(path), f"{message} ({note})"))
        else:
            self.problems.append(Problem("error", rule, self.rel(path), message))

    def to_fill(self, rule: str, path: Path, message: str) -> None:
        """A field the submitter must fill in: an error, or a warning where ``relaxed`` has ``to-fill``."""
        note = self.relaxed.get("to-fill")
        if note is not None:
            self.warning(rule, path, f"{message} ({note})")
        else:
            self.error(rule, path, message)

    def warning(self, rule: str, path: Path, message: str) -> None:
        self.problems.append(Problem("warning", rule, self.rel(path), message))

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.level == "error")


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def file_set_diff(folder: Path, required: frozenset[str], optional: frozenset[str] = frozenset()) -> list[str]:
    """Names missing from or extra in ``folder`` (the checker's symmetric difference; tolerated files aside)."""
    diff = (files_in(folder) ^ required) - optional - rules.TOLERATED_FILES
    return sorted(diff)


# ---- performance ---------------------------------------------------------------------------------------------
@dataclass
class PerformanceOutcome:
    """What a performance folder holds: its result (in the table's unit), whether it is inferred, its log."""

    result: float | None = None
    inferred: bool = False
    log: MlLog | None = None
    scenario: str | None = None
    ok: bool = False


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def check_performance(f: Findings, folder: Path, model: str, scenario_folder: str, division: str,
                      system: dict[str, Any], test05: bool = False) -> PerformanceOutcome:
    """The checks of one ``performance/run_1`` (also of a compliance test's): log keys, validity, seeds,
    duration, sample counts, latency bound, early stopping, network SUT name; returns the result value."""
    out = PerformanceOutcome()
    before = f.error_count
    detail = folder / rules.DETAIL
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
    scenario = log.get("effective_scenario")
    out.scenario = scenario if isinstance(scenario, str) else None
    needed = list(rules.REQUIRED_LOG_KEYS)
    if out.scenario in rules.SCENARIO_LOG_KEYS:
        needed += rules.SCENARIO_LOG_KEYS[out.scenario]
        needed.append(rules.RESULT_KEY[out.scenario])
    if scenario_folder == "MultiStream" and out.scenario == "SingleStream":
        needed.append("early_stopping_latency_ms")
    missing = [k for k in needed if k not in log]
    for k in missing:
        f.error("log", detail, f"key {k} is missing")
    for message in log.errors():
        f.error("log", detail, f"error entry in the log: {message}")
    if out.scenario is None:
        return out
    if out.scenario not in _scenarios_allowed_in(scenario_folder):
        f.error("log", detail, f"the log is a {out.scenario} run but its folder is {scenario_folder}")

    if log.get("result_validity") != "VALID" and "result_validity" in log:
        f.error("validity", detail, f"result_validity is {log.get('result_validity')}, expected VALID")
    psc = _as_number(log.get("effective_performance_sample_count"))
    need_psc = rules.MIN_PERFORMANCE_SAMPLE_COUNT.get(model)
    if psc is not None and need_psc is not None and psc < need_psc:
        f.error("sample-count", detail, f"performance_sample_count is {int(psc)}, {model} needs >= {need_psc}")
    seeds = rules.TEST05_SEEDS if test05 else rules.SEEDS
    for name, want in seeds.items():
        got = log.get(f"effective_{name}")
        if got is not None and got != want:
            f.error("seeds", detail, f"{name} is {got}, expected {want}" + (" (TEST05 seeds)" if test05 else ""))
    if out.scenario in rules.EARLY_STOPPING_SCENARIOS:
        if "early_stopping_met" in log and not log.get("early_stopping_met"):
            f.error("early-stopping", detail, "early stopping condition not met: "
                    + " ".join(str(log.get("early_stopping_result", "")).split()))
        bound = rules.SERVER_LATENCY_BOUND_NS.get(model) if out.scenario == "Server" else None
        lat = _as_number(log.get("effective_target_latency_ns"))
        if bound is not None and lat is not None and lat > bound:
            f.error("latency", detail, f"target latency {int(lat)} ns exceeds the {model} Server bound of "
                                       f"{bound} ns")
    else:
        mqc = _as_number(log.get("effective_min_query_count"))
        if out.scenario == "Offline" and mqc is not None and mqc < rules.OFFLINE_MIN_QUERY_COUNT:
            f.error("sample-count", detail, f"min_query_count is {int(mqc)}, expected >= "
                                            f"{rules.OFFLINE_MIN_QUERY_COUNT}")
    spq = _as_number(log.get("effective_samples_per_query"))
    if out.scenario == "Offline" and spq is not None and spq < rules.OFFLINE_MIN_SAMPLES_PER_QUERY:
        f.error("sample-count", detail, f"Offline samples per query is {int(spq)}, expected >= "
                                        f"{rules.OFFLINE_MIN_SAMPLES_PER_QUERY}")
    dur = _as_number(log.get("effective_min_duration_ms"))
    if dur is not None and dur < rules.MIN_DURATION_MS:
        f.error("duration", detail, f"min_duration is {int(dur)} ms, expected >= {rules.MIN_DURATION_MS} ms")
    if str(system.get(rules.IS_NETWORK, "")).lower() == "true":
        if rules.NETWORK_SUT_NAME not in str(log.get("sut_name", "")):
            f.error("log", detail, f"sut_name {log.get('sut_name')!r} must contain {rules.NETWORK_SUT_NAME!r} "
                                   "for a network system")

    # the result, as the results table shows it
    res = _as_number(log.get(rules.RESULT_KEY.get(out.scenario, ""), None))
    if out.scenario in ("SingleStream", "MultiStream") and res is not None:
        res /= 1e6
    if scenario_folder == "Offline" and out.scenario == "SingleStream":
        out.inferred = True
        res = _as_number(log.get("result_qps_without_loadgen_overhead"))
    elif scenario_folder == "Offline" and out.scenario == "MultiStream":
        out.inferred = True
        mean = _as_number(log.get("result_mean_query_latency_ns"))
        res = spq * 1000 / (mean / 1e6) if spq and mean else None
    elif scenario_folder == "MultiStream" and out.scenario == "SingleStream":
        out.inferred = True
        es = _as_number(log.get("early_stopping_latency_ms"))
        if not es:
            f.error("early-stopping", detail, "not enough samples for an early-stopping estimate to infer "
                                              "MultiStream from SingleStream")
        res = es * 8 / 1e6 if es else None
    out.result = res
    out.ok = f.error_count == before and res is not None
    return out


# ---- accuracy -------------------------------------------------------------------------------------------------
def _accuracy_value(path: Path, pattern: re.Pattern[str]) -> tuple[str | None, str | None]:
    """(metric text, hash) as the checker reads accuracy.txt: the last metric match before both are seen."""
    acc = hash_val = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = pattern.match(line)
            if m:
                acc = m.group(1)
            m = rules.HASH_LINE.match(line)
            if m:
                hash_val = m.group(1)
            if acc and hash_val:
                break
    return acc, hash_val


@dataclass
class AccuracyOutcome:
    """The accuracy folder's metric (the raw text the table shows) and whether it passes."""

    text: str | None = None
    ok: bool = False


def _scenarios_allowed_in(scenario_folder: str) -> set[str]:
    """Which logged scenarios a scenario folder may hold (inferred Offline/MultiStream results included)."""
    allowed = {scenario_folder}
    if scenario_folder == "Offline":
        allowed |= {"SingleStream", "MultiStream"}
    if scenario_folder == "MultiStream":
        allowed.add("SingleStream")
    return allowed


def check_accuracy(f: Findings, folder: Path, model: str, closed: bool,
                   scenario_folder: str | None = None) -> AccuracyOutcome:
    """accuracy.txt metric vs target and hash line, the truncated accuracy log, no errors in the detail log, and
    (podium) the detail log is an accuracy run of the folder's scenario: a log another run left is caught."""
    out = AccuracyOutcome()
    before = f.error_count
    txt = folder / rules.ACCURACY_TXT
    if not txt.is_file():
        f.error("files", txt, "missing: run the accuracy script and save its output there")
        return out
    diff = file_set_diff(folder, rules.ACCURACY_FILES)
    if diff:
        f.error("files", folder, f"file list mismatch ({', '.join(diff)}); expected exactly "
                                 f"{', '.join(sorted(rules.ACCURACY_FILES))}")
    metric, target = rules.accuracy_target(model)
    acc, hash_val = _accuracy_value(txt, rules.ACCURACY_PATTERNS[metric])
    out.text = acc
    if acc is None:
        f.error("accuracy", txt, f"no {metric} line the v2.1 checker can read "
                                 f"(pattern {rules.ACCURACY_PATTERNS[metric].pattern})")
    else:
        try:
            value = float(acc)
        except ValueError:
            value = None
        if value is None or value < target:
            msg = f"{metric} {acc} is below the {model} target {target:.6g}"
            if closed:
                f.error("accuracy", txt, msg)
            else:
                f.warning("accuracy", txt, msg + " (accepted in the open division)")
    if hash_val is None:
        f.error("accuracy", txt, "no hash= line (truncate the accuracy log: podium submission package does)")
    log = folder / rules.ACCURACY_LOG
    if not log.is_file():
        f.error("files", log, "missing")
    else:
        size = log.stat().st_size
        if size > rules.MAX_ACCURACY_LOG_SIZE:
            f.error("accuracy", log, f"is not truncated ({size} bytes; at most {rules.MAX_ACCURACY_LOG_SIZE})")
        elif hash_val is not None:
            data = log.read_bytes()
            # A log kept whole (small) must hash to the recorded value; a truncated one cannot be re-hashed.
            if data[VIEWABLE_SIZE:VIEWABLE_SIZE + len(TRUNCATION_MARKER)] != TRUNCATION_MARKER \
                    and hashlib.sha256(data).hexdigest() != hash_val:
                f.error("accuracy", log, "its sha256 differs from the hash= line of accuracy.txt")
    detail = folder / rules.DETAIL
    if not detail.is_file():
        f.error("files", detail, "missing")
    else:
        try:
            mlog = read_mllog(detail)
            for n, text in mlog.invalid_lines:
                f.error("log", detail, f"line {n} starts with :::MLLOG but is not JSON: {text}")
            for message in mlog.errors():
                f.error("log", detail, f"error entry in the log: {message}")
            logged = mlog.get("effective_scenario")
            if scenario_folder is not None and isinstance(logged, str) \
                    and logged not in _scenarios_allowed_in(scenario_folder):
                f.error("log", detail, f"the accuracy log is a {logged} run but its folder is {scenario_folder}")
            mode = mlog.get("effective_test_mode")
            if isinstance(mode, str) and mode not in ("AccuracyOnly", "SubmissionRun"):
                f.error("log", detail, f"the accuracy folder holds a {mode} run, expected AccuracyOnly")
        except OSError as exc:
            f.error("files", detail, f"cannot read ({exc.strerror})")
    out.ok = f.error_count == before and acc is not None
    return out


# ---- measurements ---------------------------------------------------------------------------------------------
def check_measurements(f: Findings, folder: Path, submitter_root: Path, system: str, model_dir: str,
                       scenario_dir: str) -> bool:
    """conf files and README present, the measurements JSON and its keys, the code folder it points to."""
    before = f.error_count
    if not folder.is_dir():
        f.error("measurements", folder, "missing")
        return False
    names = files_in(folder)
    for req in rules.MEASUREMENTS_FILES:
        if req not in names:
            f.error("measurements", folder / req, "missing")
    system_file = None
    end = 0
    for name in sorted(names):
        if name.startswith(system) and name.endswith(f"_{scenario_dir}.json"):
            system_file, end = name, len(f"_{scenario_dir}.json")
            break
        if name.startswith(system) and name.endswith(".json"):
            system_file, end = name, len(".json")
            break
    if system_file is None:
        f.error("measurements", folder, f"no {system}_<implementation>_{scenario_dir}.json")
        return False
    try:
        data = json.loads((folder / system_file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        f.error("measurements", folder / system_file, f"not readable JSON ({exc})")
        return False
    if not isinstance(data, dict):
        data = {}
    for k in rules.MEASUREMENTS_KEYS:
        if k not in data:
            f.error("measurements", folder / system_file, f"field {k} is missing")
    impl = system_file[len(system) + 1:-end] if end else ""
    code = submitter_root / "code" / model_dir
    if code.is_file():
        code = submitter_root / "code" / code.read_text(encoding="utf-8").strip() / impl
    else:
        code = code / impl
    if not code.exists() and not code.parent.exists():
        f.error("measurements", folder / system_file, f"its code folder {f.rel(code)} is missing")
    return f.error_count == before


# ---- power -----------------------------------------------------------------------------------------------------
_POWER_TIME = "%m-%d-%Y %H:%M:%S.%f"


def check_power(f: Findings, performance: Path, scenario: str) -> float | None:
    """Power logs beside ``performance/run_1``: file sets, samples inside the run's power window; returns the
    power metric (W for Offline/Server, J per query otherwise) or None."""
    run, power, ranging = performance / "run_1", performance / "power", performance / "ranging"
    before = f.error_count
    req = rules.PERFORMANCE_FILES | rules.POWER_RUN_FILES
    for folder, want, opt in ((run, req, rules.PERFORMANCE_OPTIONAL), (ranging, req, rules.PERFORMANCE_OPTIONAL),
                              (power, rules.POWER_FILES, frozenset())):
        diff = file_set_diff(folder, want, opt)
        if diff:
            f.error("power", folder, f"file list mismatch ({', '.join(diff)})")
    if f.error_count != before:
        return None
    try:
        log = read_mllog(run / rules.DETAIL)
        begin = datetime.datetime.strptime(str(log.get("power_begin")), _POWER_TIME)
        end = datetime.datetime.strptime(str(log.get("power_end")), _POWER_TIME)
        watts = []
        for line in (run / "spl.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split(",")
            if len(parts) < 4:
                continue
            t = datetime.datetime.strptime(parts[1], _POWER_TIME)
            if begin < t < end:
                watts.append(float(parts[3]))
    except (OSError, ValueError) as exc:
        f.error("power", run, f"cannot read the power window or spl.txt ({exc})")
        return None
    if not watts:
        f.error("power", run / "spl.txt", f"no power samples between {begin} and {end}")
        return None
    avg = sum(watts) / len(watts)
    if scenario in ("Offline", "Server"):
        return avg
    queries = _as_number(log.get("result_query_count")) or 0
    seconds = (end - begin).total_seconds()
    return avg * seconds / queries if queries else None
