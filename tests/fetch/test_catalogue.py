"""podium's own catalogue is well-formed and complete; the mirror rewrite; malformed catalogues name the field."""

from __future__ import annotations

import re

import pytest

from podium.errors import PodiumError
from podium.fetch import MIRROR_ENV, load_catalogue, mirror_url, parse_catalogue

HEX = {"md5": re.compile(r"^[0-9a-f]{32}$"), "sha256": re.compile(r"^[0-9a-f]{64}$")}
BENCHMARKS = ("resnet", "retinanet", "bert-99", "bert-99.9", "rnnt", "3d-unet-99", "3d-unet-99.9", "dlrm-99",
              "dlrm-99.9", "digits")


def test_every_benchmark_has_its_assets_and_every_entry_is_complete():
    cat = load_catalogue(mirror="")
    for name in BENCHMARKS:
        fam = cat.get(name)
        if name == "digits":
            assert fam.ships and not fam.assets
            continue
        assert fam.of_kind("model") and fam.of_kind("data"), name
        for kind, rel in fam.paths.items():
            if rel is not None:
                assert fam.of_kind(kind), (name, kind)
        for a in fam.assets:
            assert a.licence and a.reference, a.name
            if a.gated:
                assert a.manual and a.manual.expect.startswith(a.file), a.name
            else:
                assert a.urls and all(u.startswith(("https://", "http://")) for u in a.urls), a.name
            if a.checksum is None:
                assert "no checksum" in a.checksum_note and (a.size or a.size_note), a.name
            else:
                assert HEX[a.checksum.algorithm].match(a.checksum.value) and a.checksum.source, a.name


def test_the_reference_checksums_are_carried_over():
    cat = load_catalogue(mirror="")
    assert cat.get("rnnt").asset("dev-clean.tar.gz").checksum.value == "42e2234ba48799c1f50f24a7926300a1"
    assert cat.get("dlrm-99").asset("tb00_40M.pt").checksum.value == "2d49a5288cddb37c3c64860a06d79bb9"
    assert cat.get("resnet").asset("imagenet2012-val").gated
    assert cat.get("dlrm").asset("criteo-terabyte-day_23").gated
    assert cat.get("3d-unet-99.9").asset("kits19-preprocessed").gated


def test_a_mirror_rewrites_every_url_to_host_and_path(monkeypatch):
    assert mirror_url("https://zenodo.org/record/1/files/m.onnx?download=1", "http://mirror.lan/mlperf/") == \
        "http://mirror.lan/mlperf/zenodo.org/record/1/files/m.onnx?download=1"
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:8/m")
    cat = load_catalogue()
    url = cat.get("resnet").asset("resnet50_v1.onnx").urls[0]
    assert url == "http://127.0.0.1:8/m/zenodo.org/record/4735647/files/resnet50_v1.onnx"
    monkeypatch.delenv(MIRROR_ENV)
    assert load_catalogue().get("resnet").asset("resnet50_v1.onnx").urls[0].startswith("https://zenodo.org/")


def test_a_mirror_serves_the_catalogue_through_fetch(server, tmp_path, monkeypatch):
    from podium.fetch import fetch

    from tests.fetch.loopback import FAST, Behaviour, asset, catalogue, md5

    base, state = server
    state.paths["/mirror/zenodo.org/record/9/files/m.onnx"] = Behaviour(b"m")
    cat = catalogue([asset("m.onnx", "model", "model/m.onnx", ["https://zenodo.org/record/9/files/m.onnx?download=1"],
                           checksum={"algorithm": "md5", "value": md5(b"m")})]).with_mirror(base + "/mirror")
    assert fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST).ok
    assert (tmp_path / "model" / "m.onnx").read_bytes() == b"m"


@pytest.mark.parametrize("entry,message", [
    ({"name": "x", "kind": "weights", "file": "f", "urls": ["u"]}, "kind 'weights'"),
    ({"name": "x", "kind": "model", "urls": ["u"]}, "field 'file' missing"),
    ({"name": "x", "kind": "model", "file": "f", "urls": []}, "field 'urls' is empty"),
    ({"name": "x", "kind": "model", "file": "f", "urls": ["u"], "checksum": {"algorithm": "crc", "value": "1"}},
     "checksum algorithm 'crc'"),
    ({"name": "x", "kind": "data", "file": "f", "gated": True}, "needs field 'manual'"),
])
def test_a_malformed_entry_names_the_asset_and_field(entry, message):
    with pytest.raises(PodiumError, match=re.escape(message)) as err:
        parse_catalogue({"benchmarks": {"b": {"assets": [entry]}}})
    assert "benchmark b: asset x" in str(err.value) or "asset" in str(err.value)


def test_docs_fetch_md_lists_every_asset_with_its_source_and_checksum():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "fetch.md").read_text(encoding="utf-8")
    for fam in load_catalogue(mirror="").benchmarks.values():
        for a in fam.assets:
            assert f"`{a.name}`" in doc, a.name
            assert all(u in doc for u in a.urls), a.name
            if a.checksum:
                assert a.checksum.value in doc, a.name
