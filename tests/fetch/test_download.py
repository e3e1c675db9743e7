"""Downloads against a loopback server: fresh, resumed, dropped, failing, stalled, and bad bytes."""

from __future__ import annotations

import os
import time

import pytest

from podium.fetch import ChecksumMismatch, FetchError, asset_path, fetch, read_manifest

from tests.fetch.loopback import FAST, Behaviour, asset, catalogue, md5, sha256

BODY = bytes(range(256)) * 64  # 16 KiB


def _cat(base: str, path: str = "/m/model.bin", **extra):
    extra.setdefault("checksum", {"algorithm": "md5", "value": md5(BODY), "source": "test"})
    return catalogue([asset("model.bin", "model", "model/model.bin", [base + path], **extra)],
                     paths={"model": "model/model.bin"})


def test_fresh_download_is_verified_moved_into_place_and_recorded(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY)
    cat = _cat(base)
    report = fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    final = tmp_path / "model" / "model.bin"
    assert [o.status for o in report.outcomes] == ["fetched"] and report.ok
    assert final.read_bytes() == BODY
    assert not (tmp_path / "model" / "model.bin.part").exists()
    entry = read_manifest(tmp_path)["assets"]["model.bin"]
    assert entry["md5"] == md5(BODY) and entry["sha256"] == sha256(BODY) and entry["size"] == len(BODY)
    assert entry["verified"].startswith("md5")
    assert asset_path("tb-99", "model", dest=tmp_path, catalogue=cat) == final


def test_an_interrupted_partial_is_resumed_with_a_range_request(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY)
    part = tmp_path / "model" / "model.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY[:5000])
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    assert state.requests("/m/model.bin") == ["bytes=5000-"]
    assert (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_server_that_ignores_range_is_read_from_the_start(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY, ranges=False)
    part = tmp_path / "model" / "model.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 100)  # stale bytes that must not end up in the file
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    assert (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_complete_partial_is_verified_without_reading_it_again(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY)
    part = tmp_path / "model" / "model.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY)
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)  # the server answers 416
    assert (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_connection_dropped_mid_file_is_resumed(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY, drop_first=1)
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    ranges = state.requests("/m/model.bin")
    assert ranges[0] is None and ranges[1] == f"bytes={len(BODY) // 2}-"
    assert (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_checksum_mismatch_keeps_the_bytes_as_bad_and_names_expected_and_got(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY[:-1] + b"!")
    cat = _cat(base)
    with pytest.raises(ChecksumMismatch) as err:
        fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    msg = str(err.value)
    assert "\n" not in msg and "model.bin" in msg
    assert md5(BODY) in msg and md5(BODY[:-1] + b"!") in msg
    assert (tmp_path / "model" / "model.bin.bad").is_file()
    assert not (tmp_path / "model" / "model.bin").exists()
    assert asset_path("tb", "model", dest=tmp_path, catalogue=cat) is None


def test_a_wrong_size_is_a_mismatch_too(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY)
    cat = _cat(base, checksum=None, size=len(BODY) + 1)
    with pytest.raises(ChecksumMismatch, match="size mismatch"):
        fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)


def test_404_fails_at_once_with_one_line(server, tmp_path):
    base, state = server
    t0 = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch("tb", "model", dest=tmp_path, catalogue=_cat(base, "/m/missing.bin"), policy=FAST)
    assert time.monotonic() - t0 < 3
    msg = str(err.value)
    assert "\n" not in msg and "model.bin" in msg and "HTTP 404" in msg and "1 try" in msg
    assert len(state.requests("/m/missing.bin")) == 1


def test_500_is_retried_a_bounded_number_of_times(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY, status=500)
    with pytest.raises(FetchError) as err:
        fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    assert len(state.requests("/m/model.bin")) == FAST.attempts
    assert "HTTP 500" in str(err.value) and f"{FAST.attempts} tries" in str(err.value)


def test_a_passing_500_is_survived(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY, fail_first=2)
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base), policy=FAST)
    assert (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_second_url_is_tried_when_the_first_fails(server, tmp_path):
    base, state = server
    state.paths["/b/model.bin"] = Behaviour(BODY)
    cat = catalogue([asset("model.bin", "model", "model/model.bin", [base + "/a/model.bin", base + "/b/model.bin"],
                           checksum={"algorithm": "md5", "value": md5(BODY)})])
    report = fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    assert report.ok and (tmp_path / "model" / "model.bin").read_bytes() == BODY


def test_a_stalled_server_ends_in_an_error_not_a_hang(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY, stall_s=3.0)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="no answer within"):
        fetch("tb", "model", dest=tmp_path, catalogue=_cat(base),
              policy=FAST.__class__(attempts=2, backoff=0.01, timeout=0.3))
    assert time.monotonic() - t0 < 2.5


def test_a_refused_connection_is_a_one_line_error(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(FetchError) as err:
        fetch("tb", "model", dest=tmp_path, catalogue=_cat(f"http://127.0.0.1:{port}"), policy=FAST)
    assert "\n" not in str(err.value) and "ConnectError" in str(err.value)


def test_without_a_reference_checksum_the_sha256_is_recorded(server, tmp_path):
    base, state = server
    state.paths["/m/model.bin"] = Behaviour(BODY)
    fetch("tb", "model", dest=tmp_path, catalogue=_cat(base, checksum=None), policy=FAST)
    entry = read_manifest(tmp_path)["assets"]["model.bin"]
    assert entry["sha256"] == sha256(BODY) and "none given" in entry["verified"]
    assert os.listdir(tmp_path / "model") == ["model.bin"]


def test_ctrl_c_keeps_the_partial_file_for_the_next_run(server, tmp_path):
    base, state = server
    big = BODY * 64  # 1 MiB, so it arrives in several pieces
    state.paths["/m/model.bin"] = Behaviour(big)
    calls = []

    class Interrupting:
        def start(self, name, total, done):
            pass

        def update(self, done):
            raise KeyboardInterrupt

        def finish(self):
            calls.append("finish")

    cat = catalogue([asset("model.bin", "model", "model/model.bin", [base + "/m/model.bin"],
                           checksum={"algorithm": "md5", "value": md5(big)})])
    with pytest.raises(KeyboardInterrupt):
        fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST, progress=Interrupting())
    part = tmp_path / "model" / "model.bin.part"
    kept = part.stat().st_size
    assert calls == ["finish"] and 0 < kept < len(big)
    fetch("tb", "model", dest=tmp_path, catalogue=cat, policy=FAST)
    assert state.requests("/m/model.bin")[-1] == f"bytes={kept}-"
    assert (tmp_path / "model" / "model.bin").read_bytes() == big
