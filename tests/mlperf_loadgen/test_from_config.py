"""``TestSettings.FromConfig``: the official return codes, podium's strict reading, podium's values."""

from __future__ import annotations

import dataclasses
import errno

import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen import config
from podium.loadgen import settings as ps


def _snapshot(s: lg.TestSettings) -> dict:
    return {name: getattr(s, name) for name in s._visible()}  # the round's fields (v2.1 here)


def _assert_same(ours: lg.TestSettings, theirs: ps.TestSettings):
    for f in dataclasses.fields(ps.TestSettings):
        if f.name in ps.CURRENT_ONLY_FIELDS:  # the v2.1 binding has none of these
            continue
        a, b = getattr(ours, f.name), getattr(theirs, f.name)
        if f.name in ("scenario", "mode"):
            assert a.name == b.value, f.name
        else:
            assert a == b, f.name


@pytest.mark.parametrize("model,scenario", [("resnet50", "Offline"), ("resnet50", "Server"), ("bert", "Server"),
                                            ("retinanet", "MultiStream"), ("3d-unet", "SingleStream")])
def test_builtin_mlperf_conf_applies_the_same_values_as_podium_config(model, scenario):
    path = str(config.builtin_mlperf_conf_path())
    s = lg.TestSettings()
    assert s.FromConfig(path, model, scenario) == 0
    expected = config.apply_config(ps.TestSettings(), config.parse_config_file(path), model, ps.Scenario(scenario))
    _assert_same(s, expected)
    assert s.scenario is lg.TestScenario.SingleStream  # FromConfig never sets the scenario
    assert s.qsl_rng_seed == 14284205019438841327
    assert s.min_duration_ms == 600000


def test_user_conf_after_mlperf_conf_overrides(tmp_path):
    user = tmp_path / "user.conf"
    user.write_text("# user settings\n"
                    "resnet50.Offline.target_qps = 1234.5\n"
                    "*.Server.target_latency = 20\n"
                    "*.*.mode = 1\n"
                    "resnet50.*.min_query_count = 0x10\n"
                    "*.SingleStream.target_latency_percentile = 95\n")
    s = lg.TestSettings()
    assert s.FromConfig(str(config.builtin_mlperf_conf_path()), "resnet50", "Offline") == 0
    assert s.FromConfig(str(user), "resnet50", "Offline") == 0
    assert s.offline_expected_qps == 1234.5
    assert s.server_target_latency_ns == 20_000_000
    assert s.mode is lg.TestMode.AccuracyOnly
    assert s.min_query_count == 16
    assert s.single_stream_target_latency_percentile == 95 * 0.01
    assert s.performance_sample_count_override == 1024  # kept from mlperf.conf
    expected = config.load_settings("resnet50", "Offline", user_conf=user)
    _assert_same_except_scenario = ({f.name for f in dataclasses.fields(ps.TestSettings)} - {"scenario"}
                                    - set(ps.CURRENT_ONLY_FIELDS))
    for name in _assert_same_except_scenario:
        a, b = getattr(s, name), getattr(expected, name)
        assert (a.name == b.value) if name == "mode" else (a == b), name


def test_keyword_call_and_later_bindings_conf_type_argument(tmp_path):
    conf = tmp_path / "u.conf"
    conf.write_text("*.*.min_duration = 1234\n")
    s = lg.TestSettings()
    assert s.FromConfig(path=str(conf), model="x", scenario="Server", conf_type=1) == 0
    assert s.min_duration_ms == 1234
    assert s.FromConfig(conf, "x", "Server") == 0  # a PathLike path


@pytest.mark.parametrize("text,line", [
    ("*.*.min_duration = 10\nresnet50.Offline.target_qps=10\n", 2),  # no spaces around '='
    ("resnet50.Offline.target_qps = ten\n", 1),  # not a number
    ("*.*.min_query_count = 15.5\n", 1),  # the official would silently read 15
    ("*.*.min_query_count = 1 2\n", 1),  # two values
    ("*.*.no_such_setting = 1\n", 1),
])
def test_malformed_file_returns_einval_prints_file_line_and_changes_nothing(tmp_path, capsys, text, line):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    s = lg.TestSettings()
    s.min_duration_ms = 5
    before = _snapshot(s)
    assert s.FromConfig(str(conf), "resnet50", "Offline") == -errno.EINVAL
    assert _snapshot(s) == before
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{conf}:{line}: ")


