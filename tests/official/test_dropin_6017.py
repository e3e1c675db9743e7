"""The same harness script on the official 6.0.17 module and on ``podium.mlperf_loadgen`` (``PODIUM_ROUND``
v6.1): a current reference-style harness (user.conf through ``FromConfig``, ``FirstTokenComplete``, 4-argument
``QuerySampleResponse``) runs unchanged and writes the official's logs, timings aside."""

from __future__ import annotations

import json

import pytest

from tests.official import peers, twin


def _same(site, tmp_path, spec: dict) -> None:
    official = peers.run_official(site, spec, tmp_path / "official")
    podium = peers.run_dropin(spec, tmp_path / "podium")
    twin.compare_issued(official, podium)
    twin.compare_detail(official, podium)
    twin.compare_summary(official, podium)
    twin.compare_accuracy_log(official, podium)


#: a user.conf as a submitter writes it for a short run: only keys user.conf may set in 6.0.x
USER_CONF = ("*.*.min_duration = 50\n*.*.min_query_count = 40\n*.Server.target_qps = 3000\n"
             "*.Offline.target_qps = 600\n*.SingleStream.target_latency = 0.05\n*.MultiStream.target_latency = 0.1\n"
             "*.*.performance_sample_count_override = 25\n"
             # the stream scenarios stop at a query count, not a duration: the same count on any machine
             "*.SingleStream.min_duration = 1000\n*.MultiStream.min_duration = 1000\n*.*.max_query_count = 300\n")


@pytest.mark.parametrize("mode", ["PerformanceOnly", "SubmissionRun"])
@pytest.mark.parametrize("model,scenario,tokens", [
    ("llama2-70b", "Server", True), ("llama2-70b", "Offline", True), ("llama2-70b-interactive", "Server", True),
    ("llama3_1-8b-edge", "SingleStream", True), ("gptj", "Offline", False), ("resnet50", "MultiStream", False),
    ("bert", "Server", False), ("3d-unet", "SingleStream", False)])
def test_a_current_harness_runs_unchanged_on_the_drop_in(site, tmp_path, model, scenario, tokens, mode):
    conf = tmp_path / "user.conf"
    conf.write_text(USER_CONF)
    spec = {"scenario": scenario, "mode": mode, "total": 60, "performance": 25,
            "from_config": [{"path": str(conf), "model": model, "scenario": scenario}],
            "sut": {"tokens": True, "n_tokens": {"modulo": 7, "values": {"0": 1}, "default": 9}} if tokens else {}}
    _same(site, tmp_path, spec)


def test_drop_in_test_settings_have_the_official_attributes_and_defaults(site, tmp_path):
    spec = {"scenario": "Server", "mode": "PerformanceOnly", "total": 1, "performance": 1, "dump_settings": True,
            "dump_only": True}
    official = json.loads((peers.run_official(site, spec, tmp_path / "o") / "settings.json").read_text())
    ours = json.loads((peers.run_dropin(spec, tmp_path / "p") / "settings.json").read_text())
    assert ours == official


def test_second_user_conf_is_an_invalid_config_error_like_the_official(site, tmp_path):
    """The official counts FromConfig(conf_type=1) calls per process: a second one is an error."""
    conf = tmp_path / "user.conf"
    conf.write_text(USER_CONF)
    spec = {"scenario": "Offline", "mode": "PerformanceOnly", "total": 60, "performance": 25,
            "dump_settings": True, "dump_only": True,
            "from_config": [{"path": str(conf), "model": "resnet50", "scenario": "Offline"},
                            {"path": str(conf), "model": "resnet50", "scenario": "Offline"}]}
    official = json.loads((peers.run_official(site, spec, tmp_path / "o") / "settings.json").read_text())
    ours = json.loads((peers.run_dropin(spec, tmp_path / "p") / "settings.json").read_text())
    assert ours == official


def test_drop_in_has_every_name_of_the_official_module(site, tmp_path):
    import os
    import subprocess
    import sys

    script = ("import json, mlperf_loadgen as lg\n"
              "names = {n: sorted(a for a in dir(getattr(lg, n)) if not a.startswith('_'))\n"
              "         for n in dir(lg) if not n.startswith('_') and n[0].isupper()}\n"
              "print(json.dumps(names))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(site)}, check=True).stdout
    official = json.loads(out)
    import podium.mlperf_loadgen as lg

    lg.SetRound("v6.1")
    try:
        for name, members in official.items():
            ours = getattr(lg, name)
            if name in ("TestScenario", "TestMode", "LoggingMode"):
                assert set(ours.__members__) == {m for m in members if m[0].isupper()}, name
                continue
            if isinstance(ours, type):
                assert {m for m in members if m not in ("name", "value")} <= set(dir(ours)), name
    finally:
        lg.SetRound(None)
    # podium's own extras, documented: AbortTest (the C++ API's), SetRound, Round
    assert set(official) <= {n for n in dir(lg) if not n.startswith("_")} | {"FirstTokenComplete", "ConstructQDL",
                                                                             "DestroyQDL"}
