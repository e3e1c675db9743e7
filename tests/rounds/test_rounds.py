"""The round registry and what each round changes outside the engine comparisons of tests/official: names,
the shipped mlperf.conf files, settings-file keys per round, the token arithmetic, benchmarks per round, and
the round in every record."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pytest

from podium.benchmarks.rounds import check_benchmark_in_round, rounds_with
from podium.errors import ConfigError, SettingError
from podium.loadgen import BaseSUT, LogSettings, SimpleQSL, TestSettings, start_test
from podium.loadgen import rules
from podium.loadgen.config import builtin_mlperf_conf_path, load_settings, parse_config_text
from podium.loadgen.settings import Scenario, TestMode
from podium.loadgen.token_metrics import token_results

#: git blob ids of loadgen/mlperf.conf in github.com/mlcommons/inference: the shipped copies are verbatim
BLOBS = {"v2.1": "8e2b7e18294e7d974c6f614ec6ba7bfe55903f21",  # tag v2.1
         "v6.0": "4e96134c7ca6fb4cf20367219b9168f8a083a3d0",  # 80aaa82a, 2026-02-06 (LoadGen 6.0.10)
         "v6.1": "b3bc74430884a4746aa6aea3e4f70b31e8750dd1"}  # d6147c7e, LoadGen 6.0.17 (= the wheel's)
SEEDS = {"v2.1": (14284205019438841327, 4163916728725999944, 299063814864929621),
         "v6.0": (2465351861681999779, 14276810075590677512, 3936089224930324775),
         "v6.1": (2085463073848966840, 2747215439041700203, 16159082839903944936)}


@pytest.mark.parametrize("name", sorted(BLOBS))
def test_each_round_ships_its_official_mlperf_conf_verbatim(name):
    data = builtin_mlperf_conf_path(name).read_bytes()
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == BLOBS[name]
    s = load_settings("resnet50", "Offline", round=name)
    assert (s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed) == SEEDS[name]


def test_round_names_and_the_default():
    assert rules.round_rules(None) is rules.NEWEST is rules.V6_1
    assert rules.round_rules("6.0") is rules.V6_0 and rules.round_rules(" V2.1 ") is rules.V2_1
    with pytest.raises(SettingError, match="expected one of v2.1, v6.0, v6.1"):
        rules.round_rules("v5.1")
    with rules.active_round("v2.1"):
        assert rules.current_round() is rules.V2_1
        with rules.active_round("v6.0"):
            assert rules.current_round() is rules.V6_0
        assert rules.current_round() is rules.V2_1
    assert rules.current_round() is rules.NEWEST


def test_podium_round_names_the_environment_round(monkeypatch):
    monkeypatch.setenv("PODIUM_ROUND", "v6.0")
    assert rules.env_round() is rules.V6_0
    monkeypatch.setenv("PODIUM_ROUND", "6.2")
    with pytest.raises(SettingError, match="PODIUM_ROUND='6.2'"):
        rules.env_round()


@pytest.mark.parametrize("round_name,scenario,min_queries", [
    ("v2.1", "SingleStream", 1024), ("v2.1", "MultiStream", 270336), ("v2.1", "Server", 270336),
    ("v2.1", "Offline", 24576), ("v6.1", "SingleStream", 100), ("v6.1", "MultiStream", 662),
    ("v6.1", "Server", 100), ("v6.1", "Offline", 24576)])
def test_minimum_query_counts_per_round(round_name, scenario, min_queries):
    """v2.1's per-scenario minimums; from v3.1 none in SingleStream/Server (the TestSettings default 100
    stands), MultiStream 662, Offline per model (resnet50: 24576)."""
    assert load_settings("resnet50", scenario, round=round_name).min_query_count == min_queries


def test_bert_offline_minimum_is_its_data_set_in_the_current_rounds():
    assert load_settings("bert", "Offline", round="v6.1").min_query_count == 10833
    assert load_settings("3d-unet", "Offline", round="v6.1").min_query_count == 43


def test_token_keys_come_from_the_current_conf_only():
    llm = load_settings("llama2-70b", "Server", round="v6.1")
    assert llm.use_token_latencies and llm.sample_concatenate_permutation
    assert (llm.server_ttft_latency, llm.server_tpot_latency) == (2_000_000_000, 200_000_000)
    inter = load_settings("llama2-70b-interactive", "Server", round="v6.1")
    assert (inter.server_ttft_latency, inter.server_tpot_latency) == (450_000_000, 40_000_000)
    gptj = load_settings("gptj", "Offline", round="v6.1")
    assert gptj.infer_token_latencies and gptj.token_latency_scaling_factor == 69


def test_a_v2_1_run_refuses_lines_only_loadgen_6_reads(tmp_path):
    user = parse_config_text("*.*.use_token_latencies = 1\n", "user.conf")
    with pytest.raises(ConfigError, match=r"user.conf:1: '\*\.\*\.use_token_latencies' is a LoadGen 6\.0\.x "
                                          r"setting; round v2.1"):
        load_settings("resnet50", "Server", user_conf=user, round="v2.1")


def test_user_conf_may_not_set_the_seeds_in_a_current_round():
    user = parse_config_text("# mine\n*.*.qsl_rng_seed = 1\n", "user.conf")
    with pytest.raises(ConfigError, match=r"user.conf:2: .*only come from round v6.1's built-in mlperf.conf"):
        load_settings("resnet50", "Offline", user_conf=user, round="v6.1")
    assert load_settings("resnet50", "Offline", user_conf=user, round="v2.1").qsl_rng_seed == 1


def test_token_bounds_apply_only_while_token_latencies_are_on():
    user = parse_config_text("*.Server.ttft_latency = 7\n", "user.conf")
    assert load_settings("resnet50", "Server", user_conf=user, round="v6.1").server_ttft_latency == 100_000_000
    assert load_settings("llama2-70b", "Server", user_conf=user, round="v6.1").server_ttft_latency == 7_000_000


def test_a_v2_1_test_refuses_settings_only_loadgen_6_has(tmp_path):
    class Null(BaseSUT):
        def issue_queries(self, samples):
            self.complete([(s.id, None) for s in samples])

    s = TestSettings(scenario=Scenario.Offline, use_token_latencies=True, min_duration_ms=1)
    with pytest.raises(SettingError, match="round v2.1 has no such setting"):
        start_test(Null(), SimpleQSL(8, 8), s, LogSettings(outdir=str(tmp_path)), audit_config=None, round="v2.1")


def test_token_arithmetic_is_the_official_int64():
    """TTFT = first - origin; TPOT = (latency - TTFT) / (n - 1) truncated toward zero; n <= 1 counts 0 tokens
    and divides by -1; the mean divides the wrapped int64 sum as unsigned (a negative sum reads huge)."""
    lat = np.array([1000, 2000, 3000], np.int64)
    origin = np.array([10, 20, 30], np.int64)
    first = np.array([110, 520, 30 + 2999], np.int64)  # TTFT 100, 500, 2999
    n = np.array([11, 4, 1], np.int64)
    r = token_results(lat, first, origin, n, 0.9)
    assert r.token_count == 15
    assert sorted(r.tpot_sorted.tolist()) == [-1, 90, 500]  # (1000-100)/10, (2000-500)/3, (3000-2999)/-1
    assert r.time_per_output_token_mean == (589 // 3)
    assert r.first_token_latency_mean == (100 + 500 + 2999) // 3
    neg = token_results(np.array([100, 100], np.int64), np.array([1, 1], np.int64), np.array([0, 0], np.int64),
                        np.array([1, 1], np.int64), 0.9)
    assert neg.time_per_output_token_mean == ((2**64 - 198) // 2)  # -99 twice, as size_t arithmetic reads it
    assert token_results(lat, np.zeros(3, np.int64), origin, n, 0.9).has_first_tokens is False


def test_benchmarks_a_round_does_not_have_are_refused_naming_the_rounds():
    assert rounds_with("retinanet") == ["v2.1", "v6.0"]
    with pytest.raises(SettingError, match=r"'rnnt' is not in round v6\.1 \(its last round was v4\.0\).*v2\.1"):
        check_benchmark_in_round("rnnt", "v6.1")
    with pytest.raises(SettingError, match=r"'dlrm-99' is not in round v6\.0.*--round v2\.1"):
        check_benchmark_in_round("dlrm-99", "v6.0")
    check_benchmark_in_round("digits", "v6.1")  # podium's own: any round
    check_benchmark_in_round("resnet", "v6.1")
    check_benchmark_in_round("retinanet", "v6.0")


def test_every_record_names_its_round(tmp_path):
    class Null(BaseSUT):
        def issue_queries(self, samples):
            self.complete([(s.id, None) for s in samples])

    import json

    for name in ("v2.1", "v6.0", "v6.1"):
        out = tmp_path / name
        s = TestSettings(scenario=Scenario.Server, mode=TestMode.PerformanceOnly, min_duration_ms=20,
                         server_target_qps=2000.0)
        res = start_test(Null(), SimpleQSL(16, 16), s, LogSettings(outdir=str(out)), audit_config=None,
                         round=name)
        record = json.loads(res.result_json.read_text())
        assert record["round"] == name
        assert record["performance"]["metric"]["name"] == ("Scheduled samples per second" if name == "v2.1"
                                                           else "Completed samples per second")
        summary = (out / "mlperf_log_summary.txt").read_text().splitlines()
        assert summary[6].startswith("Scheduled samples per second : " if name == "v2.1"
                                     else "Completed samples per second    : ")


def test_a_schema_1_results_store_gains_the_round_column(tmp_path):
    from podium.report.store import ResultsStore

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, benchmark TEXT)")
    db.execute("INSERT INTO runs (benchmark) VALUES ('digits')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    ResultsStore(path).close()
    row = sqlite3.connect(path).execute("SELECT round FROM runs").fetchone()
    assert row == ("v2.1",)


def test_a_current_round_campaign_uses_the_current_rules_and_is_a_practice_tree(tmp_path):
    from pathlib import Path

    from podium.campaign import load_campaign
    from podium.campaign.rounds import get_round
    from podium.campaign.runner import practice_tree
    from podium.submission import rules_current

    text = (Path(__file__).resolve().parents[2] / "examples" / "campaigns" / "digits.yaml").read_text()
    f = tmp_path / "c.yaml"
    f.write_text(text)
    c = load_campaign(f)
    assert c.round == "v6.1" and practice_tree(c)
    rnd = get_round("v6.1")
    assert rnd.required("3d-unet-99", "datacenter") == rules_current.V6_1.required_scenarios("3d-unet-99", "datacenter")
    assert rnd.required("digits", "edge") is None
    f.write_text(text.replace("round: v6.1", "round: v2.1"))
    assert not practice_tree(load_campaign(f))  # v2.1 writes drafts, not practice trees
