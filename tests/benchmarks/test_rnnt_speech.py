"""RNN-T on real (synthesised) speech in the reference layout: loading WAV and FLAC, features of speech, and an
accuracy run end to end through the harness and the LoadGen engine with a tiny random-weight model.

Skipped when espeak-ng or sox is missing (``apt-get install -y espeak-ng sox``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.speech_fixtures import needs_speech_tools, write_dataset

pytest.importorskip("soundfile")
pytest.importorskip("onnx")
pytestmark = needs_speech_tools

TRANSCRIPTS = ["HELLO WORLD", "the quick brown fox jumps over the lazy dog", "Mr. Smith's cafe & bar"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("librispeech")
    write_dataset(root, TRANSCRIPTS, ext="wav")
    return root


def test_manifest_and_audio(dataset: Path, tmp_path: Path) -> None:
    import soundfile

    from podium.benchmarks.rnnt import RNNTBenchmark
    from podium.benchmarks.rnnt.audio import read_audio
    from podium.benchmarks.rnnt.features import feature_length, log_mel_features

    bench = RNNTBenchmark()
    m = bench.manifest(dataset)
    assert [u.transcript for u in m.utterances] == ["hello world", "the quick brown fox jumps over the lazy dog",
                                                     "mister smith's cafe and bar"]
    wav = m.utterances[1].audio_path
    assert wav.parent.relative_to(dataset).as_posix() == "dev-clean-wav/1272/128104"
    x = read_audio(wav)
    raw, rate = soundfile.read(str(wav), dtype="int16")
    assert rate == 16000 and x.dtype == np.float32 and 1.5 * 16000 < x.size < 6 * 16000
    np.testing.assert_array_equal(x, raw.astype(np.float32) / 32768)  # PCM-16 scaled by 1/32768
    feats = log_mel_features(x)
    assert feats.shape == (feature_length(x.size), 240) and np.isfinite(feats).all()
    # the same speech as FLAC decodes to the same samples
    flac = tmp_path / "same.flac"
    soundfile.write(str(flac), raw, 16000, subtype="PCM_16")
    np.testing.assert_array_equal(read_audio(flac), x)
    # another rate is resampled to 16 kHz
    wav8 = tmp_path / "8k.wav"
    soundfile.write(str(wav8), raw[::2], 8000, subtype="PCM_16")
    assert abs(read_audio(wav8).size - 2 * (raw.size // 2 + raw.size % 2)) <= 1

    qsl = bench.create_qsl(dataset)
    assert qsl.total_sample_count == 3 and qsl.performance_sample_count == 3
    qsl.load_samples([2, 1])
    batch = qsl.get_batch(np.array([1, 2]))
    np.testing.assert_array_equal(batch["waveform"][0, :batch["length"][0]], x)


def test_accuracy_run_end_to_end(dataset: Path, tmp_path: Path) -> None:
    from podium.benchmarks.rnnt import RNNTBenchmark
    from podium.benchmarks.rnnt.model import RNNTConfig, build_random_model
    from podium.benchmarks.rnnt.transcripts import encode
    from podium.harness import BackendSUT
    from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test

    bench = RNNTBenchmark()
    desc = build_random_model(RNNTConfig(encoder_hidden=24, pred_hidden=16, joint_hidden=20), 0, tmp_path / "m")
    runner = bench.create_runner("onnxruntime", {"intra_op_threads": 1}, bench.resolve_model_path(desc))
    qsl = bench.create_qsl(dataset)
    settings = TestSettings(scenario=Scenario.Offline, mode=TestMode.AccuracyOnly)
    with BackendSUT(runner, qsl, bench.postprocess, scenario_hint="Offline", max_batch_size=2) as sut:
        result = start_test(sut, qsl, settings, LogSettings(outdir=str(tmp_path / "acc")), audit_config=None)
        assert sut.errors == 0
    log_path = Path(result.log_paths["accuracy"])
    entries = json.loads(log_path.read_text())
    assert sorted(e["qsl_idx"] for e in entries) == [0, 1, 2]
    for e in entries:  # random weights: 30 symbols on every encoder frame, int64 each
        ids = np.frombuffer(bytes.fromhex(e["data"]), dtype="<i8")
        assert ids.size % 30 == 0 and ids.size > 0 and ids.min() >= 0 and ids.max() <= 27
    acc = bench.score_accuracy(log_path, dataset)
    assert re.fullmatch(r"Word Error Rate: [\d.]+%, accuracy=-?[\d.]+%", acc.line) and not acc.passed
    assert runner.stats()["symbol_cap_share"] == 1.0

    # The same data with a log of known content: one substitution and one insertion over 16 words.
    hyps = {0: "hello word", 1: "the quick brown fox jumps over the lazy dog", 2: "mister smith's cafe and a bar"}
    log_path.write_text(json.dumps([{"seq_id": i, "qsl_idx": q, "data": np.array(encode(h), "<i8").tobytes().hex()}
                                    for i, (q, h) in enumerate(hyps.items())]))
    assert bench.score_accuracy(log_path, dataset).line == "Word Error Rate: 12.5%, accuracy=87.5%"
