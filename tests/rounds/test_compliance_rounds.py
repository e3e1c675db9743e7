"""Compliance per round: the tests each round has, and LoadGen 6.0.x's verification rules (TEST01 from the
detail logs with inclusive bounds, TEST04's one-decimal labels, TEST01 accuracy needing a matched index)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from podium.compliance import ComplianceError
from podium.compliance.audit import check_test, required_tests
from podium.compliance.runner import run_compliance
from podium.compliance.verify import verify_accuracy, verify_performance
from podium.loadgen import BaseSUT, LogSettings, SimpleQSL, TestSettings, start_test
from podium.loadgen.settings import Scenario, TestMode


def test_each_round_has_its_own_tests():
    assert required_tests("resnet", "v2.1") == ("TEST01", "TEST04", "TEST05")
    assert required_tests("bert-99", "v2.1") == ("TEST01", "TEST05")
    assert required_tests("resnet", "v6.1") == ("TEST01", "TEST04")
    assert required_tests("bert-99.9", "v6.1") == ("TEST01",)
    assert required_tests("3d-unet-99", "v6.0") == ("TEST01",)
    with pytest.raises(ComplianceError, match="TEST05: not a round v6.1 test .*ended with v5.0"):
        check_test("TEST05", "v6.1")
    with pytest.raises(ComplianceError, match="TEST06: a round v6.0 test of the LLM"):
        check_test("test06", "v6.0")
    assert check_test("test05", "v2.1") == "TEST05"


def _detail(folder: Path, scenario: str, result: float, valid: str = "VALID", target: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    key = {"Offline": "result_samples_per_second", "SingleStream": "early_stopping_latency_ss",
           "Server": "result_completed_samples_per_sec"}[scenario]
    rows = [("effective_scenario", scenario), ("effective_target_latency_ns", target),
            ("result_validity", valid), (key, result)]
    lines = [":::MLLOG " + json.dumps({"key": k, "value": v, "time_ms": 0.0, "namespace": "mlperf::logging",
                                       "event_type": "POINT_IN_TIME",
                                       "metadata": {"is_error": False, "is_warning": False}}) for k, v in rows]
    (folder / "mlperf_log_detail.txt").write_text("\n".join(lines) + "\n")
    (folder / "mlperf_log_summary.txt").write_text("(the 6.0 TEST01 reads the detail log)\n")
    return folder / "mlperf_log_summary.txt"


def test_test01_performance_reads_the_detail_logs_with_inclusive_bounds(tmp_path):
    ref = _detail(tmp_path / "ref", "Offline", 1000.0)
    edge = _detail(tmp_path / "edge", "Offline", 900.0)  # exactly -10 %: passes in 6.0 (v2.1: strict <)
    v = verify_performance("TEST01", ref, edge, round="v6.1")
    assert v.passed and v.lines == ["Verifying performance.", "Reference score = 1000.0", "Test score = 900.0",
                                    "TEST PASS"]
    low = _detail(tmp_path / "low", "Offline", 899.0)
    assert not verify_performance("TEST01", ref, low, round="v6.1").passed
    bad = _detail(tmp_path / "bad", "Offline", 1000.0, valid="INVALID")
    v = verify_performance("TEST01", ref, bad, round="v6.1")
    assert not v.passed and v.lines[-1].startswith("TEST FAIL: Invalid results in ")


def test_test01_compares_the_early_stopping_latency_and_relaxes_short_ones(tmp_path):
    ref = _detail(tmp_path / "ref", "SingleStream", 150000.0)  # <= 200000 ns: 20 %
    assert verify_performance("TEST01", ref, _detail(tmp_path / "t", "SingleStream", 179000.0), "v6.1").passed
    assert not verify_performance("TEST01", ref, _detail(tmp_path / "u", "SingleStream", 181000.0), "v6.1").passed


def test_test01_server_target_latencies_must_match(tmp_path):
    ref = _detail(tmp_path / "ref", "Server", 100.0, target=10_000_000)
    other = _detail(tmp_path / "t", "Server", 100.0, target=20_000_000)
    v = verify_performance("TEST01", ref, other, round="v6.0")
    assert not v.passed and v.reason == "Server target latency mismatch"


def _summary(folder: Path, estimate: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = ("Scenario : SingleStream\nResult is : VALID\nEarly Stopping Result:\n * Processed at least 64 "
            f"queries (100).\n * Early stopping 90.0th percentile estimate: {estimate}\n"
            " * Early stopping 99.0th percentile estimate: 99999\n")
    (folder / "mlperf_log_summary.txt").write_text(text)
    return folder / "mlperf_log_summary.txt"


def test_test04_reads_loadgen_6_percentile_labels(tmp_path):
    ref, tst = _summary(tmp_path / "r", 2000), _summary(tmp_path / "t", 2100)
    v = verify_performance("TEST04", ref, tst, round="v6.1")
    assert v.passed and v.reference_score == pytest.approx(1e9 / 2000)
    assert verify_performance("TEST04", ref, tst, round="v2.1").reference_score == 0.0  # v2.1 reads "90th"


def _acc_log(path: Path, entries: list[tuple[int, float]]) -> Path:
    rows = [{"seq_id": i, "qsl_idx": idx, "data": np.array([v], np.float32).tobytes().hex().upper()}
            for i, (idx, v) in enumerate(entries)]
    path.write_text(json.dumps(rows))
    return path


def test_test01_accuracy_needs_a_matched_index_in_the_current_rounds(tmp_path):
    acc = _acc_log(tmp_path / "acc.json", [(0, 1.0), (1, 2.0)])
    none_matched = _acc_log(tmp_path / "perf.json", [(7, 1.0)])
    assert verify_accuracy(acc, none_matched, "float32", round="v2.1").passed
    assert not verify_accuracy(acc, none_matched, "float32", round="v6.1").passed
    assert verify_accuracy(acc, _acc_log(tmp_path / "p2.json", [(1, 2.0)]), "float32", round="v6.1").passed


class _Echo(BaseSUT):
    """Answers each sample with its index as a float32: deterministic, so TEST01's samples match."""

    def issue_queries(self, samples):
        time.sleep(0.005)  # longer than min_duration: the Offline runs are VALID
        self.complete([(s.id, np.array([s.index], np.float32).tobytes()) for s in samples])


def test_a_current_round_compliance_run_passes_test01_and_test04(tmp_path):
    from podium.loadgen.rules import active_round

    qsl = SimpleQSL(64, 64)
    base = TestSettings(scenario=Scenario.Offline, min_duration_ms=2, offline_expected_qps=1e6, min_query_count=1)
    with active_round("v6.1"):
        acc = start_test(_Echo(), qsl, base.copy(mode=TestMode.AccuracyOnly),
                         LogSettings(outdir=str(tmp_path / "accuracy")), audit_config=None)
        perf = start_test(_Echo(), qsl, base, LogSettings(outdir=str(tmp_path / "performance" / "run_1")),
                          audit_config=None)
        assert acc.settings is not None and perf.valid
        results = run_compliance(_Echo(), qsl, base, "resnet", tmp_path / "compliance",
                                 accuracy_run_dir=tmp_path, reference_run_dir=tmp_path, dtype="float32",
                                 sampling_target=16)
    assert set(results) == {"TEST01", "TEST04"}
    assert results["TEST01"].accuracy.passed and results["TEST01"].accuracy.num_perf_log_qsl_idx_match > 0
    text = (tmp_path / "compliance" / "TEST01" / "verify_performance.txt").read_text()
    assert text.startswith("Verifying performance.\nReference score = ")  # the 6.0 script's wording
