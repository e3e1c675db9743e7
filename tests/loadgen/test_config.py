"""Tests of podium.loadgen.config: the mlperf.conf / user.conf / audit.config reader (spec loadgen.md §3, §7)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from podium.errors import ConfigError
from podium.loadgen.config import (
    IGNORED_KEY_NAMES,
    KNOWN_KEY_NAMES,
    MODEL_NAME_ALIASES,
    apply_config,
    builtin_mlperf_conf_path,
    conf_model_name,
    load_settings,
    parse_config_file,
    parse_config_text,
    settings_to_dict,
)
# Aliased so that pytest does not try to collect the Test* classes as test classes.
from podium.loadgen.settings import LogSettings, Scenario
from podium.loadgen.settings import TestMode as Mode
from podium.loadgen.settings import TestSettings as Settings

# Git blob id of mlperf.conf at tag v2.1 of github.com/mlcommons/inference: the shipped copy must be verbatim.
V21_MLPERF_CONF_BLOB = "8e2b7e18294e7d974c6f614ec6ba7bfe55903f21"

QSL_SEED = 14284205019438841327
SAMPLE_INDEX_SEED = 4163916728725999944
SCHEDULE_SEED = 299063814864929621


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def apply_text(text: str, model: str = "m", scenario: Scenario | str = Scenario.Offline,
               settings: Settings | None = None) -> Settings:
    return apply_config(settings or Settings(), parse_config_text(text, "test.conf"), model, scenario)


# ------------------------------------------------------------------------------------------- built-in file


def test_builtin_file_is_the_verbatim_v21_mlperf_conf() -> None:
    path = builtin_mlperf_conf_path()
    assert path.name == "mlperf_v2_1.conf"
    data = path.read_bytes()
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == V21_MLPERF_CONF_BLOB


def test_builtin_file_parses_with_every_line() -> None:
    entries = parse_config_file(builtin_mlperf_conf_path())
    assert len(entries) == 36
    assert entries["*.*.qsl_rng_seed"] == str(QSL_SEED)
    assert entries.lines["*.Offline.target_qps"] == 61


@pytest.mark.parametrize("scenario", list(Scenario))
@pytest.mark.parametrize("model", ["resnet50", "ssd-mobilenet", "retinanet", "bert", "dlrm", "rnnt", "3d-unet"])
def test_builtin_seeds_and_scenario_values(model: str, scenario: Scenario) -> None:
    s = load_settings(model, scenario)
    assert s.scenario is scenario
    assert s.mode is Mode.PerformanceOnly  # mlperf.conf sets no mode
    assert (s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed) == (
        QSL_SEED, SAMPLE_INDEX_SEED, SCHEDULE_SEED)
    assert s.qsl_rng_seed == 0xC63BB0C8C280FDEF
    assert s.sample_index_rng_seed == 0x39C9343412051148
    assert s.schedule_rng_seed == 0x04267CF482328355
    assert s.min_duration_ms == 600000
    assert s.min_query_count == {Scenario.SingleStream: 1024, Scenario.MultiStream: 270336,
                                 Scenario.Server: 270336, Scenario.Offline: 24576}[scenario]
    # Scenario-specific keys are read with their own scenario whatever the caller's scenario.
    assert s.single_stream_target_latency_percentile == 0.90
    assert s.multi_stream_target_latency_percentile == 0.99
    assert s.server_target_latency_percentile == 0.99
    assert s.multi_stream_samples_per_query == 8
    assert s.single_stream_expected_latency_ns == 10e6
    assert s.multi_stream_expected_latency_ns == (528e6 if model == "retinanet" else 80e6)
    assert s.server_target_qps == 1.0
    assert s.offline_expected_qps == 1.0
    assert s.sample_concatenate_permutation is (model == "3d-unet")
    assert s.max_duration_ms == 0 and s.max_query_count == 0


@pytest.mark.parametrize(("model", "count"), [
    ("resnet50", 1024), ("ssd-mobilenet", 256), ("retinanet", 64), ("bert", 10833), ("dlrm", 204800),
    ("rnnt", 2513), ("3d-unet", 0), ("some-other-model", 0),
])
def test_builtin_performance_sample_count_override(model: str, count: int) -> None:
    assert load_settings(model, Scenario.Offline).performance_sample_count_override == count


@pytest.mark.parametrize(("model", "latency_ms"), [
    ("resnet50", 15), ("retinanet", 100), ("bert", 130), ("dlrm", 30), ("rnnt", 1000), ("ssd-mobilenet", 10),
    ("3d-unet", 10), ("some-other-model", 10),
])
def test_builtin_server_target_latency(model: str, latency_ms: int) -> None:
    s = load_settings(model, Scenario.Server)
    assert s.server_target_latency_ns == latency_ms * 1_000_000
    assert isinstance(s.server_target_latency_ns, int)


def test_explicit_mlperf_conf_path_equals_builtin() -> None:
    for scenario in Scenario:
        assert load_settings("bert", scenario, mlperf_conf=builtin_mlperf_conf_path()) == load_settings(
            "bert", scenario)


# ------------------------------------------------------------------------------------------------ precedence


PRECEDENCE_LINES = [
    "m.Server.min_query_count = 1",
    "*.Server.min_query_count = 2",
    "m.*.min_query_count = 3",
    "*.*.min_query_count = 4",
]


@pytest.mark.parametrize("drop", range(4))
def test_lookup_precedence_all_four_levels(drop: int) -> None:
    # The most specific remaining level wins, whatever the order of the lines.
    lines = PRECEDENCE_LINES[drop:]
    for ordering in (lines, list(reversed(lines))):
        assert apply_text("\n".join(ordering), "m", Scenario.Server).min_query_count == drop + 1


def test_lookup_other_model_and_scenario_do_not_match() -> None:
    text = "other.Server.min_query_count = 1\nm.Offline.min_query_count = 2\n*.Offline.min_query_count = 3\n"
    assert apply_text(text, "m", Scenario.Server).min_query_count == Settings().min_query_count
    assert apply_text(text, "m", Scenario.Offline).min_query_count == 2


def test_later_duplicate_overwrites_and_its_line_counts(tmp_path: Path) -> None:
    entries = parse_config_text("*.*.min_duration = 1\n*.*.min_duration = 2\n", "d.conf")
    assert entries == {"*.*.min_duration": "2"}
    assert entries.lines == {"*.*.min_duration": 2}


def test_user_conf_over_mlperf_conf_and_audit_over_both(tmp_path: Path) -> None:
    mlperf = write(tmp_path, "mlperf.conf", "*.*.min_query_count = 10\n*.*.max_query_count = 11\n"
                                            "*.*.min_duration = 12\n")
    user = write(tmp_path, "user.conf", "m.*.max_query_count = 21\nm.Offline.min_duration = 22\n")
    audit = write(tmp_path, "audit.config", "*.*.min_duration = 32\n*.Offline.mode = 1\n")
    s = load_settings("m", "Offline", mlperf_conf=mlperf)
    assert (s.min_query_count, s.max_query_count, s.min_duration_ms) == (10, 11, 12)
    s = load_settings("m", "Offline", mlperf_conf=mlperf, user_conf=user)
    assert (s.min_query_count, s.max_query_count, s.min_duration_ms) == (10, 21, 22)
    s = load_settings("m", "Offline", mlperf_conf=mlperf, user_conf=user, audit_config=audit)
    # The audit's *.*.min_duration wins even over the user's exact m.Offline key: it is applied last.
    assert (s.min_query_count, s.max_query_count, s.min_duration_ms) == (10, 21, 32)
    assert s.mode is Mode.AccuracyOnly
    assert load_settings("m", "Server", mlperf_conf=mlperf, user_conf=user, audit_config=audit).mode is (
        Mode.PerformanceOnly)


def test_user_conf_over_builtin(tmp_path: Path) -> None:
    user = write(tmp_path, "user.conf", "# system tuning\nresnet50.Offline.target_qps = 12345.5\n"
                                        "*.Server.target_qps = 900\nresnet50.*.performance_sample_count_override = 2048\n")
    s = load_settings("resnet50", Scenario.Offline, user_conf=user)
    assert s.offline_expected_qps == 12345.5
    assert s.server_target_qps == 900.0
    assert s.performance_sample_count_override == 2048
    assert s.min_query_count == 24576  # untouched mlperf.conf value


def test_official_test04_and_test05_style_audit_configs(tmp_path: Path) -> None:
    test04 = write(tmp_path, "test04.config", "".join(
        f"*.{s.value}.mode = 2\n*.{s.value}.performance_issue_unique = 0\n"
        f"*.{s.value}.performance_issue_same = 1\n*.{s.value}.performance_issue_same_index = 3\n"
        for s in Scenario))
    for scenario in Scenario:
        s = load_settings("resnet50", scenario, audit_config=test04,
                          base=Settings(mode=Mode.AccuracyOnly, performance_issue_unique=True))
        assert s.mode is Mode.PerformanceOnly
        assert (s.performance_issue_unique, s.performance_issue_same, s.performance_issue_same_index) == (
            False, True, 3)
    test05 = write(tmp_path, "test05.config", "*.*.mode = 2\n*.*.qsl_rng_seed = 313588358309856706\n"
                                              "*.*.sample_index_rng_seed = 471397156132239067\n"
                                              "*.*.schedule_rng_seed = 413914573387865862\n")
    s = load_settings("bert-99", "Server", audit_config=test05)
    assert (s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed) == (
        313588358309856706, 471397156132239067, 413914573387865862)
    assert s.server_target_latency_ns == 130_000_000


def test_audit_key_with_a_model_is_rejected(tmp_path: Path) -> None:
    audit = write(tmp_path, "audit.config", "*.*.mode = 2\nresnet50.*.accuracy_log_sampling_target = 4096\n")
    with pytest.raises(ConfigError) as err:
        load_settings("resnet50", "Offline", audit_config=audit)
    msg = str(err.value)
    assert msg.startswith(f"{audit}:2: expected model '*' in 'resnet50.*.accuracy_log_sampling_target'")
    assert "'*.*.accuracy_log_sampling_target'" in msg


def test_fixed_scenario_keys_ignore_the_callers_scenario() -> None:
    text = ("*.SingleStream.target_latency = 2\n*.MultiStream.target_latency = 3\n"
            "*.Server.target_latency = 4\n*.Server.target_qps = 5\n*.Offline.target_qps = 6\n"
            "*.MultiStream.samples_per_query = 7\n*.Server.coalesce_queries = 1\n"
            "*.Server.max_async_queries = 9\n*.SingleStream.target_latency_percentile = 50\n")
    for scenario in Scenario:
        s = apply_text(text, "m", scenario)
        assert s.scenario is Settings().scenario  # apply_config does not set the scenario
        assert s.single_stream_expected_latency_ns == 2e6
        assert s.multi_stream_expected_latency_ns == 3e6
        assert s.server_target_latency_ns == 4_000_000
        assert s.server_target_qps == 5.0 and s.offline_expected_qps == 6.0
        assert s.multi_stream_samples_per_query == 7
        assert s.server_coalesce_queries is True
        assert s.server_max_async_queries == 9
        assert s.single_stream_target_latency_percentile == 50 * 0.01


def test_wildcard_scenario_for_scenario_specific_names_fills_every_reader() -> None:
    s = apply_text("m.*.target_latency = 20\n*.*.target_qps = 7.5\n*.*.target_latency_percentile = 95\n",
                   "m", Scenario.SingleStream)
    assert s.single_stream_expected_latency_ns == 20e6
    assert s.multi_stream_expected_latency_ns == 20e6
    assert s.server_target_latency_ns == 20_000_000
    assert s.server_target_qps == s.offline_expected_qps == 7.5
    assert (s.single_stream_target_latency_percentile == s.multi_stream_target_latency_percentile
            == s.server_target_latency_percentile == 95 * 0.01)


def test_caller_scenario_keys_use_the_callers_scenario() -> None:
    text = "*.Server.mode = 1\n*.Offline.mode = 3\n*.SingleStream.print_timestamps = 1\n"
    assert apply_text(text, "m", "Server").mode is Mode.AccuracyOnly
    assert apply_text(text, "m", "Offline").mode is Mode.FindPeakPerformance
    assert apply_text(text, "m", "MultiStream").mode is Mode.PerformanceOnly
    assert apply_text(text, "m", "SingleStream").print_timestamps is True
    assert apply_text(text, "m", "Server").print_timestamps is False


def test_ignored_keys_are_accepted_and_change_nothing() -> None:
    assert sorted(IGNORED_KEY_NAMES) == ["target_duration"]
    assert "target_duration" in KNOWN_KEY_NAMES
    text = "*.Server.target_duration = 0\n*.*.target_duration = 5\n*.Offline.target_latency_percentile = 90\n"
    for scenario in Scenario:
        assert apply_text(text, "m", scenario) == Settings()


# ----------------------------------------------------------------------------------------------------- units


def test_units_of_every_key_kind() -> None:
    text = """
