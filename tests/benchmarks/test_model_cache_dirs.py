"""Every benchmark keeps its built models in one folder that honours PODIUM_CACHE_DIR and XDG_CACHE_HOME."""

from __future__ import annotations

from podium.benchmarks.bert import model as bert_model
from podium.benchmarks.dlrm import model as dlrm_model
from podium.benchmarks.rnnt import model as rnnt_model
from podium.benchmarks.vision import model_cache


def _dirs():
    return {bert_model.cache_dir(), dlrm_model.model_cache_dir(), rnnt_model.cache_dir(), model_cache.cache_dir()}


def test_xdg_cache_home_is_honoured_by_every_benchmark(tmp_path, monkeypatch):
    monkeypatch.delenv("PODIUM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _dirs() == {tmp_path / "xdg" / "podium" / "models"}  # BERT and RNN-T used ~/.cache whatever XDG said


def test_podium_cache_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "pc"))
    assert _dirs() == {tmp_path / "pc" / "models"}
