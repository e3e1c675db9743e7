"""The cache: a verified asset is not fetched again, a changed one is, and asset_path says where they are."""

from __future__ import annotations

import os

import pytest

from podium.errors import PodiumError
from podium.fetch import asset_path, benchmark_root, fetch

from tests.fetch.loopback import FAST, Behaviour, asset, catalogue, md5

MODEL = b"model bytes " * 100
CAL = b"calibration list\n"


def _cat(base: str):
    return catalogue([
        asset("m.onnx", "model", "model/m.onnx", [base + "/m.onnx"], checksum={"algorithm": "md5", "value": md5(MODEL)}),
        asset("cal.txt", "calibration", "calibration/cal.txt", [base + "/cal.txt"], size=len(CAL)),
        asset("alt.txt", "calibration", "calibration/alt.txt", [base + "/alt.txt"], optional=True),
    ], paths={"model": "model/m.onnx", "calibration": "calibration/cal.txt", "data": "data"})


def test_refetching_a_verified_asset_is_a_no_op_that_says_so(server, tmp_path):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(MODEL)
    cat = _cat(base)
    fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    again = fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    assert [o.status for o in again.outcomes] == ["already"]
    assert "already fetched and verified" in again.outcomes[0].message
    assert len(state.requests("/m.onnx")) == 1  # no second download


def test_force_downloads_again(server, tmp_path):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(MODEL)
    cat = _cat(base)
    fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    again = fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST, force=True)
    assert [o.status for o in again.outcomes] == ["fetched"] and len(state.requests("/m.onnx")) == 2


def test_a_file_changed_after_verification_is_fetched_again(server, tmp_path):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(MODEL)
    cat = _cat(base)
    fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    (tmp_path / "model" / "m.onnx").write_bytes(b"truncated")
    assert asset_path("tb", "model", dest=tmp_path, catalogue=cat) is None
    again = fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    assert again.outcomes[0].status == "fetched"
    assert (tmp_path / "model" / "m.onnx").read_bytes() == MODEL


def test_asset_path_is_none_until_fetched_then_the_file(server, tmp_path):
    base, state = server
    state.paths["/cal.txt"] = Behaviour(CAL)
    cat = _cat(base)
    assert asset_path("tb", "calibration", dest=tmp_path, catalogue=cat) is None
    report = fetch("tb", "calibration", dest=tmp_path, catalogue=cat, policy=FAST)
    assert [o.asset.name for o in report.outcomes] == ["cal.txt"]  # the optional alternative is left out
    assert asset_path("tb", "calibration", dest=tmp_path, catalogue=cat) == tmp_path / "calibration" / "cal.txt"
    assert asset_path("tb", "model", dest=tmp_path, catalogue=cat) is None  # not fetched
    assert asset_path("tb", "data", dest=tmp_path, catalogue=cat) is None  # the benchmark has no data asset
    with pytest.raises(PodiumError, match="what 'weights'"):
        asset_path("tb", "weights", dest=tmp_path, catalogue=cat)


def test_an_optional_asset_is_fetched_by_name(server, tmp_path):
    base, state = server
    state.paths["/alt.txt"] = Behaviour(b"alt")
    report = fetch("tb", asset="alt.txt", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    assert report.outcomes[0].status == "fetched" and (tmp_path / "calibration" / "alt.txt").read_bytes() == b"alt"
    with pytest.raises(PodiumError, match="--asset nope: not an asset of tb"):
        fetch("tb", asset="nope", dest=tmp_path, catalogue=_cat(base), policy=FAST)


def test_the_default_folder_is_in_the_podium_cache(monkeypatch, tmp_path, server):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(MODEL)
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "cache"))
    cat = _cat(base)
    report = fetch("tb-99", "model", catalogue=cat, policy=FAST)
    root = tmp_path / "cache" / "assets" / "tb"
    assert report.root == root == benchmark_root("tb")
    assert asset_path("tb-99", "model", catalogue=cat) == root / "model" / "m.onnx"
    assert sorted(os.listdir(root)) == ["model", "podium-fetch.json"]


def test_an_unknown_benchmark_is_one_line_naming_the_choices(tmp_path):
    with pytest.raises(PodiumError, match=r"benchmark 'gpt': not in the fetch catalogue \(expected one of tb, tb-99\)"):
        fetch("gpt", dest=tmp_path, catalogue=_cat("http://127.0.0.1:1"))
