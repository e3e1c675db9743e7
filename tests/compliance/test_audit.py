"""The audit.config files: their settings are those of the official v2.1 compliance tree."""

from __future__ import annotations

import pytest

from podium.compliance import (
    AUDIT_CONFIGS,
    TEST01_SAMPLING_TARGETS,
    TEST05_SEEDS,
    ComplianceError,
    audit_config_text,
    required_tests,
    sampling_target_for,
    write_audit_config,
)
from podium.loadgen import Scenario, TestMode, TestSettings
from podium.loadgen.config import apply_config, parse_config_text


def applied(text: str, scenario: Scenario) -> TestSettings:
    return apply_config(TestSettings(scenario=scenario), parse_config_text(text, "audit.config"), "*", scenario)


def test_audit_config_files_are_the_official_set():
    assert sorted(AUDIT_CONFIGS) == sorted(
        [f"TEST01/{m}/audit.config" for m in ("resnet50", "retinanet", "bert", "dlrm", "rnnt", "3d-unet")]
        + ["TEST04/audit.config", "TEST05/audit.config"])
    assert TEST01_SAMPLING_TARGETS == {"resnet50": 4096, "retinanet": 256, "bert": 4096, "dlrm": 4096,
                                       "rnnt": 4096, "3d-unet": 64}


@pytest.mark.parametrize("scenario", list(Scenario))
@pytest.mark.parametrize("model,target", [("resnet50", 4096), ("retinanet", 256), ("3d-unet", 64), ("bert", 4096)])
def test_test01_sets_performance_mode_seed_and_target(scenario, model, target):
    s = applied(AUDIT_CONFIGS[f"TEST01/{model}/audit.config"], scenario)
    assert s.mode is TestMode.PerformanceOnly
    assert s.accuracy_log_rng_seed == 720381539243781796
    assert s.accuracy_log_sampling_target == target
    # nothing else changes
    assert s.copy(mode=TestMode.PerformanceOnly, accuracy_log_rng_seed=0, accuracy_log_sampling_target=0) == \
        TestSettings(scenario=scenario)


@pytest.mark.parametrize("scenario", list(Scenario))
def test_test04_repeats_sample_3_in_every_scenario(scenario):
    s = applied(AUDIT_CONFIGS["TEST04/audit.config"], scenario)
    assert (s.mode, s.performance_issue_unique, s.performance_issue_same, s.performance_issue_same_index) == \
        (TestMode.PerformanceOnly, False, True, 3)


@pytest.mark.parametrize("scenario", list(Scenario))
def test_test05_sets_the_alternate_seeds(scenario):
    s = applied(AUDIT_CONFIGS["TEST05/audit.config"], scenario)
    assert s.mode is TestMode.PerformanceOnly
    assert (s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed) == \
        (313588358309856706, 471397156132239067, 413914573387865862)
    assert TEST05_SEEDS == {"qsl_rng_seed": 313588358309856706, "sample_index_rng_seed": 471397156132239067,
                            "schedule_rng_seed": 413914573387865862}


def test_benchmark_names_map_to_conf_models():
    assert sampling_target_for("resnet") == 4096
    assert sampling_target_for("bert-99.9") == 4096
    assert sampling_target_for("3d-unet-99") == 64
    assert audit_config_text("TEST01", "retinanet") == AUDIT_CONFIGS["TEST01/retinanet/audit.config"]
    with pytest.raises(ComplianceError, match="sampling_target"):
        sampling_target_for("digits")
    assert "accuracy_log_sampling_target = 32" in audit_config_text("TEST01", "digits", sampling_target=32)
    with pytest.raises(ComplianceError, match="TEST02"):
        audit_config_text("TEST02")


def test_required_tests_follow_the_checker():
    assert required_tests("resnet") == ("TEST01", "TEST04", "TEST05")
    for bench in ("retinanet", "rnnt", "bert-99", "bert-99.9", "dlrm-99.9", "3d-unet-99", "bert"):
        assert required_tests(bench) == ("TEST01", "TEST05")


def test_write_audit_config_into_a_folder(tmp_path):
    p = write_audit_config("TEST05", tmp_path)
    assert p == tmp_path / "audit.config"
    assert p.read_text() == AUDIT_CONFIGS["TEST05/audit.config"]
