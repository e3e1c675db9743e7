"""BERT model side: the ONNX builder (tiny config), length-grouped batching, responses, the benchmark's API,
and an accuracy run end to end through the harness and the LoadGen engine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("onnx")

from podium.backends import get_backend
from podium.benchmarks.bert import Bert999Benchmark, BertBenchmark
from podium.benchmarks.bert.data import load_features
from podium.benchmarks.bert.model import (
    BERT_LARGE,
    INPUT_NAMES,
    OUTPUT_NAMES,
    BertConfig,
    build_random_model,
    random_model_path,
)
from podium.benchmarks.bert.runner import SequenceLengthRunner, plan_groups
from podium.errors import PodiumError
from podium.harness import BackendSUT
from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test
from tests.benchmarks.test_bert_squad import VOCAB, write_squad_dir

TINY = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64,
                  max_position=384)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_model(TINY, seed=3, out_dir=tmp_path_factory.mktemp("bert-model"))


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_squad_dir(tmp_path_factory.mktemp("squad"))


def _backend(path: Path):
    return get_backend("onnxruntime", intra_op_threads=1).load(path)


def test_graph_interface_and_cache_name(tiny_model: Path, tmp_path: Path) -> None:
    be = _backend(tiny_model)
    assert [s.name for s in be.inputs] == list(INPUT_NAMES)
    assert [s.name for s in be.outputs] == list(OUTPUT_NAMES)
    assert all(not isinstance(d, int) for s in be.inputs for d in s.shape)  # batch and sequence are dynamic
    assert tiny_model.name.startswith("bert-L2-H32-random-")
    assert build_random_model(TINY, seed=3, out_dir=tiny_model.parent) == tiny_model  # reused, not rebuilt
    assert random_model_path(TINY, 4, tiny_model.parent) != tiny_model
    assert BERT_LARGE.parameter_count == 334_094_338  # BERT-Large with a 2-way QA head (≈1.34 GB of float32)


def test_padding_does_not_change_real_positions(tiny_model: Path) -> None:
    be = _backend(tiny_model)
    rng = np.random.default_rng(0)
    ids = rng.integers(104, len(VOCAB), (2, 40))
    mask = np.ones_like(ids)
    mask[1, 17:] = 0
    ids[1, 17:] = 0
    seg = np.zeros_like(ids)
    seg[:, 8:] = 1
    seg[1, 17:] = 0
    start, end = be.run({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
    s1, e1 = be.run({"input_ids": ids[1:, :17], "input_mask": mask[1:, :17], "segment_ids": seg[1:, :17]})
    np.testing.assert_allclose(s1[0], start[1, :17], atol=1e-5)
    np.testing.assert_allclose(e1[0], end[1, :17], atol=1e-5)
    assert np.abs(start[0] - start[1]).max() > 1e-3  # different inputs, different outputs


def test_plan_groups_minimises_padded_tokens() -> None:
    groups = plan_groups(np.array([300, 12, 290, 10, 11]), call_cost=64)
    assert [sorted(g.tolist()) for g in groups] == [[1, 3, 4], [0, 2]]
    assert len(plan_groups(np.array([100, 101, 99]), call_cost=64)) == 1
    assert len(plan_groups(np.array([5, 300]), call_cost=1000)) == 1  # a call costs more than the padding
    assert sorted(np.concatenate(plan_groups(np.arange(20) * 7 % 13 + 1)).tolist()) == list(range(20))


def test_runner_groups_by_length_and_keeps_batch_order(tiny_model: Path, squad_dir: Path) -> None:
    feats, _ = load_features(squad_dir)
    batch = feats.model_inputs(np.array([3, 0, 5, 2]))  # lengths 384, short, ~290, short
    lengths = batch["input_mask"].sum(1)
    plain = _backend(tiny_model)
    runner = SequenceLengthRunner(_backend(tiny_model))
    assert runner.dynamic
    start, end, got_len = runner.run(batch)
    assert got_len.tolist() == lengths.tolist() and start.shape == (4, lengths.max())
    assert runner.calls >= 2 and runner.tokens_run < 4 * 384
    full_start, full_end = plain.run(batch)
    for i, n in enumerate(lengths.tolist()):
        np.testing.assert_allclose(start[i, :n], full_start[i, :n], atol=1e-5)
        np.testing.assert_allclose(end[i, :n], full_end[i, :n], atol=1e-5)
    responses = BertBenchmark().postprocess([start, end, got_len])
    assert [len(r) for r in responses] == [8 * n for n in lengths.tolist()]
    pairs = np.frombuffer(responses[1], dtype="<f4").reshape(-1, 2)
    np.testing.assert_array_equal(pairs[:, 0], start[1, :lengths[1]])
    np.testing.assert_array_equal(pairs[:, 1], end[1, :lengths[1]])


def test_postprocess_without_lengths_keeps_every_position() -> None:
    start = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = BertBenchmark().postprocess([start, -start])
    assert len(out) == 2 and np.frombuffer(out[1], "<f4").tolist() == [3, -3, 4, -4, 5, -5]


def test_missing_files_say_what_is_needed() -> None:
    bench = BertBenchmark()
    for call in (bench.resolve_model_path, bench.create_qsl):
        with pytest.raises(PodiumError, match=r"needs --model-path .*--data-dir .*--synthetic runs performance only"):
            call(None)
    with pytest.raises(PodiumError, match="--model-path .*missing.onnx: file not found"):
        bench.resolve_model_path("missing.onnx")
    with pytest.raises(PodiumError, match="scoring accuracy needs --data-dir"):
        bench.score_accuracy("log.json", None)


def test_benchmark_description() -> None:
    bench, b999 = BertBenchmark(), Bert999Benchmark()
    assert (bench.name, bench.conf_model, b999.name, b999.conf_model) == ("bert-99", "bert", "bert-99.9", "bert")
    assert bench.performance_sample_count == 10833 and bench.accuracy_metric == "F1"
    assert bench.response_dtype == "float32"
    assert bench.supports("SingleStream") and not b999.supports("SingleStream") and b999.supports("server")
    assert not bench.supports("MultiStream")
    assert bench.info()["random_weights"] is False and bench.run_labels() == []


def test_synthetic_variant(tiny_model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path))
    syn = Bert999Benchmark().synthetic_variant()
    assert isinstance(syn, Bert999Benchmark) and syn.synthetic and syn.random_weights
    # The default is BERT-Large in the cache; building it (1.34 GB) is left to real runs.
    assert syn.default_model_path() == random_model_path(BERT_LARGE, 0, tmp_path / "models")
    assert any("unless --data-dir" in line for line in syn.run_labels())
    qsl = syn.create_qsl(None)
    assert qsl.total_sample_count == qsl.performance_sample_count == 10833
    qsl.load_samples([0, 10832])
    assert qsl.get_batch(np.array([10832]))["input_ids"].shape == (1, 384)
    labels = syn.run_labels()
    assert any(line.startswith("random weights") for line in labels)
    assert any(line.startswith("synthetic inputs") and "pessimistic" in line for line in labels)
    # the user's own model with synthetic inputs: not random weights any more
    assert syn.resolve_model_path(tiny_model) == tiny_model and not syn.random_weights


def test_accuracy_run_end_to_end(tiny_model: Path, squad_dir: Path, tmp_path: Path) -> None:
    bench = BertBenchmark()
    path = bench.resolve_model_path(tiny_model)
    runner = bench.create_runner("onnxruntime", {"intra_op_threads": 1}, path)
    qsl = bench.create_qsl(squad_dir)
    assert qsl.total_sample_count == 6 and qsl.performance_sample_count == 6
    settings = TestSettings(scenario=Scenario.Offline, mode=TestMode.AccuracyOnly)
    with BackendSUT(runner, qsl, bench.postprocess, scenario_hint="Offline", max_batch_size=4) as sut:
        result = start_test(sut, qsl, settings, LogSettings(outdir=str(tmp_path)), audit_config=None)
        assert sut.errors == 0
    log = json.loads(Path(result.log_paths["accuracy"]).read_text())
    feats, _ = load_features(squad_dir)
    assert sorted(e["qsl_idx"] for e in log) == list(range(6))
    for e in log:  # each response holds one (start, end) pair per real token
        assert len(e["data"]) // 2 == 8 * int(feats.input_mask[e["qsl_idx"]].sum())
    acc = bench.score_accuracy(result.log_paths["accuracy"], squad_dir)
    m = re.fullmatch(r'\{"exact_match": ([\d.]+), "f1": ([\d.]+)\}', acc.line)
    assert m and float(m.group(2)) == acc.value and 0.0 <= acc.value <= 100.0
    assert acc.details["features_scored"] == 6
