"""Podium's LoadGen against the official LoadGen 6.0.17 (PyPI ``mlcommons-loadgen``), run on the same settings
and the same SUT: same loaded sets, same issued sample indices in the same order, same Server schedule
(``generated_query_duration`` is the exact sum of the Poisson intervals), same accuracy-log sampling and
entries, same detail-log keys in the same order with the same values (timings aside) and the same summary
lines (numbers that are timings masked), in all four scenarios, performance and accuracy, with and without
token latencies.

The official package runs in a subprocess from its own folder (``tests/official/peers.py``); it is a test-time
peer, never a podium dependency.
"""

from __future__ import annotations

import pytest

from tests.official import peers, twin

SEEDS = {"qsl_rng_seed": 11, "sample_index_rng_seed": 12, "schedule_rng_seed": 13,
         "accuracy_log_probability": 0.2, "accuracy_log_rng_seed": 14}
#: fast enough that every scenario's minimum is met in well under a second
BASE = {"min_duration_ms": 50, "min_query_count": 40, "single_stream_expected_latency_ns": 50000,
        "multi_stream_expected_latency_ns": 100000, "server_target_qps": 3000.0, "offline_expected_qps": 500.0}
#: n_tokens per sample: 1 for every 7th index (the official's "greater than 1" error and the /-1 TPOT), else 9
TOKENS = {"tokens": True, "n_tokens": {"modulo": 7, "values": {"0": 1}, "default": 9}}
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")


#: SingleStream/MultiStream stop issuing when the duration is met, so how many queries a run issues depends on
#: the machine's speed; a max_query_count reached well before a long min_duration makes it the same on both
#: engines on any machine (both log "Max query count reached")
STREAM = {"min_duration_ms": 1000, "max_query_count": 300}


def _spec(scenario: str, mode: str, tokens: bool, **settings: object) -> dict:
    stream = STREAM if scenario in ("SingleStream", "MultiStream") else {}
    s = {**BASE, **stream, **SEEDS, **settings}
    if tokens:
        s["use_token_latencies"] = True
    return {"scenario": scenario, "mode": mode, "total": 60, "performance": 25, "settings": s,
            "sut": TOKENS if tokens else {}}


def _same(site, tmp_path, spec: dict, round: str = "v6.1") -> None:
    official = peers.run_official(site, spec, tmp_path / "official")
    podium = twin.run_podium(spec, tmp_path / "podium", round=round)
    twin.compare_issued(official, podium)
    twin.compare_detail(official, podium)
    twin.compare_summary(official, podium)
    twin.compare_accuracy_log(official, podium)