def test_missing_file_returns_enoent(tmp_path, capsys):
    s = lg.TestSettings()
    before = _snapshot(s)
    missing = tmp_path / "nope.conf"
    assert s.FromConfig(str(missing), "resnet50", "Offline") == -errno.ENOENT
    assert _snapshot(s) == before
    assert str(missing) in capsys.readouterr().err


def test_scenario_must_be_spelt_exactly(tmp_path, capsys):
    conf = tmp_path / "u.conf"
    conf.write_text("*.*.min_duration = 1234\n")
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "resnet50", "offline") == -errno.EINVAL
    assert s.min_duration_ms == 10000
    assert "'offline'" in capsys.readouterr().err


def test_arguments_must_be_strings(tmp_path):
    with pytest.raises(TypeError):
        lg.TestSettings().FromConfig(str(tmp_path / "x"), 3, "Offline")


# ----------------------------------------------------------------------- model name matched verbatim (issue 13)
_BERT_ONLY = ("bert.*.performance_sample_count_override = 10833\n"
              "bert.Server.target_latency = 130\n"
              "bert.Offline.min_query_count = 77\n")


def test_benchmark_name_is_not_mapped_so_bert_99_picks_up_no_bert_lines(tmp_path):
    # The official FromConfig looks up "bert-99.Server.target_latency", "*.Server...", "bert-99.*...",
    # "*.*..." only: the bert.* lines never match the model name bert-99.
    conf = tmp_path / "mlperf.conf"
    conf.write_text(_BERT_ONLY)
    s = lg.TestSettings()
    before = _snapshot(s)
    assert s.FromConfig(str(conf), "bert-99", "Offline") == 0
    assert _snapshot(s) == before


def test_base_model_name_picks_up_the_bert_lines(tmp_path):
    conf = tmp_path / "mlperf.conf"
    conf.write_text(_BERT_ONLY)
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "bert", "Offline") == 0
    assert s.performance_sample_count_override == 10833
    assert s.server_target_latency_ns == 130_000_000
    assert s.min_query_count == 77


def test_builtin_mlperf_conf_with_benchmark_names_reads_only_wildcard_lines():
    path = str(config.builtin_mlperf_conf_path())
    for model, base in (("bert-99", "bert"), ("bert-99.9", "bert"), ("resnet", "resnet50")):
        s = lg.TestSettings()
        assert s.FromConfig(path, model, "Server") == 0
        assert s.performance_sample_count_override == 0  # the per-model line is not read
        assert s.server_target_latency_ns == 10_000_000  # *.Server.target_latency, not the model's own
        assert s.qsl_rng_seed == 14284205019438841327  # *.*. lines apply as usual
        b = lg.TestSettings()
        assert b.FromConfig(path, base, "Server") == 0
        assert b.performance_sample_count_override in (10833, 1024)


def test_keys_naming_a_benchmark_are_accepted_and_match_that_name_verbatim(tmp_path):
    # Podium's own settings builder rejects 'bert-99.Server...' keys (it maps bert-99 to bert, so they could
    # never match); the drop-in matches verbatim, like the official, so such a key is read for 'bert-99'.
    conf = tmp_path / "user.conf"
    conf.write_text("bert-99.Server.target_qps = 42\nbert-99.9.*.min_query_count = 9\n")
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "bert-99", "Server") == 0
    assert s.server_target_qps == 42.0 and s.min_query_count == 100
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "bert-99.9", "Server") == 0
    assert s.server_target_qps == 1.0 and s.min_query_count == 9
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "bert", "Server") == 0
    assert _snapshot(s) == _snapshot(lg.TestSettings())


def test_utf8_byte_order_mark_does_not_disable_the_first_line(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_bytes(b"\xef\xbb\xbfresnet50.Offline.target_qps = 1234\n*.*.min_duration = 77\n")
    s = lg.TestSettings()
    assert s.FromConfig(str(conf), "resnet50", "Offline") == 0
    assert s.offline_expected_qps == 1234.0
    assert s.min_duration_ms == 77
