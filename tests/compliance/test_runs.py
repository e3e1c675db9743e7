"""TEST01/04/05 end to end on simulated SUTs (SimClock: exact and deterministic)."""

from __future__ import annotations

import json

import pytest

from podium.compliance import (
    check_compliance_dir,
    run_compliance,
    run_test01,
    run_test04,
    run_test05,
    submission_compliance_dir,
    verify_test01,
    verify_test04,
)
from podium.compliance.truncate import truncate_submission
from podium.loadgen import Scenario
from podium.loadgen.clock import SimClock
from podium.loadgen.logs import read_detail_log
from tests.compliance.sims import (
    CachingSUT,
    CounterSUT,
    DeterministicSUT,
    NoisyButCorrectSUT,
    index_scorer,
    qsl,
    reference_runs,
    settings_for,
)

PASSING_SCENARIOS = [Scenario.SingleStream, Scenario.Server, Scenario.Offline]


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def detail(run_dir):
    return {r["key"]: r["value"] for r in reversed(read_detail_log(run_dir / "mlperf_log_detail.txt"))}


@pytest.fixture
def world(tmp_path):
    """A clock, the submission's accuracy and performance runs of a deterministic SUT, and a compliance
    output folder, per scenario."""

    def make(scenario):
        clock = SimClock()
        s = settings_for(scenario)
        acc, perf = reference_runs(lambda: DeterministicSUT(clock), s, tmp_path / scenario.value / "results", clock)
        out = submission_compliance_dir(tmp_path / scenario.value / "sub", "closed", "Org", "sys", "resnet",
                                        scenario.value)
        return clock, s, acc, perf, out

    return make


@pytest.mark.parametrize("scenario", PASSING_SCENARIOS)
def test_deterministic_sut_passes_all_three(world, scenario):
    clock, s, acc, perf, out = world(scenario)
    r1 = run_test01(DeterministicSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock,
                    scorer=index_scorer(0))
    r4 = run_test04(DeterministicSUT(clock), qsl(), s, out, perf, clock=clock)
    r5 = run_test05(DeterministicSUT(clock), qsl(), s, out, perf, clock=clock)
    for r in (r1, r4, r5):
        assert r.passed, r.summary()
        assert r.performance.lines[-1] == "TEST PASS"
        assert r.run.valid
        assert "TEST PASS" in (r.test_dir / "verify_performance.txt").read_text()
    a = r1.accuracy
    assert a.passed and a.num_perf_log_data_mismatch == 0
    # TEST01 sampled a subset (3d-unet target 64 of the expected samples), each compared
    assert 0 < a.num_perf_log_entries < r1.run.performance.sample_count
    assert a.num_perf_log_qsl_idx_match == a.num_perf_log_entries and a.num_missing_qsl_idxs == 0
    assert (r1.test_dir / "verify_accuracy.txt").read_text().endswith("TEST PASS\n\n")
    assert files_under(out) == [
        ".runs/TEST01/mlperf_log_accuracy.json", ".runs/TEST01/mlperf_log_detail.txt",
        ".runs/TEST01/mlperf_log_summary.txt", ".runs/TEST01/podium/podium_result.json", ".runs/TEST01/podium/podium_samples.npz",
        ".runs/TEST04/mlperf_log_accuracy.json", ".runs/TEST04/mlperf_log_detail.txt",
        ".runs/TEST04/mlperf_log_summary.txt", ".runs/TEST04/podium/podium_result.json", ".runs/TEST04/podium/podium_samples.npz",
        ".runs/TEST05/mlperf_log_accuracy.json", ".runs/TEST05/mlperf_log_detail.txt",
        ".runs/TEST05/mlperf_log_summary.txt", ".runs/TEST05/podium/podium_result.json", ".runs/TEST05/podium/podium_samples.npz",
        "TEST01/accuracy/accuracy.txt", "TEST01/accuracy/mlperf_log_accuracy.json",
        "TEST01/performance/run_1/mlperf_log_detail.txt", "TEST01/performance/run_1/mlperf_log_summary.txt",
        "TEST01/verify_accuracy.txt", "TEST01/verify_performance.txt",
        "TEST04/performance/run_1/mlperf_log_detail.txt", "TEST04/performance/run_1/mlperf_log_summary.txt",
        "TEST04/verify_performance.txt",
        "TEST05/performance/run_1/mlperf_log_detail.txt", "TEST05/performance/run_1/mlperf_log_summary.txt",
        "TEST05/verify_performance.txt",
    ]
    assert check_compliance_dir(out, "resnet") == []


