"""The suite's small parts: the cached model hash, run folders and the latest pointer."""

from __future__ import annotations

import hashlib
import os

import pytest

import podium.suite.model_hash as mh
from podium.errors import PodiumError
from podium.suite.run_folder import LATEST_FILE, check_run_folder, latest_run, new_run_folder, point_latest


def test_model_hash_is_cached_by_size_and_mtime(tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "big.onnx"
    model.write_bytes(b"\1" * (17 << 20))
    calls = []
    real = mh._digest
    monkeypatch.setattr(mh, "_digest", lambda p: calls.append(p) or real(p))
    first = mh.model_sha256(model)
    assert first == hashlib.sha256(model.read_bytes()).hexdigest()
    assert mh.model_sha256(model) == first and len(calls) == 1  # the second run reads the cache
    model.write_bytes(b"\2" * (17 << 20))
    os.utime(model, ns=(1, 1))
    assert mh.model_sha256(model) == hashlib.sha256(model.read_bytes()).hexdigest() and len(calls) == 2


def test_run_folders_never_collide(tmp_path):
    a = new_run_folder(tmp_path, "digits", "Offline")
    b = new_run_folder(tmp_path, "digits", "Offline")
    assert a != b and a.is_dir() and b.is_dir() and b.name.startswith(a.name)


def test_run_name_rules(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("k")
    with pytest.raises(PodiumError, match="already holds a run"):
        check_run_folder(tmp_path, "x")
    with pytest.raises(PodiumError, match="expected letters"):
        check_run_folder(tmp_path, "../escape")
    with pytest.raises(PodiumError, match="not a folder"):
        (tmp_path / "file").write_text("")
        check_run_folder(tmp_path / "file")
    folder = new_run_folder(tmp_path, "digits", "Offline", "x", force=True)
    assert folder.is_dir() and not any(folder.iterdir())


def test_latest_falls_back_to_a_text_file_without_symlinks(tmp_path, monkeypatch):
    run = new_run_folder(tmp_path, "digits", "Server")

    def no_symlinks(*a, **k):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    point_latest(tmp_path, run)
    assert (tmp_path / LATEST_FILE).read_text().strip() == run.name
    assert latest_run(tmp_path) == run
