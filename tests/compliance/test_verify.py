"""verify_performance / verify_accuracy / create_accuracy_baseline on hand-written logs, by the official rules."""

from __future__ import annotations

import json

import pytest

from podium.compliance import (
    ComplianceError,
    accuracy_delta,
    create_accuracy_baseline,
    read_summary_score,
    verify_accuracy,
    verify_performance,
)
from podium.loadgen.logs import write_accuracy_log


def summary(scenario: str, score, *, valid: bool = True, completed=None, target_latency: int = 15_000_000,
            errors: int = 0) -> str:
    """A v2.1-style summary with the lines the verify scripts read."""
    lines = ["================================================", "MLPerf Results Summary",
             "================================================", "SUT name : Sim", f"Scenario : {scenario}",
             "Mode     : PerformanceOnly"]
    if scenario == "SingleStream":
        lines.append(f"90th percentile latency (ns) : {score}")
    elif scenario == "MultiStream":
        lines.append(f"99th percentile latency (ns) : {score}")
    elif scenario == "Server":
        lines.append(f"Scheduled samples per second : {score}")
    else:
        lines.append(f"Samples per second: {score}")
    lines.append(f"Result is : {'VALID' if valid else 'INVALID'}")
    if scenario == "SingleStream":
        lines += ["Early Stopping Result:", " * Processed at least 64 queries (1000).",
                  " * Would discard 80 highest latency queries.",
                  f" * Early stopping 90th percentile estimate: {score}",
                  " * Early stopping 99th percentile estimate: 99999999"]
    elif scenario == "MultiStream":
        lines += ["Early Stopping Result:", " * Processed at least 662 queries (1000).",
                  f" * Early stopping 99th percentile estimate: {score}"]
    elif scenario == "Server":
        lines += ["Early Stopping Result:", " * Run successful.", "", "Additional Stats",
                  f"Completed samples per second    : {completed if completed is not None else score}"]
    lines += ["", "Test Parameters Used",
              f"target_latency (ns): {target_latency if scenario == 'Server' else 0}", ""]
    lines.append("No warnings encountered during test.")
    lines.append("")
    lines.append("No errors encountered during test." if errors == 0 else f"{errors} ERRORS encountered. See detailed log.")
    return "\n".join(lines) + "\n"


def verify(tmp_path, test, ref_text, test_text):
    (tmp_path / "ref.txt").write_text(ref_text)
    (tmp_path / "test.txt").write_text(test_text)
    return verify_performance(test, tmp_path / "ref.txt", tmp_path / "test.txt")


@pytest.mark.parametrize("test,scenario,ref,value,passed", [
    # TEST05: +-5 % (strict)
    ("TEST05", "Offline", 1000, 1049, True), ("TEST05", "Offline", 1000, 1051, False),
    ("TEST05", "Offline", 1000, 951, True), ("TEST05", "Offline", 1000, 949, False),
    # TEST01: +-10 %; SingleStream latency above 200 us
    ("TEST01", "SingleStream", 1_000_000, 1_090_000, True), ("TEST01", "SingleStream", 1_000_000, 1_110_000, False),
    ("TEST01", "SingleStream", 1_000_000, 910_000, True), ("TEST01", "SingleStream", 1_000_000, 890_000, False),
    # relaxed to 20 % for short SingleStream / MultiStream reference latencies
    ("TEST01", "SingleStream", 150_000, 179_000, True), ("TEST01", "SingleStream", 150_000, 181_000, False),
    ("TEST05", "MultiStream", 1_500_000, 1_790_000, True), ("TEST05", "MultiStream", 1_500_000, 1_810_000, False),
    ("TEST05", "MultiStream", 2_000_000, 2_110_000, False),
    # TEST04: only "not more than 10 % faster"; no lower bound
    ("TEST04", "Offline", 1000, 1099, True), ("TEST04", "Offline", 1000, 1101, False),
    ("TEST04", "Offline", 1000, 10, True),
    ("TEST04", "Server", 1000, 1101, False),
    # TEST04 SingleStream compares rates 1e9/latency, and the relaxing test sees the rate (<= 200000): 20 %
    ("TEST04", "SingleStream", 1_000_000, 850_000, True), ("TEST04", "SingleStream", 1_000_000, 800_000, False),
    ("TEST04", "SingleStream", 1_000_000, 5_000_000, True),
])
def test_performance_thresholds(tmp_path, test, scenario, ref, value, passed):
    v = verify(tmp_path, test, summary(scenario, ref), summary(scenario, value))
    assert v.passed is passed
    assert ("TEST PASS" in v.text) is passed
    assert v.lines[-1] == ("TEST PASS" if passed else "TEST FAIL: Test score invalid")


