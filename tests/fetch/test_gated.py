"""Gated and manual-only assets: never downloaded; clear instructions while missing, recorded once in place."""

from __future__ import annotations

import pytest

from podium.fetch import ChecksumMismatch, ManualAssetsNeeded, asset_path, fetch, read_manifest

from tests.fetch.loopback import asset, catalogue, md5

ROWS = b"0\t1\t2\n"


def _cat(**extra):
    return catalogue([asset("imagenet-val", "data", "data", ["https://example.invalid/register"], gated=True,
                            licence="research use only",
                            manual={"steps": "register and download the images", "expect": "data/val_map.txt"},
                            **extra)], paths={"data": "data"})


def test_a_missing_gated_asset_says_where_to_get_it_and_where_to_put_it(tmp_path):
    report = fetch("tb", "data", dest=tmp_path, catalogue=_cat())
    assert not report.ok and [o.asset.name for o in report.missing] == ["imagenet-val"]
    msg = report.missing[0].message
    assert "cannot be downloaded by podium" in msg and "https://example.invalid/register" in msg
    assert f"put it at:   {tmp_path / 'data'}" in msg and str(tmp_path / "data" / "val_map.txt") in msg
    assert "register and download the images" in msg and "research use only" in msg
    with pytest.raises(ManualAssetsNeeded):
        report.raise_for_missing()
    assert asset_path("tb", "data", dest=tmp_path, catalogue=_cat()) is None


def test_a_placed_gated_asset_is_recorded_and_found(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "val_map.txt").write_text("a.JPEG 1\n")
    report = fetch("tb", "data", dest=tmp_path, catalogue=_cat())
    assert report.ok and report.outcomes[0].status == "placed"
    assert "no checksum" in read_manifest(tmp_path)["assets"]["imagenet-val"]["verified"]
    assert asset_path("tb", "data", dest=tmp_path, catalogue=_cat()) == tmp_path / "data"
    assert fetch("tb", "data", dest=tmp_path, catalogue=_cat()).outcomes[0].status == "already"
    (tmp_path / "data" / "val_map.txt").unlink()  # taken away again: no longer in place
    assert asset_path("tb", "data", dest=tmp_path, catalogue=_cat()) is None
    assert fetch("tb", "data", dest=tmp_path, catalogue=_cat()).outcomes[0].status == "missing"


def test_a_placed_file_is_checked_against_the_reference_checksum(tmp_path):
    cat = catalogue([asset("day_23", "data", "data/day_23", [], gated=True,
                           checksum={"algorithm": "md5", "value": md5(ROWS), "source": "reference README"},
                           manual={"steps": "accept the terms", "expect": "data/day_23"})], paths={"data": "data"})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "day_23").write_bytes(ROWS + b"extra")
    with pytest.raises(ChecksumMismatch, match="asset day_23: md5 mismatch"):
        fetch("tb", "data", dest=tmp_path, catalogue=cat)
    assert (tmp_path / "data" / "day_23").is_file()  # the user's file stays where it is
    (tmp_path / "data" / "day_23").write_bytes(ROWS)
    report = fetch("tb", "data", dest=tmp_path, catalogue=cat)
    assert report.outcomes[0].status == "placed" and "md5 checked" in report.outcomes[0].message
