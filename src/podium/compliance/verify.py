"""Verification of compliance runs, with the rules of the official ``verify_accuracy.py``,
``verify_performance.py`` (TEST01, TEST04, TEST05) and ``create_accuracy_baseline.sh`` of round v2.1
(``compliance/nvidia`` at tag v2.1) and of the LoadGen 6.0.x rounds (``compliance/`` at d6147c7e).

Round v6.0/v6.1 differences, each as its scripts have it: TEST01's performance check reads the two DETAIL
logs (``result_samples_per_second``, ``early_stopping_latency_ss``/``_ms`` in ns, or
``result_completed_samples_per_sec``), fails a run whose ``result_validity`` is not VALID, compares Server
``effective_target_latency_ns``, and passes when ``ref*(1-t) <= test <= ref*(1+t)`` (inclusive; the 20 %
relaxation then applies to the latency itself); TEST04 reads the "90.0th"/"99.0th" labels of LoadGen 6.0;
TEST01's accuracy check also needs at least one compliance-log entry whose index the accuracy log has.

Performance (spec submission.md §4). Both summaries are read line by line the way the official scripts read
them: the line ``Scenario : X`` sets the scenario, then the score is taken from the line that starts with

* SingleStream: ``... Early stopping 90th percentile estimate: <ns>`` (the early-stopping text),
* MultiStream: ``... Early stopping 99th percentile estimate: <ns>``,
* Server: ``Completed samples per second`` (the Additional Stats line; the v2.1 headline "Scheduled samples
  per second" is NOT what the official scripts compare),
* Offline: ``Samples per second``.

TEST04 turns SingleStream/MultiStream latencies into rates (1e9 / latency). ``Result is : INVALID`` in
either summary fails the test, as does a scenario mismatch. The threshold is 10 % (TEST01, TEST04) or 5 %
(TEST05), relaxed to 20 % when the SingleStream reference score is <= 200000 or the MultiStream one is
<= 1600000. For TEST04 that comparison is made on the converted rate, as the official script does, so a
SingleStream/MultiStream TEST04 nearly always gets 20 %. TEST01 and TEST05 pass when
``ref*(1-t) < test < ref*(1+t)``; TEST04 only when ``test < ref*(1+t)`` (not more than t faster).

One deliberate difference: the official scripts mean to fail a Server test whose ``target_latency (ns)``
differs from the reference, but their pattern never matches the line (its parentheses form a regex group);
podium makes that check.

Accuracy (TEST01): the accuracy-mode log gives ``qsl_idx -> data`` (first entry wins; duplicates and
differing duplicates are counted). Each entry of the compliance log whose ``qsl_idx`` is known is compared
on its first element only, decoded as ``dtype`` (``byte`` = int8 by default), or on sizes when either is
empty; the entry then replaces the known data for that index. Any mismatch fails.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podium.compliance.audit import TEST01, TEST04, TEST05, ComplianceError, check_test
from podium.loadgen.rules import current_round, round_rules

SUMMARY_FILE = "mlperf_log_summary.txt"
DETAIL_FILE = "mlperf_log_detail.txt"
ACCURACY_FILE = "mlperf_log_accuracy.json"
BASELINE_FILE = "mlperf_log_accuracy_baseline.json"

#: Pass threshold (relative) of each test's verify_performance.
PERFORMANCE_THRESHOLDS: dict[str, float] = {TEST01: 0.10, TEST04: 0.10, TEST05: 0.05}
#: The relaxed threshold for short SingleStream/MultiStream latencies, and the reference scores under which
#: it applies.
RELAXED_THRESHOLD = 0.20
RELAXED_LIMITS: dict[str, float] = {"SingleStream": 200000.0, "MultiStream": 1600000.0}

#: verify_accuracy's ``--dtype`` choices.
DTYPES: dict[str, Any] = {"byte": np.byte, "float32": np.float32, "int32": np.int32, "int64": np.int64}

_SCORE_PATTERNS = {
    "SingleStream": re.compile(r".*Early stopping 90th percentile estimate"),
    "MultiStream": re.compile(r".*Early stopping 99th percentile estimate"),
    "Server": re.compile(r"Completed samples per second"),
    "Offline": re.compile(r"Samples per second"),
}
#: LoadGen 6.0.x's TEST04 also reads the one-decimal labels (and pointpainting's 99.9th)
_SCORE_PATTERNS_CURRENT = {
    **_SCORE_PATTERNS,
    "SingleStream": re.compile(r".*Early stopping (90th|90.0th|99.9th) percentile estimate"),
    "MultiStream": re.compile(r".*Early stopping (99th|99.0th) percentile estimate"),
}
#: what 6.0.x's TEST01 reads from each detail log
_DETAIL_RESULT = {"Offline": "result_samples_per_second", "SingleStream": "early_stopping_latency_ss",
                  "MultiStream": "early_stopping_latency_ms", "Server": "result_completed_samples_per_sec"}
_TARGET_LATENCY = re.compile(r"target_latency \(ns\)")
_ERRORS = re.compile(r"\d+ ERROR")


def _value(line: str) -> str:
    parts = line.split(": ", 1)
    return parts[1].strip() if len(parts) == 2 else ""


# ------------------------------------------------------------------------------------------ performance


@dataclass
class SummaryScore:
    """What a verify_performance script reads from one ``mlperf_log_summary.txt``."""

    path: Path
    scenario: str = ""
    #: The score text as found (None when the summary has no score line for its scenario).
    score_text: str | None = None
    target_latency_ns: str | None = None
    #: False when ``Result is : INVALID``; True when VALID; None when there is no result line.
    valid: bool | None = None
    #: ``N`` of an ``N ERROR(S) encountered`` line, or 0.
    errors: int = 0

    def score(self, as_rate: bool = False) -> float:
        """The score as a number (0.0 when absent, as the official scripts start from 0); ``as_rate`` turns
        a latency into 1e9 / latency (TEST04, SingleStream/MultiStream)."""
        if self.score_text is None:
            return 0.0
        try:
            value = float(self.score_text)
        except ValueError:
            raise ComplianceError(f"{self.path}: score {self.score_text!r} is not a number") from None
        if as_rate:
            if value == 0:
                raise ComplianceError(f"{self.path}: latency score 0 cannot be turned into a rate")
            return 1e9 / value
        return value


def read_summary_score(path: str | os.PathLike[str], current: bool = False) -> SummaryScore:
    """Read scenario, score, Server target latency, validity and error count from a summary log
    (``current``: with LoadGen 6.0.x's labels too)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComplianceError(f"{p}: summary log not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ComplianceError(f"{p}: cannot read the summary log ({exc})") from None
    out = SummaryScore(p)
    for line in text.splitlines(keepends=True):
        if re.match("Scenario", line):
            out.scenario = _value(line)
            continue
        pattern = (_SCORE_PATTERNS_CURRENT if current else _SCORE_PATTERNS).get(out.scenario)
        if pattern is not None and pattern.match(line):
            out.score_text = _value(line)
            continue
        if out.scenario == "Server" and _TARGET_LATENCY.match(line):
            out.target_latency_ns = _value(line)
            continue
        if re.match("Result is", line):
            state = _value(line)
            if out.valid is None:
                out.valid = state != "INVALID"
            elif state == "INVALID":
                out.valid = False
            continue
        if _ERRORS.match(line):
            out.errors = int(line.split(" ", 1)[0])
    return out


@dataclass
class PerformanceVerification:
    """The outcome of a verify_performance: scores, threshold, verdict and the text of verify_performance.txt."""

    test: str
    passed: bool
    scenario: str
    reference_score: float | None
    test_score: float | None
    threshold: float | None
    reason: str
    lines: list[str] = field(default_factory=list)
    reference_summary: Path | None = None
    test_summary: Path | None = None

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    @property
    def ratio(self) -> float | None:
        if not self.reference_score or self.test_score is None:
            return None
        return self.test_score / self.reference_score

    def explain(self) -> str:
        """One line: the scores, their difference and the band allowed (or why no scores were compared)."""
        if self.ratio is None or self.threshold is None:
            return f"performance: {self.reason or ('passed' if self.passed else 'failed')}"
        lower = "no lower bound" if self.test == TEST04 else f"-{self.threshold * 100:g} %"
        return (f"performance: test {self.test_score:,.6g} vs reference {self.reference_score:,.6g} "
                f"({(self.ratio - 1) * 100:+.1f} %; allowed {lower} / +{self.threshold * 100:g} %)")


def _score_text(score: SummaryScore, as_rate: bool) -> str:
    if as_rate:
        return str(score.score(True)) if score.score_text is not None else "0"
    return score.score_text if score.score_text is not None else "0"


def verify_performance(test: str, reference_summary: str | os.PathLike[str],
                       test_summary: str | os.PathLike[str], round: str | None = None) -> PerformanceVerification:
    """Compare the compliance run's summary with the reference performance run's, as the official
    ``TESTxx/verify_performance.py`` of ``round`` (default: the current one) does (see the module docstring).
    LoadGen 6.0.x's TEST01 compares the detail logs beside the two summaries."""
    rules = round_rules(round if round is not None else current_round())
    test = check_test(test, rules.name)
    if rules.current and test == TEST01:
        return _verify_performance_detail(Path(reference_summary).with_name(DETAIL_FILE),
                                          Path(test_summary).with_name(DETAIL_FILE))
    ref = read_summary_score(reference_summary, rules.current)
    tst = read_summary_score(test_summary, rules.current)
    lines = ["Verifying performance."]

    def fail(reason: str, ref_score: float | None = None, test_score: float | None = None,
             threshold: float | None = None) -> PerformanceVerification:
        lines.append(f"TEST FAIL: {reason}")
        return PerformanceVerification(test, False, tst.scenario or ref.scenario, ref_score, test_score, threshold,
                                       reason, lines, ref.path, tst.path)

    if ref.valid is False:
        return fail("Reference results are invalid")
    if ref.errors:
        lines.append(f"WARNING: {ref.errors} ERROR reported in reference results")
    if tst.valid is False:
        return fail("Test results are invalid")
    if (tst.scenario == "Server" and tst.target_latency_ns is not None
            and tst.target_latency_ns != ref.target_latency_ns):
        return fail("Server target latency mismatch")
    if tst.errors:
        lines.append(f"WARNING: {tst.errors} ERROR reported in test results")
    if tst.scenario != ref.scenario:
        return fail(f"Test and reference scenarios do not match! (reference {ref.scenario or 'none'}, "
                    f"test {tst.scenario or 'none'})")

    as_rate = test == TEST04 and ref.scenario in ("SingleStream", "MultiStream")
    ref_score = ref.score(as_rate)
    test_score = tst.score(as_rate)
    lines.append(f"reference score = {_score_text(ref, as_rate)}")
    lines.append(f"test score = {_score_text(tst, as_rate)}")
    threshold = PERFORMANCE_THRESHOLDS[test]
    limit = RELAXED_LIMITS.get(ref.scenario)
    if limit is not None and ref_score <= limit:
        threshold = RELAXED_THRESHOLD
    upper_ok = test_score < ref_score * (1 + threshold)
    lower_ok = test == TEST04 or test_score > ref_score * (1 - threshold)
    if upper_ok and lower_ok:
        lines.append("TEST PASS")
        return PerformanceVerification(test, True, ref.scenario, ref_score, test_score, threshold, "", lines,
                                       ref.path, tst.path)
    return fail("Test score invalid", ref_score, test_score, threshold)


def _detail_values(path: Path) -> dict[str, Any]:
    """Key -> value of a detail log (the first value of a repeated key, as the official log_parser gives)."""
    from podium.loadgen.logs import read_detail_log

    try:
        records = read_detail_log(path)
    except FileNotFoundError:
        raise ComplianceError(f"{path}: detail log not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ComplianceError(f"{path}: cannot read the detail log ({exc})") from None
    values: dict[str, Any] = {}
    errors = 0
    for r in records:
        values.setdefault(r["key"], r["value"])
        errors += bool(r.get("metadata", {}).get("is_error"))
    values["__errors__"] = errors
    return values


def _verify_performance_detail(reference_detail: Path, test_detail: Path) -> PerformanceVerification:
    """LoadGen 6.0.x's ``TEST01/verify_performance.py``: the two detail logs' results, within 10 % either way
    (20 % for a SingleStream early-stopping latency <= 200000 ns or a MultiStream one <= 1600000 ns)."""
    lines = ["Verifying performance."]
    ref, tst = _detail_values(reference_detail), _detail_values(test_detail)
    scenario = str(ref.get("effective_scenario", ""))

    def fail(reason: str, ref_score: float | None = None, test_score: float | None = None,
             threshold: float | None = None) -> PerformanceVerification:
        lines.append(f"TEST FAIL: {reason}")
        return PerformanceVerification(TEST01, False, scenario, ref_score, test_score, threshold, reason, lines,
                                       reference_detail, test_detail)

    scores = []
    for path, values in ((reference_detail, ref), (test_detail, tst)):
        key = _DETAIL_RESULT.get(str(values.get("effective_scenario", "")))
        if key is None or key not in values:
            return fail(f"Invalid results in {path} (no {key or 'effective_scenario'} there)")
        if values.get("result_validity") != "VALID":
            return fail(f"Invalid results in {path}")
        if values["__errors__"]:
            lines.append(f"WARNING: {values['__errors__']} ERROR reported in {path}")
        scores.append(float(values[key]))
    ref_score, test_score = scores
    if tst.get("effective_scenario") != ref.get("effective_scenario"):
        return fail("Test and reference scenarios do not match!")
    if scenario == "Server" and tst.get("effective_target_latency_ns") != ref.get("effective_target_latency_ns"):
        return fail("Server target latency mismatch")
    lines.append(f"Reference score = {ref_score}")
    lines.append(f"Test score = {test_score}")
    threshold = PERFORMANCE_THRESHOLDS[TEST01]
    limit = RELAXED_LIMITS.get(scenario)
    if limit is not None and ref_score <= limit:
        threshold = RELAXED_THRESHOLD
    if ref_score * (1 - threshold) <= test_score <= ref_score * (1 + threshold):
        lines.append("TEST PASS")
        return PerformanceVerification(TEST01, True, scenario, ref_score, test_score, threshold, "", lines,
                                       reference_detail, test_detail)
    return fail("Test score invalid", ref_score, test_score, threshold)


# --------------------------------------------------------------------------------------------- accuracy


def read_accuracy_entries(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of an ``mlperf_log_accuracy.json`` (each with ``qsl_idx`` and ``data``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComplianceError(f"{p}: accuracy log not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ComplianceError(f"{p}: cannot read the accuracy log ({exc})") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = (" (it looks truncated by truncate_accuracy_log: use the untruncated backup)"
                if "\n\n...\n\n" in text else "")
        raise ComplianceError(f"{p}: not valid JSON ({exc}){hint}") from None
    if not isinstance(entries, list):
        raise ComplianceError(f"{p}: expected a JSON list of {{seq_id, qsl_idx, data}} entries")
    for n, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("qsl_idx"), int) or not isinstance(e.get("data"), str):
            raise ComplianceError(f"{p}: entry {n} lacks an integer qsl_idx and a hex data string")
    return entries


@dataclass
class AccuracyVerification:
    """The counts verify_accuracy prints, the verdict, and the text of verify_accuracy.txt."""

    passed: bool
    num_acc_log_entries: int
    num_acc_log_duplicate_keys: int
    num_acc_log_data_mismatch: int
    num_perf_log_entries: int
    num_perf_log_qsl_idx_match: int
    num_perf_log_data_mismatch: int
    num_missing_qsl_idxs: int
    dtype: str = "byte"
    #: qsl indices of the compliance-log entries that did not match (first 100).
    mismatched_qsl_idx: list[int] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        out = ["Verifying accuracy. This might take a while...",
               "Reading accuracy mode results...",
               "Reading performance mode results..."]
        for name in ("num_acc_log_entries", "num_acc_log_duplicate_keys", "num_acc_log_data_mismatch",
                     "num_perf_log_entries", "num_perf_log_qsl_idx_match", "num_perf_log_data_mismatch",
                     "num_missing_qsl_idxs"):
            out.append(f"{name} = {getattr(self, name)}")
        out.append("TEST PASS" if self.passed else "TEST FAIL")
        out.append("")
        return out

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def _decode(hexdata: str, dtype: Any, where: str) -> np.ndarray:
    try:
        raw = bytes.fromhex(hexdata)
    except ValueError:
        raise ComplianceError(f"{where}: data is not hex") from None
    try:
        return np.frombuffer(raw, dtype)
    except ValueError:
        raise ComplianceError(f"{where}: {len(raw)} bytes is not a whole number of {np.dtype(dtype).name} "
                              "elements (choose another dtype)") from None


def verify_accuracy(reference_accuracy_log: str | os.PathLike[str], test_accuracy_log: str | os.PathLike[str],
                    dtype: str = "byte", round: str | None = None) -> AccuracyVerification:
    """Compare TEST01's sampled responses with the accuracy-mode run's, as the official
    ``TEST01/verify_accuracy.py`` of ``round`` (default: the current one) does (its default, non-unix mode);
    LoadGen 6.0.x's also fails when no compliance entry's index is in the accuracy log."""
    rules = round_rules(round if round is not None else current_round())
    if dtype not in DTYPES:
        raise ComplianceError(f"dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    np_dtype = DTYPES[dtype]
    acc = read_accuracy_entries(reference_accuracy_log)
    perf = read_accuracy_entries(test_accuracy_log)
    known: dict[int, str] = {}
    dup = acc_mismatch = match = perf_mismatch = missing = 0
    bad: list[int] = []
    for e in acc:
        idx, data = e["qsl_idx"], e["data"]
        if idx in known:
            dup += 1
            if known[idx] != data:
                acc_mismatch += 1
        else:
            known[idx] = data
    for n, e in enumerate(perf):
        idx = e["qsl_idx"]
        if idx in known:
            match += 1
            data = _decode(e["data"], np_dtype, f"{test_accuracy_log}: entry {n} (qsl_idx {idx})")
            ref = _decode(known[idx], np_dtype, f"{reference_accuracy_log}: qsl_idx {idx}")
            if ref.size == 0 or data.size == 0:
                differs = ref.size != data.size
            else:
                differs = bool(data[0] != ref[0])
            if differs:
                perf_mismatch += 1
                if len(bad) < 100:
                    bad.append(idx)
        else:
            missing += 1
        known[idx] = e["data"]
    passed = perf_mismatch == 0 and (match > 0 or not rules.current)
    return AccuracyVerification(passed, len(acc), dup, acc_mismatch, len(perf), match, perf_mismatch,
                                missing, dtype, bad)


def _entry_line(e: dict[str, Any]) -> str:
    return f'{{ "seq_id" : {e.get("seq_id", 0)}, "qsl_idx" : {e["qsl_idx"]}, "data" : "{e["data"]}" }}'


def create_accuracy_baseline(accuracy_log: str | os.PathLike[str], test_accuracy_log: str | os.PathLike[str],
                             out_path: str | os.PathLike[str]) -> Path:
    """The official ``create_accuracy_baseline.sh``: the accuracy-mode log restricted to the qsl indices the
    compliance log holds (every such entry, duplicates included, in accuracy-log order), written as an
    accuracy log (``[``, one entry per line, ``]``) to ``out_path``. Score it and the compliance log with the
    benchmark's accuracy script to get ``baseline_accuracy.txt`` and ``compliance_accuracy.txt``."""
    acc = read_accuracy_entries(accuracy_log)
    wanted = {e["qsl_idx"] for e in read_accuracy_entries(test_accuracy_log)}
    kept = [_entry_line(e) for e in acc if e["qsl_idx"] in wanted]
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("[\n" + ",\n".join(kept) + ("\n" if kept else "") + "]\n", encoding="utf-8")
    return out


# ---------------------------------------------------------------------- TEST01 fallback: accuracy delta

#: The checker's accuracy-line patterns (``re.match`` per line, the last match counts) by metric type.
ACC_PATTERNS: dict[str, str] = {
    "acc": r"^accuracy=([\d\.]+).*",
    "AUC": r"^AUC=([\d\.]+).*",
    "mAP": r"^mAP=([\d\.]+).*",
    "bleu": r"^BLEU\:\s*([\d\.]+).*",
    "F1": r"^{[\"\']exact_match[\"\']\:\s*[\d\.]+,\s*[\"\']f1[\"\']\:\s*([\d\.]+)}",
    "WER": r"Word Error Rate\:.*, accuracy=([0-9\.]+)%",
    "DICE": r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*",
}
#: Metric type of each v2.1 benchmark (submission names; the mlperf.conf names map the same).
BENCHMARK_METRICS: dict[str, str] = {
    "resnet": "acc", "resnet50": "acc", "retinanet": "mAP", "rnnt": "WER",
    "bert": "F1", "bert-99": "F1", "bert-99.9": "F1", "dlrm": "AUC", "dlrm-99": "AUC", "dlrm-99.9": "AUC",
    "3d-unet": "DICE", "3d-unet-99": "DICE", "3d-unet-99.9": "DICE",
}


@dataclass
class AccuracyDelta:
    """The checker's TEST01 fallback: baseline vs compliance accuracy within 1 % (0.1 % for 99.9 models)."""

    metric: str | None
    baseline: float
    compliance: float
    delta_percent: float | None
    allowed_percent: float
    passed: bool


def _last_match(text: str, pattern: str) -> float:
    value = 0.0
    for line in text.splitlines(keepends=True):
        m = re.match(pattern, line)
        if m:
            try:
                value = float(m.group(1))
            except ValueError:
                pass
    return value


def accuracy_delta(baseline_txt: str | os.PathLike[str], compliance_txt: str | os.PathLike[str],
                   benchmark: str | None = None) -> AccuracyDelta:
    """Recompute the checker's TEST01 fallback check on ``baseline_accuracy.txt`` and
    ``compliance_accuracy.txt``. For a benchmark without an official metric, the first pattern that finds a
    value in both files is used."""
    b_text = Path(baseline_txt).read_text(encoding="utf-8")
    c_text = Path(compliance_txt).read_text(encoding="utf-8")
    allowed = 0.1 if benchmark and "99.9" in benchmark else 1.0
    metric = BENCHMARK_METRICS.get(benchmark or "")
    candidates = [metric] if metric else list(ACC_PATTERNS)
    base = comp = 0.0
    used = None
    for m in candidates:
        base, comp = _last_match(b_text, ACC_PATTERNS[m]), _last_match(c_text, ACC_PATTERNS[m])
        if base and comp:
            used = m
            break
    if not base or not comp:
        return AccuracyDelta(used or metric, base, comp, None, allowed, False)
    delta = abs(1 - base / comp) * 100
    return AccuracyDelta(used, base, comp, delta, allowed, delta <= allowed)