def test_performance_text_is_what_the_official_script_prints(tmp_path):
    v = verify(tmp_path, "TEST05", summary("Offline", "41234.6"), summary("Offline", "41000.1"))
    assert v.text == "Verifying performance.\nreference score = 41234.6\ntest score = 41000.1\nTEST PASS\n"
    v = verify(tmp_path, "TEST04", summary("SingleStream", 1_000_000), summary("SingleStream", 2_000_000))
    assert v.lines[1:3] == ["reference score = 1000.0", "test score = 500.0"]
    assert v.threshold == 0.20


def test_server_compares_completed_not_scheduled_samples(tmp_path):
    # scheduled headline 1000 vs 2000 but completed equal: passes; the reverse fails
    assert verify(tmp_path, "TEST05", summary("Server", 1000, completed=500.5),
                  summary("Server", 2000, completed=500.5)).passed
    v = verify(tmp_path, "TEST05", summary("Server", 1000, completed=500), summary("Server", 1000, completed=600))
    assert not v.passed and v.reference_score == 500 and v.test_score == 600


def test_invalid_runs_and_mismatches_fail(tmp_path):
    v = verify(tmp_path, "TEST01", summary("Offline", 1000, valid=False), summary("Offline", 1000))
    assert not v.passed and v.lines[-1] == "TEST FAIL: Reference results are invalid"
    v = verify(tmp_path, "TEST01", summary("Offline", 1000), summary("Offline", 1000, valid=False))
    assert not v.passed and v.lines[-1] == "TEST FAIL: Test results are invalid"
    v = verify(tmp_path, "TEST05", summary("Offline", 1000), summary("SingleStream", 1000))
    assert not v.passed and "scenarios do not match" in v.reason
    v = verify(tmp_path, "TEST05", summary("Server", 1000), summary("Server", 1000, target_latency=20_000_000))
    assert not v.passed and v.reason == "Server target latency mismatch"
    v = verify(tmp_path, "TEST05", summary("Offline", 1000, errors=2), summary("Offline", 1000))
    assert v.passed and "WARNING: 2 ERROR reported in reference results" in v.lines


def test_missing_score_fails_and_missing_file_raises(tmp_path):
    (tmp_path / "acc.txt").write_text("Scenario : Offline\nResult is : VALID\n")
    assert read_summary_score(tmp_path / "acc.txt").score_text is None
    v = verify(tmp_path, "TEST05", "Scenario : Offline\n", summary("Offline", 1000))
    assert not v.passed
    with pytest.raises(ComplianceError, match="summary log not found"):
        verify_performance("TEST05", tmp_path / "nope.txt", tmp_path / "acc.txt")


# ------------------------------------------------------------------------------------------ accuracy


def write_log(path, entries):
    with open(path, "w") as fh:
        write_accuracy_log(fh, entries)
    return path


def test_accuracy_compares_first_element_and_counts_like_the_official(tmp_path):
    acc = write_log(tmp_path / "acc.json", [
        (0, 0, "00000000"), (1, 1, "01AA0000"), (2, 2, "02000000"), (3, 3, "03000000"), (4, 4, ""),
        (5, 2, "02FF0000"),  # a duplicate key with different data
    ])
    perf = write_log(tmp_path / "perf.json", [
        (10, 1, "01BB0000"),  # differs after the first byte: not a mismatch
        (11, 3, "7F000000"),  # first byte differs: mismatch
        (12, 9, "09000000"),  # not in the accuracy log
        (13, 4, ""),          # both empty: fine
        (14, 0, ""),          # empty vs non-empty: mismatch
        (15, 3, "7F000000"),  # compared with the previous compliance entry for 3 (official overwrite): fine
    ])
    v = verify_accuracy(acc, perf)
    assert (v.num_acc_log_entries, v.num_acc_log_duplicate_keys, v.num_acc_log_data_mismatch) == (6, 1, 1)
    assert (v.num_perf_log_entries, v.num_perf_log_qsl_idx_match, v.num_perf_log_data_mismatch,
            v.num_missing_qsl_idxs) == (6, 5, 2, 1)
    assert not v.passed and v.mismatched_qsl_idx == [3, 0]
    assert v.text == ("Verifying accuracy. This might take a while...\nReading accuracy mode results...\n"
                      "Reading performance mode results...\nnum_acc_log_entries = 6\n"
                      "num_acc_log_duplicate_keys = 1\nnum_acc_log_data_mismatch = 1\nnum_perf_log_entries = 6\n"
                      "num_perf_log_qsl_idx_match = 5\nnum_perf_log_data_mismatch = 2\nnum_missing_qsl_idxs = 1\n"
                      "TEST FAIL\n\n")