@pytest.mark.parametrize("tokens", [False, True], ids=["samples", "tokens"])
@pytest.mark.parametrize("mode", ["PerformanceOnly", "SubmissionRun"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_test_as_the_official(site, tmp_path, scenario, mode, tokens):
    _same(site, tmp_path, _spec(scenario, mode, tokens))


@pytest.mark.parametrize("variant", [
    {"sample_concatenate_permutation": True},
    {"performance_issue_unique": True},
    {"performance_issue_same": True, "performance_issue_same_index": 3},
    {"accuracy_sample_count_override": 30, "performance_sample_count_override": 20},
], ids=["equal-issue", "issue-unique", "issue-same", "sample-count-overrides"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_issue_rules_as_the_official(site, tmp_path, scenario, variant):
    """Equal issue in every scenario (6.0.x), the unique/same issue modes and the sample-count overrides,
    in a submission run (accuracy series over every loadable set, then performance)."""
    _same(site, tmp_path, _spec(scenario, "SubmissionRun", scenario != "Offline", **variant))


def test_server_token_bounds_and_early_stopping_pass_like_the_official(site, tmp_path):
    """Enough queries for both early-stopping runs (TPOT, then TTFT) to pass and be printed."""
    spec = _spec("Server", "PerformanceOnly", True, min_query_count=700, server_target_qps=8000.0)
    _same(site, tmp_path, spec)
    summary = (tmp_path / "podium" / "mlperf_log_summary.txt").read_text()
    assert "TTFT Early Stopping Result:\n * Run successful.\nTPOT Early Stopping Result:\n * Run successful." \
        in summary


def test_missing_first_tokens_are_errors_like_the_official(site, tmp_path):
    """No FirstTokenComplete at all: an error per sample, TTFT INT64_MIN. No accuracy logging here: the official
    then reads a token record it never made and crashes (podium logs an empty token_data)."""
    spec = _spec("Server", "PerformanceOnly", True, accuracy_log_probability=0.0)
    spec["sut"] = {"tokens": True, "first_token": False, "n_tokens": {"default": 5}}
    _same(site, tmp_path, spec)
    errors = [r["value"] for r in twin.detail_records(tmp_path / "podium") if r["key"] == "error_runtime"]
    assert errors and set(errors) == {"Attempted to record a sample latency before it's first token latency"}


@pytest.mark.parametrize("scenario", ["Offline", "Server"])
def test_inferred_token_rates_like_the_official(site, tmp_path, scenario):
    _same(site, tmp_path, _spec(scenario, "PerformanceOnly", False, infer_token_latencies=True,
                                token_latency_scaling_factor=69))


@pytest.mark.parametrize("scenario", ["SingleStream", "Server"])
def test_test05_seeds_like_the_official(site, tmp_path, scenario):
    """``test05`` runs performance mode with the test05_* seeds and says so in a warning."""
    _same(site, tmp_path, _spec(scenario, "SubmissionRun", False, test05=True, test05_qsl_rng_seed=5,
                                test05_sample_index_rng_seed=6, test05_schedule_rng_seed=7))


@pytest.mark.parametrize("variant", [
    {"sample_concatenate_permutation": True},
    {"performance_issue_unique": True},
    {"performance_issue_same": True, "performance_issue_same_index": 3},
], ids=["equal-issue", "issue-unique", "issue-same"])
@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream"])
def test_v2_1_issues_what_the_official_issues_where_the_two_loadgens_agree(site, tmp_path, scenario, variant):
    """Round v2.1 shares GenerateQueries' sample choice with 6.0.17 outside the 6.0 changes: with every sample
    loadable (total == performance count) and SingleStream/MultiStream, the v2.1 run issues exactly the
    official 6.0.17's samples, accuracy series included (the unique/same/equal-issue precedence, the
    cumulative equal-issue shuffles)."""
    if scenario == "MultiStream" and "sample_concatenate_permutation" in variant:
        pytest.skip("6.0.x pads MultiStream's query count to whole passes in equal issue; v2.1 does not")
    spec = _spec(scenario, "SubmissionRun", False, **variant)
    spec["total"] = spec["performance"] = 25
    official = peers.run_official(site, spec, tmp_path / "official")
    podium = twin.run_podium(spec, tmp_path / "podium", round="v2.1")
    twin.compare_issued(official, podium)


FROM_CONFIG_CASES = [("resnet50", "Offline"), ("resnet50", "SingleStream"), ("retinanet", "MultiStream"),
                     ("bert", "Server"), ("3d-unet", "SingleStream"), ("gptj", "Offline"), ("gptj", "Server"),
                     ("llama2-70b", "Server"), ("llama2-70b-interactive", "Server"), ("deepseek-r1", "Offline"),
                     ("rgat", "Offline"), ("whisper", "Offline")]
USER_CONF = ("*.Server.target_qps = 123.5\n*.*.min_duration = 1234\nllama2-70b.Server.ttft_latency = 999\n"
             "resnet50.Offline.target_qps = 77\n*.SingleStream.target_latency = 3\n"
             "*.*.performance_sample_count_override = 64\n")


def _official_settings(site, tmp_path, model: str, scenario: str, user_conf: str | None) -> dict:
    spec = {"scenario": scenario, "mode": "PerformanceOnly", "total": 1, "performance": 1,
            "dump_settings": True, "dump_only": True}
    if user_conf is not None:
        path = tmp_path / "user.conf"
        path.write_text(user_conf)
        spec["from_config"] = [{"path": str(path), "model": model, "scenario": scenario}]
    else:  # the built-in conf alone: conf_type 0
        spec["from_config"] = [{"path": "", "model": model, "scenario": scenario, "conf_type": 0}]
    import json

    out = peers.run_official(site, spec, tmp_path / "official")
    return json.loads((out / "settings.json").read_text())


@pytest.mark.parametrize("with_user_conf", [False, True], ids=["mlperf.conf", "mlperf.conf+user.conf"])
@pytest.mark.parametrize("model,scenario", FROM_CONFIG_CASES)
def test_round_conf_gives_the_official_settings(site, tmp_path, model, scenario, with_user_conf):
    """podium's v6.1 built-in mlperf.conf (+ a user.conf) yields every TestSettings field the official 6.0.17
    FromConfig does: seeds, per-model minimums, equal issue, token keys and bounds, sample-count overrides."""
    from podium.loadgen.config import load_settings, parse_config_text

    official = _official_settings(site, tmp_path, model, scenario, USER_CONF if with_user_conf else None)
    user = parse_config_text(USER_CONF, "user.conf") if with_user_conf else None
    ours = load_settings(model, scenario, user_conf=user, round="v6.1")
    renamed = {"ttft_latency": "server_ttft_latency", "tpot_latency": "server_tpot_latency"}
    for name, value in official.items():
        mine = getattr(ours, renamed.get(name, name))
        mine = mine.value if hasattr(mine, "value") else mine
        assert mine == value, f"{model}.{scenario}.{name}: official {value!r}, podium {mine!r}"


@pytest.mark.slow
def test_issue_thread_count_mismatch_is_the_officials_error(site, tmp_path):
    """``server_num_issue_query_threads`` > 0 with no thread registered (Python cannot): the official waits
    10 s, then logs the mismatch and issues on its own thread (Offline; in Server it would wait forever);
    podium logs the same error at once."""
    _same(site, tmp_path, _spec("Offline", "PerformanceOnly", False, server_num_issue_query_threads=2))
    errors = [r["value"] for r in twin.detail_records(tmp_path / "podium") if r["key"] == "error_runtime"]
    assert errors == ["Mismatch between settings and number of registered IssueQueryThreads! "
                      "settings.server_num_issue_query_threads = 2 but 0 threads registered."]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_accuracy_log_sampling_target_like_the_official(site, tmp_path, scenario):
    """TEST01's way of sampling (``accuracy_log_sampling_target`` over the expected query count)."""
    _same(site, tmp_path, _spec(scenario, "PerformanceOnly", scenario == "Server",
                                accuracy_log_probability=0.0, accuracy_log_sampling_target=2000,
                                accuracy_log_rng_seed=720381539243781796))
    entries = (tmp_path / "podium" / "mlperf_log_accuracy.json").read_text().count("seq_id")
    assert entries > 0


@pytest.mark.parametrize("scenario", ["MultiStream", "Offline"])
def test_a_last_loadable_set_shorter_than_the_padding_like_the_official(site, tmp_path, scenario):
    """28 samples in sets of 25: the last set has 3, fewer than MultiStream's 7 padding samples (the official
    pads by rereading the set from its start); max_query_count stops issuing early."""
    spec = _spec(scenario, "SubmissionRun", False, max_query_count=30)
    spec["total"] = 28
    _same(site, tmp_path, spec)