def test_runs_apply_the_audit_config_and_remove_it(world):
    clock, s, acc, perf, out = world(Scenario.SingleStream)
    sut4 = DeterministicSUT(clock)
    r1 = run_test01(DeterministicSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock)
    r4 = run_test04(sut4, qsl(), s, out, perf, clock=clock)
    r5 = run_test05(DeterministicSUT(clock), qsl(), s, out, perf, clock=clock)
    for r in (r1, r4, r5):
        assert not (r.run_dir / "audit.config").exists()
        d = detail(r.run_dir)
        assert d["warning_generic_message"] == ("Found Audit Config file (audit.config). Overriding TestSettings "
                                                "from audit.config file.")
        assert d["effective_test_mode"] == "PerformanceOnly"
    d1 = detail(r1.run_dir)
    assert (d1["effective_accuracy_log_rng_seed"], d1["effective_accuracy_log_sampling_target"]) == \
        (720381539243781796, 64)
    assert "accuracy_log_sampling_target = 64" in r1.audit_config
    d4 = detail(r4.run_dir)
    assert d4["effective_performance_issue_same"] is True and d4["effective_performance_issue_same_index"] == 3
    assert set(sut4.indices) == {d4["loaded_qsl_set"][3]}  # only the 4th loaded sample, all run long
    d5 = detail(r5.run_dir)
    assert (d5["effective_qsl_rng_seed"], d5["effective_sample_index_rng_seed"], d5["effective_schedule_rng_seed"]) \
        == (313588358309856706, 471397156132239067, 413914573387865862)
    # the run folders and their logs are the ones copied
    assert (r5.test_dir / "performance/run_1/mlperf_log_detail.txt").read_bytes() == \
        (r5.run_dir / "mlperf_log_detail.txt").read_bytes()
    assert (r1.test_dir / "accuracy/mlperf_log_accuracy.json").read_bytes() == \
        (r1.run_dir / "mlperf_log_accuracy.json").read_bytes()


@pytest.mark.parametrize("scenario", [Scenario.SingleStream, Scenario.Offline])
def test_test04_fails_a_sut_that_caches_by_sample_index(world, scenario):
    clock, s, _acc, perf, out = world(scenario)
    r4 = run_test04(CachingSUT(clock), qsl(), s, out, perf, clock=clock)
    assert r4.run.valid
    p = r4.performance
    assert not r4.passed and not p.passed
    assert p.test_score > p.reference_score * 10  # the repeated sample is served from the cache
    assert p.lines[-1] == "TEST FAIL: Test score invalid"
    assert "TEST PASS" not in (r4.test_dir / "verify_performance.txt").read_text()
    assert any("TEST04/verify_performance.txt: no 'TEST PASS'" in x for x in check_compliance_dir(out, "resnet"))
    # the same SUT without the cache passes, so the failure is the cache's
    assert run_test04(DeterministicSUT(clock), qsl(), s, out, perf, clock=clock).passed


def test_test05_fails_when_performance_changes_with_the_seeds(world):
    clock, s, _acc, perf, out = world(Scenario.SingleStream)
    slow = DeterministicSUT(clock, service_ns=1_200_000)  # 20 % slower than the reference run's SUT
    r5 = run_test05(slow, qsl(), s, out, perf, clock=clock)
    assert not r5.passed and r5.performance.threshold == 0.05
    assert r5.performance.test_score == 1_200_000 and r5.performance.reference_score == 1_000_000


@pytest.mark.parametrize("scenario", PASSING_SCENARIOS)
def test_test01_fails_a_sut_whose_answers_are_not_reproducible(world, scenario):
    clock, s, acc, perf, out = world(scenario)
    r1 = run_test01(CounterSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock,
                    scorer=index_scorer(0))
    a = r1.accuracy
    assert not a.passed and a.num_perf_log_data_mismatch > 0 and not r1.passed
    assert r1.performance.passed  # its speed is fine
    assert (r1.test_dir / "verify_accuracy.txt").read_text().endswith("TEST FAIL\n\n")
    # the official fallback: baseline = the accuracy run restricted to the sampled indices, both scored
    sampled = {e["qsl_idx"] for e in json.loads((r1.run_dir / "mlperf_log_accuracy.json").read_text())}
    baseline = json.loads(r1.baseline_log.read_text())
    accuracy_run = {e["qsl_idx"]: e["data"] for e in json.loads((acc / "mlperf_log_accuracy.json").read_text())}
    assert r1.baseline_log == r1.run_dir / "mlperf_log_accuracy_baseline.json"
    assert {e["qsl_idx"] for e in baseline} == sampled
    assert all(e["data"] == accuracy_run[e["qsl_idx"]] for e in baseline)
    acc_dir = r1.test_dir / "accuracy"
    assert sorted(p.name for p in acc_dir.iterdir()) == ["accuracy.txt", "baseline_accuracy.txt",
                                                         "compliance_accuracy.txt", "mlperf_log_accuracy.json"]
    assert (acc_dir / "baseline_accuracy.txt").read_text().startswith("accuracy=100.000%")
    assert not (acc_dir / "compliance_accuracy.txt").read_text().startswith("accuracy=100.000%")
    assert r1.accuracy_delta is not None and not r1.accuracy_delta.passed
    assert any("baseline vs compliance accuracy" in x for x in check_compliance_dir(out, "resnet", ("TEST01",)))