*.*.mode = 3
*.*.min_duration = 1500
*.*.max_duration = 2500
*.*.min_query_count = 7
*.*.max_query_count = 8
*.*.qsl_rng_seed = 18446744073709551615
*.*.sample_index_rng_seed = 0x10
*.*.schedule_rng_seed = 0
*.*.accuracy_log_rng_seed = 720381539243781796
*.*.accuracy_log_probability = 12.5
*.*.accuracy_log_sampling_target = 4096
*.*.print_timestamps = 1
*.*.performance_issue_unique = 1
*.*.performance_issue_same = 1
*.*.performance_issue_same_index = 3
*.*.performance_sample_count_override = 64
*.*.sample_concatenate_permutation = 1
*.SingleStream.target_latency = 0.25
*.SingleStream.target_latency_percentile = 90
*.MultiStream.target_latency = 1e2
*.MultiStream.target_latency_percentile = 99.9
*.MultiStream.samples_per_query = 4
*.Server.target_latency = 15
*.Server.target_latency_percentile = 97
*.Server.target_qps = 123.25
*.Server.coalesce_queries = 1
*.Server.max_async_queries = 2
*.Offline.target_qps = 4.5e3
"""
    s = apply_text(text, "m", Scenario.Offline)
    assert s.mode is Mode.FindPeakPerformance
    assert (s.min_duration_ms, s.max_duration_ms) == (1500, 2500)  # ms stay ms
    assert (s.min_query_count, s.max_query_count) == (7, 8)
    assert s.qsl_rng_seed == 2**64 - 1
    assert s.sample_index_rng_seed == 16
    assert s.schedule_rng_seed == 0
    assert s.accuracy_log_rng_seed == 720381539243781796
    assert s.accuracy_log_probability == 12.5 * 0.01  # percent
    assert s.accuracy_log_sampling_target == 4096
    assert s.print_timestamps is s.performance_issue_unique is s.performance_issue_same is True
    assert s.performance_issue_same_index == 3
    assert s.performance_sample_count_override == 64
    assert s.sample_concatenate_permutation is True
    assert s.single_stream_expected_latency_ns == 0.25 * 1e6  # ms -> ns, fractional allowed
    assert s.single_stream_target_latency_percentile == 90 * 0.01
    assert s.multi_stream_expected_latency_ns == 100e6
    assert s.multi_stream_target_latency_percentile == 99.9 * 0.01  # exactly the official x 0.01
    assert s.multi_stream_samples_per_query == 4
    assert s.server_target_latency_ns == 15_000_000 and isinstance(s.server_target_latency_ns, int)
    assert s.server_target_latency_percentile == 97 * 0.01
    assert s.server_target_qps == 123.25
    assert s.server_coalesce_queries is True
    assert s.server_max_async_queries == 2
    assert s.offline_expected_qps == 4500.0
    assert isinstance(s.offline_expected_qps, float) and isinstance(s.server_target_qps, float)


@pytest.mark.parametrize(("code", "mode"), [(0, Mode.SubmissionRun), (1, Mode.AccuracyOnly),
                                            (2, Mode.PerformanceOnly), (3, Mode.FindPeakPerformance)])
def test_mode_codes(code: int, mode: Mode) -> None:
    assert apply_text(f"*.*.mode = {code}").mode is mode


def test_booleans_zero_turns_off() -> None:
    base = Settings(print_timestamps=True, sample_concatenate_permutation=True, server_coalesce_queries=True)
    s = apply_text("*.*.print_timestamps = 0\n*.*.sample_concatenate_permutation = 0\n"
                   "*.Server.coalesce_queries = 0\n", settings=base)
    assert (s.print_timestamps, s.sample_concatenate_permutation, s.server_coalesce_queries) == (False,) * 3


def test_integer_settings_take_float_settings_integer_text() -> None:
    s = apply_text("*.Offline.target_qps = 100\n*.SingleStream.target_latency = 3\n")
    assert s.offline_expected_qps == 100.0 and isinstance(s.offline_expected_qps, float)
    assert s.single_stream_expected_latency_ns == 3e6


def test_unsupplied_settings_keep_base_values_and_input_is_not_modified() -> None:
    base = Settings(min_query_count=5, print_timestamps=True, server_num_issue_query_threads=4)
    s = apply_text("*.*.max_query_count = 9\n", settings=base)
    assert (s.min_query_count, s.print_timestamps, s.server_num_issue_query_threads, s.max_query_count) == (
        5, True, 4, 9)
    assert base.max_query_count == 0
    assert s is not base


def test_load_settings_base_and_scenario() -> None:
    base = Settings(server_num_issue_query_threads=3, mode=Mode.AccuracyOnly)
    s = load_settings("resnet50", "server", base=base)
    assert s.scenario is Scenario.Server
    assert s.server_num_issue_query_threads == 3 and s.mode is Mode.AccuracyOnly
    assert base.scenario is Scenario.SingleStream


# --------------------------------------------------------------------------------------------------- grammar


def test_comments_blank_lines_and_whitespace() -> None:
    text = ("# a comment\n\n   \n\t*.*.min_query_count\t=\t5  \r\n#resnet50.Offline.target_qps = 100\n"
            "###########\n#\n# = x y\n")
    assert parse_config_text(text, "c.conf") == {"*.*.min_query_count": "5"}


def test_empty_text() -> None:
    assert parse_config_text("", "e.conf") == {}
    assert apply_text("") == Settings()


BAD_LINES = [
    ("resnet50.Offline.target_qps=100",
     "expected 'key = value' with spaces around '=', got 'resnet50.Offline.target_qps=100'"),
    ("resnet50.Offline.target_qps =100", "expected 'key = value' with spaces around '=', got"),
    ("resnet50.Offline.target_qps= 100", "expected 'key = value' with spaces around '=', got"),
    ("resnet50.Offline.target_qps", "expected 'key = value', got only 'resnet50.Offline.target_qps'"),
    ("resnet50.Offline.target_qps =", "expected a value after '=' for 'resnet50.Offline.target_qps'"),
    ("resnet50.Offline.target_qps = 1 2", "expected one value after '=', got 'resnet50.Offline.target_qps = 1 2'"),
    ("resnet50.Offline.target_qps = 1 # peak", "expected a comment on a line of its own"),
    ("resnet50.Offline.target_qps = #", "for 'resnet50.Offline.target_qps', got '#'"),
    ("#a comment without space", "expected a comment to start with '#' followed by a space"),
    ("#resnet50.Offline.target_qps = fast", "expected a comment to start with '#' followed by a space"),
    ("*.*.min_duration = 010", "expected a number without leading zeros for '*.*.min_duration', got '010' "
                               "(the official LoadGen reads a leading 0 as octal and would read 8"),
    ("*.*.min_duration = 08", "would read 0 for an integer setting"),
    ("*.Offline.target_qps = 00.5", "expected a number without leading zeros"),
    ("*.*.min_duration = 15.5", "expected a non-negative integer for '*.*.min_duration', got '15.5' "
                                "(the official LoadGen would silently read it as 15)"),
    ("*.*.min_query_count = 1e3", "(the official LoadGen would silently read it as 1)"),
    ("*.*.min_query_count = 5.0", "expected a non-negative integer"),
    ("*.*.min_query_count = 12abc", "expected a decimal integer, a 0x hexadecimal integer or a decimal float "
                                    "for '*.*.min_query_count', got '12abc'"),
    ("*.Offline.target_qps = inf", "got 'inf'"),
    ("*.Offline.target_qps = nan", "got 'nan'"),
    ("*.Offline.target_qps = 1e999", "expected a finite number"),
    ("*.*.min_query_count = 1_000", "got '1_000'"),
    ("resnet50.Offline", "expected 'key = value', got only"),
    ("resnet50.Offline = 5", "expected a key of the form 'model.scenario.name', got 'resnet50.Offline'"),
    ("resnet50..min_duration = 5", "expected a key of the form 'model.scenario.name'"),
    ("res*.Offline.min_duration = 5", "only a lone '*' is a wildcard"),
    ("resnet50.offline.min_duration = 5", "expected scenario '*', SingleStream, MultiStream, Server or Offline in "
                                          "'resnet50.offline.min_duration', got 'offline' (did you mean 'Offline'?"),
    ("resnet50.Batch.min_duration = 5", "got 'Batch'"),
    ("resnet50.Offline.min_duraton = 5", "expected a known setting name in 'resnet50.Offline.min_duraton', "
                                         "got 'min_duraton' (did you mean 'min_duration'?)"),
    ("resnet50.Offline.zzzz = 5", "known names: accuracy_log_probability"),
    ("resnet50.Offline.target_latency = 5", "expected scenario SingleStream, MultiStream, Server or '*' for "
                                            "'target_latency' in 'resnet50.Offline.target_latency', got 'Offline'"),
    ("*.Server.samples_per_query = 4", "expected scenario MultiStream or '*' for 'samples_per_query'"),
    ("*.SingleStream.target_qps = 4", "expected scenario Server, Offline or '*' for 'target_qps'"),
    ("*.Offline.coalesce_queries = 1", "for 'coalesce_queries'"),
    ("bert-99.Server.target_qps = 5", "expected the mlperf.conf model name 'bert' in 'bert-99.Server.target_qps', "
                                      "got the benchmark name 'bert-99'"),
    ("bert-99.9.Server.target_qps = 5", "got the benchmark name 'bert-99.9'"),
    ("*.*.min_query_count = -1", "expected a non-negative integer for '*.*.min_query_count', got '-1'"),
    ("*.*.qsl_rng_seed = 18446744073709551616", "expected a non-negative integer"),
    ("*.*.mode = 4", "expected a mode code: 0 (SubmissionRun), 1 (AccuracyOnly), 2 (PerformanceOnly) or "
                     "3 (FindPeakPerformance) for '*.*.mode', got '4'"),
    ("*.*.print_timestamps = 2", "expected 0 or 1 for '*.*.print_timestamps', got '2'"),
    ("*.*.sample_concatenate_permutation = 2", "expected 0 or 1"),
    ("*.SingleStream.target_latency_percentile = 0", "expected a percentile in percent, greater than 0 and at "
                                                     "most 100 for '*.SingleStream.target_latency_percentile'"),
    ("*.Server.target_latency_percentile = 100.5", "expected a percentile in percent"),
    ("*.*.target_latency_percentile = -5", "(read as SingleStream.target_latency_percentile)"),
    ("*.*.accuracy_log_probability = 101", "expected a percentage from 0 to 100"),
    ("*.Server.target_qps = 0", "expected a rate in queries per second greater than 0 for '*.Server.target_qps'"),
    ("*.Offline.target_qps = -3.5", "expected a rate in queries per second greater than 0"),
    ("*.SingleStream.target_latency = 0", "expected a latency in milliseconds greater than 0"),
    ("*.Server.target_latency = 12.5", "expected a whole number of milliseconds greater than 0 for "
                                       "'*.Server.target_latency', got '12.5' (the official LoadGen would "
                                       "silently read it as 12)"),
    ("*.*.target_latency = 0.5", "for '*.*.target_latency' (read as Server.target_latency), got '0.5'"),
    ("*.Server.target_latency = 18446744073710", "expected a whole number of milliseconds"),
    ("*.MultiStream.samples_per_query = 0", "expected a positive integer"),
    ("*.Server.max_async_queries = 2147483648", "expected an integer from 0 to 2147483647"),
    ("*.Server.target_duration = abc", "got 'abc'"),
]


@pytest.mark.parametrize(("line", "expected"), BAD_LINES)
def test_error_messages_name_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, "user.conf", f"# header\n*.*.min_duration = 1000\n{line}\n*.*.max_duration = 5\n")
    with pytest.raises(ConfigError) as err:
        parse_config_file(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:3: "), msg
    assert expected in msg, msg
    assert "\n" not in msg
    with pytest.raises(ConfigError) as err:
        parse_config_text(f"\n\n{line}", "user.conf")
    assert str(err.value).startswith("user.conf:3: ")


def test_error_example_from_the_brief() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config_text("# tuning\n\nresnet50.Offline.target_qps=100\n", "user.conf")
    assert str(err.value).startswith(
        "user.conf:3: expected 'key = value' with spaces around '=', got 'resnet50.Offline.target_qps=100'")


def test_first_bad_line_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"^x\.conf:2: "):
        parse_config_text("*.*.mode = 1\n*.*.mode = 9\n*.*.mode = 8\n", "x.conf")


def test_hex_and_signed_values() -> None:
    s = apply_text("*.*.qsl_rng_seed = 0xc63bb0c8c280fdef\n*.*.schedule_rng_seed = 0X04267CF482328355\n"
                   "*.Offline.target_qps = 0x10\n*.*.min_query_count = +5\n")
    assert s.qsl_rng_seed == QSL_SEED and s.schedule_rng_seed == SCHEDULE_SEED
    assert s.offline_expected_qps == 16.0
    assert s.min_query_count == 5


def test_missing_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "user.conf"
    with pytest.raises(ConfigError, match="not found") as err:
        parse_config_file(missing)
    assert str(missing) in str(err.value)
    with pytest.raises(ConfigError, match="user.conf"):
        load_settings("resnet50", "Offline", user_conf=missing)
    with pytest.raises(ConfigError, match="mlperf.conf"):
        load_settings("resnet50", "Offline", mlperf_conf=tmp_path / "mlperf.conf")
    with pytest.raises(ConfigError, match="audit.config"):
        load_settings("resnet50", "Offline", audit_config=tmp_path / "audit.config")
    with pytest.raises(ConfigError, match="cannot read"):
        parse_config_file(tmp_path)
    latin = tmp_path / "latin.conf"
    latin.write_bytes(b"# ok\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.conf:2: expected UTF-8 text, got byte 0xe9"):
        parse_config_file(latin)


# --------------------------------------------------------------------------------------- apply_config checks


def test_apply_config_checks_a_hand_built_dict() -> None:
    with pytest.raises(ConfigError) as err:
        apply_config(Settings(), {"*.*.min_query_count": "-4"}, "m", "Offline", source="cli overrides")
    assert str(err.value) == ("cli overrides: expected a non-negative integer for '*.*.min_query_count', "
                              "got '-4'")
    with pytest.raises(ConfigError, match=r"^<settings>: expected a rate in queries per second greater than 0 "
                                          r"for 'm\.Server\.target_qps'"):
        apply_config(Settings(), {"m.Server.target_qps": "0"}, "m", "Offline")
    with pytest.raises(ConfigError, match="expected a known setting name"):
        apply_config(Settings(), {"m.Offline.bogus": "1"}, "m", "Offline")
    # Entries that never match the model are still checked.
    with pytest.raises(ConfigError, match=r"expected a percentile.*other\.\*\.target_latency_percentile"):
        apply_config(Settings(), {"other.*.target_latency_percentile": "250"}, "m", "Offline")


def test_apply_config_uses_the_parsed_source_and_line() -> None:
    entries = parse_config_text("*.*.mode = 1\n", "user.conf")
    entries["*.*.max_query_count"] = "-1"
    entries.lines["*.*.max_query_count"] = 7
    with pytest.raises(ConfigError, match=r"^user\.conf:7: expected a non-negative integer"):
        apply_config(Settings(), entries, "m", "Offline")


def test_apply_config_accepts_scenario_strings_and_rejects_unknown() -> None:
    entries = {"*.Server.min_query_count": "3"}
    assert apply_config(Settings(), entries, "m", "Server").min_query_count == 3
    with pytest.raises(ConfigError, match="unknown scenario"):
        apply_config(Settings(), entries, "m", "Batch")
    with pytest.raises(ConfigError, match="unknown scenario"):
        load_settings("resnet50", "Batch")


# ---------------------------------------------------------------------------------------------------- aliases


def test_model_name_aliases() -> None:
    assert MODEL_NAME_ALIASES == {
        "bert-99": "bert", "bert-99.9": "bert", "dlrm-99": "dlrm", "dlrm-99.9": "dlrm",
        "3d-unet-99": "3d-unet", "3d-unet-99.9": "3d-unet", "resnet": "resnet50",
    }
    assert conf_model_name("bert-99.9") == "bert"
    assert conf_model_name("retinanet") == "retinanet"
    assert conf_model_name("*") == "*"


@pytest.mark.parametrize("alias", sorted(MODEL_NAME_ALIASES))
def test_aliases_give_the_conf_models_settings(alias: str) -> None:
    for scenario in (Scenario.Server, Scenario.Offline):
        assert load_settings(alias, scenario) == load_settings(MODEL_NAME_ALIASES[alias], scenario)


def test_alias_model_matches_conf_model_keys_in_apply_config() -> None:
    s = apply_config(Settings(), {"bert.Server.target_latency": "77"}, "bert-99.9", "Server")
    assert s.server_target_latency_ns == 77_000_000


def test_verbatim_model_matches_the_name_as_given_like_the_official() -> None:
    entries = parse_config_text("bert.Server.target_latency = 77\n", "mlperf.conf")
    s = apply_config(Settings(), entries, "bert-99", "Server", verbatim_model=True)
    assert s.server_target_latency_ns == Settings().server_target_latency_ns  # bert.* never matches bert-99
    s = apply_config(Settings(), entries, "bert", "Server", verbatim_model=True)
    assert s.server_target_latency_ns == 77_000_000


def test_keys_naming_a_benchmark_are_rejected_unless_verbatim() -> None:
    text = "bert-99.Server.target_qps = 42\n"
    with pytest.raises(ConfigError, match=r"^u\.conf:1: expected the mlperf\.conf model name 'bert'"):
        parse_config_text(text, "u.conf")
    with pytest.raises(ConfigError, match="expected the mlperf.conf model name"):
        apply_config(Settings(), {"bert-99.Server.target_qps": "42"}, "bert-99", "Server")
    entries = parse_config_text(text, "u.conf", verbatim_model=True)
    assert apply_config(Settings(), entries, "bert-99", "Server", verbatim_model=True).server_target_qps == 42.0


# ------------------------------------------------------------------------------------------- byte-order mark


def test_utf8_bom_does_not_disable_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "user.conf"
    path.write_bytes("\ufeffresnet50.Offline.target_qps = 1234\n*.*.min_duration = 5\n".encode("utf-8"))
    assert parse_config_file(path) == {"resnet50.Offline.target_qps": "1234", "*.*.min_duration": "5"}
    s = load_settings("resnet50", "Offline", user_conf=path)
    assert s.offline_expected_qps == 1234.0 and s.min_duration_ms == 5
    # parse_config_text too (text read by the caller with plain UTF-8 keeps the BOM character)
    assert parse_config_text("\ufeff*.*.mode = 1\n", "t.conf") == {"*.*.mode": "1"}


def test_bom_only_at_the_start_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "user.conf"
    path.write_bytes(b"*.*.mode = 1\n\xef\xbb\xbf*.*.min_duration = 5\n")
    with pytest.raises(ConfigError, match=r"user\.conf:2: "):
        parse_config_file(path)


# ------------------------------------------------------------------------------------------------- to_dict


def test_settings_to_dict_is_json_friendly() -> None:
    s = load_settings("bert", Scenario.Server)
    d = settings_to_dict(s)
    assert d["scenario"] == "Server" and d["mode"] == "PerformanceOnly"
    assert d["qsl_rng_seed"] == QSL_SEED
    assert d["server_target_latency_ns"] == 130_000_000
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {f for f in Settings.__dataclass_fields__}
    assert settings_to_dict(LogSettings())["prefix"] == "mlperf_log_"
    with pytest.raises(TypeError):
        settings_to_dict({"a": 1})
