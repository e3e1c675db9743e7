"""Archives are unpacked after their checksum, and never outside their folder."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from podium.fetch import FetchError, asset_path, fetch
from podium.fetch.archive import unpack

from tests.fetch.loopback import FAST, Behaviour, asset, catalogue, md5


def _tar(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def _cat(base: str, body: bytes):
    return catalogue([asset("set.tar.gz", "data", "downloads/set.tar.gz", [base + "/set.tar.gz"], unpack="tar.gz",
                            unpack_to="data", provides="data/Set/dev",
                            checksum={"algorithm": "md5", "value": md5(body)})], paths={"data": "data/Set/dev"})


def test_an_archive_is_unpacked_after_its_checksum_and_found(server, tmp_path):
    base, state = server
    body = _tar({"Set/dev/a.flac": b"A", "Set/dev/sub/b.flac": b"B"})
    state.paths["/set.tar.gz"] = Behaviour(body)
    cat = _cat(base, body)
    report = fetch("tb", "data", dest=tmp_path, catalogue=cat, policy=FAST)
    assert report.outcomes[0].status == "fetched"
    assert (tmp_path / "data" / "Set" / "dev" / "sub" / "b.flac").read_bytes() == b"B"
    assert not (tmp_path / "downloads" / "set.tar.gz").exists()  # the unpacked files are what is kept
    assert asset_path("tb", "data", dest=tmp_path, catalogue=cat) == tmp_path / "data" / "Set" / "dev"
    assert fetch("tb", "data", dest=tmp_path, catalogue=cat, policy=FAST).outcomes[0].status == "already"


def test_an_archive_with_a_parent_member_is_refused(server, tmp_path):
    base, state = server
    body = _tar({"Set/ok.txt": b"ok", "../evil.txt": b"evil"})
    state.paths["/set.tar.gz"] = Behaviour(body)
    dest = tmp_path / "bench"
    with pytest.raises(FetchError, match=r"member '\.\./evil\.txt' would be written outside the folder"):
        fetch("tb", "data", dest=dest, catalogue=_cat(base, body), policy=FAST)
    assert not (tmp_path / "evil.txt").exists() and not (dest / "evil.txt").exists()
    assert not (dest / "data" / "Set").exists()  # nothing half-unpacked


@pytest.mark.parametrize("members,links", [({"/etc/x": b"x"}, None), ({}, {"Set/l": "../../outside"}),
                                           ({}, {"Set/abs": "/etc/passwd"})])
def test_absolute_members_and_escaping_links_are_refused(tmp_path, members, links):
    arc = tmp_path / "a.tar.gz"
    arc.write_bytes(_tar(members, links))
    with pytest.raises(FetchError, match="outside the folder"):
        unpack(arc, tmp_path / "out", "tar.gz")


def test_a_zip_with_a_parent_member_is_refused_and_a_good_one_unpacks(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", "evil")
    with pytest.raises(FetchError, match="outside the folder"):
        unpack(bad, tmp_path / "out", "zip")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("model/m.onnx", "m")
    assert (unpack(good, tmp_path / "out", "zip") / "model" / "m.onnx").read_text() == "m"


def test_a_corrupt_archive_is_a_one_line_error(tmp_path):
    arc = tmp_path / "a.tar.gz"
    arc.write_bytes(b"not a tar at all")
    with pytest.raises(FetchError, match="not a readable tar.gz archive"):
        unpack(arc, tmp_path / "out", "tar.gz")