def test_test01_fallback_passes_when_scored_accuracy_is_the_same(tmp_path):
    clock = SimClock()
    s = settings_for(Scenario.SingleStream)
    acc, perf = reference_runs(lambda: NoisyButCorrectSUT(clock), s, tmp_path / "results", clock)
    out = tmp_path / "compliance"
    r1 = run_test01(NoisyButCorrectSUT(clock), qsl(), s, "resnet", out, acc, perf, clock=clock,
                    scorer=index_scorer(1))
    assert not r1.accuracy.passed  # the first bytes differ
    assert r1.accuracy_delta.passed and r1.accuracy_delta.delta_percent == 0.0
    assert r1.passed
    assert check_compliance_dir(out, "resnet", ("TEST01",)) == []


def test_test01_without_a_scorer_leaves_the_baseline_to_score(world):
    clock, s, acc, perf, out = world(Scenario.SingleStream)
    r1 = run_test01(CounterSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock)
    assert not r1.passed and r1.baseline_log.is_file()
    assert any("baseline_accuracy.txt" in n for n in r1.notes)
    assert sorted(p.name for p in (r1.test_dir / "accuracy").iterdir()) == ["mlperf_log_accuracy.json"]


def test_reverification_clears_stale_fallback_files(world):
    clock, s, acc, perf, out = world(Scenario.Offline)
    bad = run_test01(CounterSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock, scorer=index_scorer(0))
    assert (bad.test_dir / "accuracy" / "baseline_accuracy.txt").is_file()
    good = run_test01(DeterministicSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock,
                      scorer=index_scorer(0))
    assert good.passed
    assert sorted(p.name for p in (good.test_dir / "accuracy").iterdir()) == ["accuracy.txt",
                                                                              "mlperf_log_accuracy.json"]


def test_verify_existing_runs_from_a_results_folder(world, tmp_path):
    clock, s, acc, perf, out = world(Scenario.SingleStream)
    results = acc.parent  # holds accuracy/ and performance/run_1/
    r1 = run_test01(DeterministicSUT(clock), qsl(), s, "3d-unet", out, acc, perf, clock=clock)
    again = verify_test01(results, results, r1.run_dir, tmp_path / "elsewhere")
    assert again.passed and again.accuracy.num_perf_log_entries == r1.accuracy.num_perf_log_entries
    assert (tmp_path / "elsewhere" / "TEST01" / "verify_accuracy.txt").read_text() == \
        (out / "TEST01" / "verify_accuracy.txt").read_text()
    r4 = run_test04(CachingSUT(clock), qsl(), s, out, perf, clock=clock)
    assert not verify_test04(results, r4.run_dir, tmp_path / "elsewhere").passed


def test_run_compliance_runs_what_the_benchmark_needs_then_truncation_satisfies_the_checker(world):
    clock, s, acc, perf, out = world(Scenario.Offline)
    bert = run_compliance(DeterministicSUT(clock), qsl(), s, "bert-99", out.parent.parent / "bert-99" / "Offline",
                          acc, perf, clock=clock)
    assert list(bert) == ["TEST01", "TEST05"] and all(r.passed for r in bert.values())
    res = run_compliance(DeterministicSUT(clock), qsl(), s, "resnet", out, acc, perf, clock=clock)
    assert list(res) == ["TEST01", "TEST04", "TEST05"] and all(r.passed for r in res.values())
    # without a scorer TEST01/accuracy lacks accuracy.txt until truncation adds it with the hash
    assert any("file list mismatch" in x for x in check_compliance_dir(out, "resnet"))
    sub_root = out.parents[5]
    outs = truncate_submission(sub_root, "Org")
    assert {o.accuracy_log.parent for o in outs if o.action == "truncated"} >= {out / "TEST01" / "accuracy"}
    assert check_compliance_dir(out, "resnet") == []
    assert (out / "TEST01" / "accuracy" / "accuracy.txt").read_text().startswith("hash=")