def test_accuracy_dtype_changes_what_the_first_element_is(tmp_path):
    acc = write_log(tmp_path / "acc.json", [(0, 0, "01000000"), (1, 1, "02000000")])
    perf = write_log(tmp_path / "perf.json", [(5, 0, "01000001"), (6, 1, "02000000")])
    assert verify_accuracy(acc, perf).passed  # byte: first bytes equal
    v = verify_accuracy(acc, perf, dtype="int32")
    assert not v.passed and v.num_perf_log_data_mismatch == 1
    assert v.lines[-2] == "TEST FAIL"
    with pytest.raises(ComplianceError, match="int64"):
        verify_accuracy(acc, perf, dtype="int64")  # 4 bytes is not an int64
    with pytest.raises(ComplianceError, match="dtype"):
        verify_accuracy(acc, perf, dtype="uint8")


def test_truncated_accuracy_log_is_refused_with_a_hint(tmp_path):
    (tmp_path / "t.json").write_text('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "00" },\n\n...\n\n]\n')
    write_log(tmp_path / "p.json", [(0, 0, "00")])
    with pytest.raises(ComplianceError, match="truncated"):
        verify_accuracy(tmp_path / "t.json", tmp_path / "p.json")


def test_baseline_keeps_every_accuracy_entry_of_the_sampled_indices(tmp_path):
    acc = write_log(tmp_path / "acc.json", [(0, 5, "05"), (1, 1, "01"), (2, 12, "0C"), (3, 2, "02"), (4, 1, "FF")])
    perf = write_log(tmp_path / "perf.json", [(7, 1, "01"), (9, 12, "0C"), (11, 1, "01")])
    out = create_accuracy_baseline(acc, perf, tmp_path / "mlperf_log_accuracy_baseline.json")
    assert out.read_text() == ('[\n{ "seq_id" : 1, "qsl_idx" : 1, "data" : "01" },\n'
                               '{ "seq_id" : 2, "qsl_idx" : 12, "data" : "0C" },\n'
                               '{ "seq_id" : 4, "qsl_idx" : 1, "data" : "FF" }\n]\n')
    assert [e["qsl_idx"] for e in json.loads(out.read_text())] == [1, 12, 1]
    empty = create_accuracy_baseline(acc, write_log(tmp_path / "none.json", []), tmp_path / "b2.json")
    assert empty.read_text() == "[\n]\n" and json.loads(empty.read_text()) == []


def test_accuracy_delta_is_the_checkers_fallback(tmp_path):
    (tmp_path / "b.txt").write_text("accuracy=76.000%, good=76, total=100\nhash=abc\n")
    (tmp_path / "c.txt").write_text("accuracy=75.500%, good=755, total=1000\n")
    d = accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "resnet")
    assert d.metric == "acc" and d.passed and d.delta_percent == pytest.approx(abs(1 - 76.0 / 75.5) * 100)
    (tmp_path / "c.txt").write_text("accuracy=74.000%, good=74, total=100\n")
    assert not accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "resnet").passed  # 2.7 % > 1 %
    (tmp_path / "b.txt").write_text('{"exact_match": 83.6, "f1": 90.874}\n')
    (tmp_path / "c.txt").write_text('{"exact_match": 83.5, "f1": 90.80}\n')
    assert accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "bert-99").passed  # 0.08 % <= 1 %
    d = accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "bert-99.9")
    assert d.allowed_percent == 0.1 and d.passed  # 0.0815 % <= 0.1 %
    (tmp_path / "c.txt").write_text('{"exact_match": 83.5, "f1": 90.70}\n')
    assert not accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "bert-99.9").passed
    # the wrong metric for the benchmark: nothing found, fails
    assert not accuracy_delta(tmp_path / "b.txt", tmp_path / "c.txt", "resnet").passed


def test_explain_says_the_scores_the_difference_and_the_band(tmp_path):
    v = verify(tmp_path, "TEST05", summary("Offline", 159_947), summary("Offline", 138_038))
    assert not v.passed
    assert v.explain() == "performance: test 138,038 vs reference 159,947 (-13.7 %; allowed -5 % / +5 %)"
    v = verify(tmp_path, "TEST04", summary("Offline", 1000), summary("Offline", 1101))
    assert v.explain().endswith("(+10.1 %; allowed no lower bound / +10 %)")
    v = verify(tmp_path, "TEST05", summary("Offline", 1000, valid=False), summary("Offline", 1000))
    assert v.explain() == "performance: Reference results are invalid"
