"""The drop-in in a current round (``SetRound`` / ``PODIUM_ROUND``): the 6.0.17 names exist there and only there.

The full behaviour is checked against the official 6.0.17 module in ``tests/official``; these tests cover the
round switch itself and the calls those comparisons do not make.
"""

from __future__ import annotations

import array
import json

import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen.logs import read_detail_log


@pytest.fixture
def current():
    lg.SetRound("v6.1")
    yield
    lg.SetRound(None)


def test_the_round_follows_podium_round_and_set_round(monkeypatch):
    monkeypatch.setenv("PODIUM_ROUND", "v6.0")
    lg.SetRound(None)
    assert lg.Round() == "v6.0"
    monkeypatch.delenv("PODIUM_ROUND")
    assert lg.Round() == "v6.1"  # the newest, as installing the newest official package gives
    lg.SetRound("v2.1")
    try:
        assert lg.Round() == "v2.1"
    finally:
        lg.SetRound(None)
    with pytest.raises(ValueError, match="unknown round 'v9'"):
        lg.SetRound("v9")


def test_six_only_names_exist_only_in_a_current_round(current):
    s = lg.TestSettings()
    s.use_token_latencies = True
    s.ttft_latency = 2_000_000_000
    assert s.tpot_latency == 100_000_000 and s.accuracy_sample_count_override == 0
    assert callable(lg.FirstTokenComplete) and callable(lg.ConstructQDL) and callable(lg.DestroyQDL)
    lg.SetRound("v2.1")
    with pytest.raises(AttributeError, match="round v2.1"):
        s.use_token_latencies  # noqa: B018
    with pytest.raises(AttributeError, match="round v2.1"):
        lg.TestSettings().ttft_latency = 5
    with pytest.raises(AttributeError, match="FirstTokenComplete"):
        lg.FirstTokenComplete  # noqa: B018
    assert "use_token_latencies" not in repr(lg.TestSettings())


def test_a_qdl_is_a_sut_named_by_its_callback(current, tmp_path):
    names = []

    def name() -> str:
        names.append(1)
        return "QDL over the network"

    keep = []

    def issue(samples):
        data = array.array("i", [1])
        keep.append(data)
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, data.buffer_info()[0], 4) for s in samples])

    qdl = lg.ConstructQDL(issue, lambda: None, name)
    qsl = lg.ConstructQSL(8, 8, lambda ix: None, lambda ix: None)
    s = lg.TestSettings()
    s.scenario = lg.TestScenario.Offline
    s.min_duration_ms = 1
    log = lg.LogSettings()
    log.log_output.outdir = str(tmp_path)
    lg.StartTestWithLogSettings(qdl, qsl, s, log)
    lg.DestroyQDL(qdl)
    lg.DestroyQSL(qsl)
    keys = {r["key"]: r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt")}
    assert keys["sut_name"] == "QDL over the network" and names
    assert keys["loadgen_version"].startswith("6.0.17 @ podium") and keys["loadgen_version"].endswith("round v6.1")
    assert keys["effective_accuracy_sample_count"] == 8  # a 6.0.17 key


def test_first_token_complete_reads_token_bytes_only_for_logged_samples(current, tmp_path):
    read = []
    keep = []

    def cb(response):
        read.append(response.id)

    def issue(samples):
        tok = array.array("i", [7])
        keep.append(tok)
        lg.FirstTokenComplete([lg.QuerySampleResponse(s.id, tok.buffer_info()[0], 4) for s in samples], cb)
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, tok.buffer_info()[0], 4, 5) for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(4, 4, lambda ix: None, lambda ix: None)
    s = lg.TestSettings()
    s.scenario = lg.TestScenario.SingleStream
    s.mode = lg.TestMode.AccuracyOnly
    s.use_token_latencies = True
    log = lg.LogSettings()
    log.log_output.outdir = str(tmp_path)
    lg.StartTestWithLogSettings(sut, qsl, s, log)
    entries = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    assert len(entries) == 4 and len(read) == 4
    assert all(e["token_data"] == "07000000" and e["token_count"] == 5 for e in entries)
