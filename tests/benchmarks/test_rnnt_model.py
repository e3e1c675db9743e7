"""RNN-T model side: the three ONNX graphs against a NumPy LSTM, batching equivalence, greedy decoding against a
one-utterance-at-a-time loop, the symbol cap, checkpoint conversion (with PyTorch) and the benchmark's API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from podium.benchmarks.rnnt import RNNTBenchmark, synthetic_waveform
from podium.benchmarks.rnnt.decoder import GreedyRunner
from podium.benchmarks.rnnt.model import (
    LSTMLayer,
    RNNTConfig,
    RNNTWeights,
    build_random_model,
    random_weights,
    read_descriptor,
    write_model,
)
from podium.errors import PodiumError

TINY = RNNTConfig(encoder_hidden=24, pred_hidden=16, joint_hidden=20)
BLANK = 28


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_lstm(x: np.ndarray, layer: LSTMLayer, h: np.ndarray | None = None, c: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A plain LSTM in PyTorch's layout (gates i, f, g, o) over x (T, B, in), float64."""
    hid = layer.hidden
    b = x.shape[1]
    h = np.zeros((b, hid)) if h is None else h
    c = np.zeros((b, hid)) if c is None else c
    ys = []
    for t in range(x.shape[0]):
        z = x[t] @ layer.w_ih.T + layer.b_ih + h @ layer.w_hh.T + layer.b_hh
        i, f, g, o = (z[:, k * hid:(k + 1) * hid] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        ys.append(h)
    return np.stack(ys), h, c


def np_encoder(w: RNNTWeights, feats: np.ndarray) -> np.ndarray:
    """One utterance (T, 240) → (ceil(T/2), H), as the reference runs it alone."""
    x = feats[:, None, :].astype(np.float64)
    for layer in w.pre_rnn:
        x, _, _ = np_lstm(x, layer)
    if x.shape[0] % 2:
        x = np.concatenate([x, np.zeros((1, *x.shape[1:]))])
    x = x.reshape(x.shape[0] // 2, 2, 1, -1).transpose(0, 2, 1, 3).reshape(x.shape[0] // 2, 1, -1)
    for layer in w.post_rnn:
        x, _, _ = np_lstm(x, layer)
    return x[:, 0]


@pytest.fixture(scope="module")
def weights() -> RNNTWeights:
    return random_weights(TINY, seed=5)


@pytest.fixture(scope="module")
def model(weights: RNNTWeights, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(weights, tmp_path_factory.mktemp("rnnt"), "tiny", random=True)


@pytest.fixture(scope="module")
def runner(model: Path) -> GreedyRunner:
    return GreedyRunner.from_descriptor(model, "onnxruntime", {"intra_op_threads": 1})


def test_descriptor(model: Path) -> None:
    files = read_descriptor(model)
    assert files.random_weights and files.config == TINY and files.blank_index == BLANK
    assert files.max_symbols_per_step == 30
    assert [p.name for p in (files.encoder, files.prediction, files.joint)] == \
        ["tiny-encoder.onnx", "tiny-prediction.onnx", "tiny-joint.onnx"]


def test_descriptor_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(PodiumError, match="field format should be 'podium-rnnt-onnx/1'"):
        read_descriptor(bad)
    bad.write_text(json.dumps({"format": "podium-rnnt-onnx/1", "encoder": "e.onnx", "prediction": "p", "joint": "j"}))
    with pytest.raises(PodiumError, match="encoder graph .*e.onnx not found"):
        read_descriptor(bad)


def test_encoder_matches_numpy_and_batching_is_exact(weights: RNNTWeights, runner: GreedyRunner) -> None:
    rng = np.random.default_rng(1)
    lengths = np.array([9, 6, 7])  # odd lengths exercise the zero frame of the time stacking
    feats = np.zeros((9, 3, 240), dtype=np.float32)
    for b, n in enumerate(lengths):
        feats[:n, b] = rng.standard_normal((n, 240))
    enc, enc_len = runner.encode(feats, lengths)
    assert enc.shape == (3, 5, 24) and enc_len.tolist() == [5, 3, 4]
    for b, n in enumerate(lengths):
        ref = np_encoder(weights, feats[:n, b])
        np.testing.assert_allclose(enc[b, :len(ref)], ref, atol=1e-5)


def test_prediction_start_symbol_and_joint(weights: RNNTWeights, runner: GreedyRunner) -> None:
    zeros = np.zeros((2, 2, 16), dtype=np.float32)
    g, h, c = runner._predict(np.array([BLANK, 3]), zeros, zeros)
    x0 = np.zeros((1, 1, 16))  # the start symbol: a zero input
    y, _, _ = np_lstm(x0, weights.pred_rnn[0])
    y, _, _ = np_lstm(y, weights.pred_rnn[1])
    np.testing.assert_allclose(g[0], y[0, 0], atol=1e-6)
    y, _, _ = np_lstm(weights.embed[3][None, None].astype(np.float64), weights.pred_rnn[0])
    y, _, _ = np_lstm(y, weights.pred_rnn[1])
    np.testing.assert_allclose(g[1], y[0, 0], atol=1e-6)
    assert h.shape == c.shape == (2, 2, 16)
    f = np.random.default_rng(2).standard_normal((2, 24)).astype(np.float32)
    logits, best = runner.joint.run({"f": f, "g": g})
    hidden = np.maximum(np.concatenate([f, g], 1) @ weights.joint1_w.T + weights.joint1_b, 0)
    np.testing.assert_allclose(logits, hidden @ weights.joint2_w.T + weights.joint2_b, atol=1e-5)
    assert best.tolist() == logits.argmax(1).tolist()


def reference_greedy(runner: GreedyRunner, enc: np.ndarray, length: int, cap: int = 30) -> list[int]:
    """The reference decoder's loop for one utterance: re-run the prediction network on every question."""
    zeros = np.zeros((2, 1, runner.pred_hidden), dtype=np.float32)
    hidden = (zeros, zeros)
    label: list[int] = []
    for t in range(length):
        added = 0
        while added < cap:
            last = label[-1] if label else BLANK  # BLANK feeds the start symbol's zero input
            g, h2, c2 = runner._predict(np.array([last]), *hidden)
            k = int(runner.joint.run({"f": enc[t][None], "g": g})[1][0])
            if k == BLANK:
                break
            label.append(k)
            hidden = (h2, c2)
            added += 1
    return label


def _mixed_decoder(tmp_path: Path) -> GreedyRunner:
    """Tiny weights with the blank's bias set so that decoding mixes blanks, characters and capped frames."""
    w = random_weights(TINY, seed=11)
    w.joint1_w *= 8
    w.joint2_w *= 8
    w.embed *= 3
    probe = GreedyRunner.from_descriptor(write_model(w, tmp_path, "probe", random=True))
    feats = np.random.default_rng(3).standard_normal((40, 1, 240)).astype(np.float32)
    enc, _ = probe.encode(feats, np.array([40]))
    zeros = np.zeros((2, 1, 16), dtype=np.float32)
    g = probe._predict(np.array([BLANK]), zeros, zeros)[0]
    logits = probe.joint.run({"f": enc[0], "g": np.repeat(g, enc.shape[1], 0)})[0]
    margin = logits[:, BLANK] - np.delete(logits, BLANK, axis=1).max(axis=1)
    w.joint2_b[BLANK] -= np.median(margin)
    return GreedyRunner.from_descriptor(write_model(w, tmp_path, "mixed", random=True))


def test_batched_greedy_equals_the_reference_loop(tmp_path: Path) -> None:
    runner = _mixed_decoder(tmp_path)
    rng = np.random.default_rng(4)
    lengths = np.array([40, 23, 31, 12])
    feats = np.zeros((40, 4, 240), dtype=np.float32)
    for b, n in enumerate(lengths):
        feats[:n, b] = rng.standard_normal((n, 240))
    enc, enc_len = runner.encode(feats, lengths)
    hyps = runner.decode(enc, enc_len)
    for b in range(4):
        assert hyps[b] == reference_greedy(runner, enc[b], int(enc_len[b]))
    stats = runner.stats()
    assert stats["frames"] == int(enc_len.sum()) and stats["utterances"] == 4
    assert 0 < stats["symbols"] and stats["frames_at_symbol_cap"] < stats["frames"]  # blanks and characters


def test_random_weights_hit_the_symbol_cap(runner: GreedyRunner) -> None:
    wave = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32) * 0.1
    symbols, counts = runner.run({"waveform": wave, "length": np.array([8000, 4800])})
    # 8000 samples → 17 feature frames → 9 encoder frames; every frame emits the 30-symbol cap
    assert counts.tolist() == [9 * 30, 5 * 30]
    assert symbols.shape == (2, 270) and (symbols[1, 150:] == -1).all() and symbols[0].min() >= 0
    assert runner.stats()["symbol_cap_share"] == 1.0


def test_checkpoint_conversion_matches_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from podium.benchmarks.rnnt.checkpoint import convert_checkpoint

    torch.manual_seed(0)
    nn = torch.nn

    class Module(nn.Module):
        pass

    # The reference model's parameter names (joint spelled joint_net, as in the official file).
    m = Module()
    m.encoder = Module()
    m.encoder.pre_rnn, m.encoder.post_rnn = Module(), Module()
    m.encoder.pre_rnn.lstm = nn.LSTM(240, 24, num_layers=2)
    m.encoder.post_rnn.lstm = nn.LSTM(48, 24, num_layers=3)
    m.prediction = Module()
    m.prediction.embed = nn.Embedding(28, 16)
    m.prediction.dec_rnn = Module()
    m.prediction.dec_rnn.lstm = nn.LSTM(16, 16, num_layers=2)
    m.joint_net = nn.Sequential(nn.Linear(40, 20), nn.ReLU(), nn.Dropout(0.3), nn.Linear(20, 29))
    state = dict(m.state_dict())
    state["audio_preprocessor.featurizer.fb"] = torch.zeros(1, 80, 257)
    ckpt = tmp_path / "rnnt.pt"
    torch.save({"state_dict": state, "epoch": 100}, ckpt)

    desc = convert_checkpoint(ckpt, tmp_path / "cache")
    assert convert_checkpoint(ckpt, tmp_path / "cache") == desc  # cached by checksum
    assert read_descriptor(desc).random_weights is False
    runner = GreedyRunner.from_descriptor(desc)
    x = torch.randn(7, 1, 240)
    with torch.no_grad():
        y, _ = m.encoder.pre_rnn.lstm(x)
        y = torch.cat([y, torch.zeros(1, 1, 24)]).reshape(4, 2, 1, 24).permute(0, 2, 1, 3).reshape(4, 1, 48)
        y, _ = m.encoder.post_rnn.lstm(y)
        g, _ = m.prediction.dec_rnn.lstm(m.prediction.embed(torch.tensor([[5]])).transpose(0, 1))
        logits = m.joint_net.eval()(torch.cat([y[0], g[0]], dim=1))
    enc, _ = runner.encode(x.numpy(), np.array([7]))
    np.testing.assert_allclose(enc[0], y[:, 0].numpy(), atol=1e-5)
    zeros = np.zeros((2, 1, 16), dtype=np.float32)
    g_ours = runner._predict(np.array([5]), zeros, zeros)[0]
    np.testing.assert_allclose(g_ours, g[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(runner.joint.run({"f": enc[0, :1], "g": g_ours})[0], logits.numpy(), atol=1e-5)


def test_benchmark_api(model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bench = RNNTBenchmark()
    assert (bench.name, bench.conf_model, bench.performance_sample_count) == ("rnnt", "rnnt", 2513)
    assert bench.supports("Server") and not bench.supports("MultiStream") and bench.response_dtype == "int64"
    for call in (bench.resolve_model_path, bench.create_qsl):
        with pytest.raises(PodiumError, match=r"needs --model-path .*--data-dir .*--synthetic runs performance"):
            call(None)
    onnx_file = tmp_path / "x.onnx"
    onnx_file.write_bytes(b"")
    with pytest.raises(PodiumError, match="three ONNX graphs; pass the .json descriptor"):
        bench.resolve_model_path(onnx_file)
    assert bench.resolve_model_path(model) == model and bench.random_weights  # the descriptor says random
    assert bench.run_labels()[0].startswith("random weights") and "pessimistic" in bench.run_labels()[0]

    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path))
    syn = bench.synthetic_variant()
    assert syn.default_model_path().parent == tmp_path / "models"
    assert build_random_model(TINY, 0, tmp_path / "models").name.startswith("rnnt-random-")
    qsl = syn.create_qsl(None)
    assert qsl.total_sample_count == qsl.performance_sample_count == 2513
    qsl.load_samples([0, 7])
    batch = qsl.get_batch(np.array([7, 0]))
    assert batch["waveform"].shape[1] == batch["length"].max()
    assert 1.5 * 16000 <= batch["length"].min() and batch["length"].max() <= 11 * 16000
    np.testing.assert_array_equal(batch["waveform"][1, :batch["length"][1]], synthetic_waveform(0))
    assert any(line.startswith("synthetic inputs") for line in syn.run_labels())
    qsl.unload_samples([0, 7])
    with pytest.raises(PodiumError, match=r"sample 7 was not loaded"):
        qsl.get_batch(np.array([7]))
