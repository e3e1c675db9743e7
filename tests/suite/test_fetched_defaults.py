"""What ``podium fetch`` put in the cache is what a run reads when no --model-path / --data-dir is given."""

from __future__ import annotations

from pathlib import Path

import pytest

import podium.fetch
from podium.errors import PodiumError
from podium.providers import LocalProvider
from podium.suite import RunRequest, run_benchmark


class _Bench:
    name = "resnet"

    def __init__(self, synthetic: bool = False) -> None:
        self.synthetic = synthetic
        self.asked: list[str | None] = []

    def resolve_model_path(self, path):
        self.asked.append(path)
        return Path(path or "random.onnx")

    def create_runner(self, backend, options, path):
        return object()


def test_the_fetched_model_is_the_default(tmp_path, monkeypatch):
    model = tmp_path / "resnet50_v1.onnx"
    monkeypatch.setattr(podium.fetch, "asset_path", lambda b, w: model if (b, w) == ("resnet", "model") else None)
    bench = _Bench()
    LocalProvider().load(bench, lambda stage: None)
    assert bench.asked == [str(model)]
    given = _Bench()
    LocalProvider(model_path="mine.onnx").load(given, lambda stage: None)  # an explicit path wins
    assert given.asked == ["mine.onnx"]
    synthetic = _Bench(synthetic=True)
    LocalProvider().load(synthetic, lambda stage: None)  # --synthetic keeps its random weights
    assert synthetic.asked == [None]


def test_the_fetched_data_is_the_default(tmp_path, monkeypatch):
    data = tmp_path / "fetched-squad"
    data.mkdir()
    monkeypatch.setattr(podium.fetch, "asset_path", lambda b, w: data if w == "data" else None)
    req = RunRequest(benchmark="bert-99", modes=("performance",), duration_s=1, output=str(tmp_path / "out"))
    class NoModel:  # the data set loads after the provider: no BERT-Large needed to see which folder it reads
        kind = "local"

        def load(self, benchmark, stage):
            pass

        def open(self, *args):
            raise AssertionError("the empty data folder should have been refused first")

    with pytest.raises(PodiumError, match="fetched-squad"):  # the (empty) fetched folder is what it read
        run_benchmark(req, provider=NoModel())

