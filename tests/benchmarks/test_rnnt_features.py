"""RNN-T features: the Slaney mel filterbank, frame counts, stacking and normalisation, against an independent
computation of the reference recipe (and against torch.stft when PyTorch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from podium.benchmarks.rnnt.features import FEATURES, N_MELS, feature_length, log_mel_features, mel_filterbank
from podium.errors import PodiumError


def _signal(n: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n) / 16000
    rng = np.random.default_rng(seed)
    return (0.1 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(n)).astype(np.float32)


def test_filterbank_matches_librosa_values() -> None:
    fb = mel_filterbank()
    assert fb.shape == (80, 257) and fb.dtype == np.float32
    # Values of librosa.filters.mel(sr=16000, n_fft=512, n_mels=80) (Slaney scale and norm), recorded once.
    np.testing.assert_allclose(fb[0, 1:3], [0.02253456, 0.0086377105], rtol=1e-6)
    np.testing.assert_allclose(fb[40, 54:58], [0.0071594412, 0.014444176, 0.008761479, 0.0017512018], rtol=1e-6)
    assert np.flatnonzero(fb[40]).tolist() == [54, 55, 56, 57]
    np.testing.assert_allclose(fb[79, -3:], [0.000701186, 0.000350593, 0.0], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(fb.sum(axis=1)[[0, 20, 79]], [0.031172272, 0.034933414, 0.031930536], rtol=1e-6)


@pytest.mark.parametrize("n, frames", [(16000, 34), (16001, 34), (23999, 50), (105440, 220), (4000, 9)])
def test_frame_count(n: int, frames: int) -> None:
    assert feature_length(n) == frames
    feats = log_mel_features(_signal(n))
    assert feats.shape == (frames, FEATURES) and feats.dtype == np.float32


def test_features_are_normalised_per_feature() -> None:
    feats = log_mel_features(_signal(32000))
    np.testing.assert_allclose(feats.mean(axis=0), 0, atol=1e-4)  # float32 sums
    # unbiased std of the normalised values is std/(std + 1e-5): just below 1
    assert np.all(feats.std(axis=0, ddof=1) < 1) and np.all(feats.std(axis=0, ddof=1) > 0.999)


def _reference_recipe(x: np.ndarray) -> np.ndarray:
    """The reference's steps in float64, written independently of podium's code (loop over frames)."""
    x = x.astype(np.float64)
    y = np.concatenate([x[:1], x[1:] - 0.97 * x[:-1]])
    pad = np.pad(y, 256, mode="reflect")
    win = np.zeros(512)
    win[96:416] = np.hanning(320)  # numpy's Hann is the symmetric one
    n_frames = 1 + len(x) // 160
    power = np.array([np.abs(np.fft.rfft(pad[i * 160:i * 160 + 512] * win)) ** 2 for i in range(n_frames)])
    logmel = np.log((power + 1e-10) @ mel_filterbank().astype(np.float64).T + 1e-20)
    stacked = np.concatenate([logmel, np.vstack([logmel[1:], np.zeros((1, N_MELS))]),
                              np.vstack([logmel[2:], np.zeros((2, N_MELS))])], axis=1)[::3]
    keep = ((len(x) + 159) // 160 + 2) // 3  # ceil(ceil(n / 160) / 3)
    stacked = stacked[:keep]
    return (stacked - stacked.mean(0)) / (stacked.std(0, ddof=1) + 1e-5)


@pytest.mark.parametrize("n", [16000, 16161, 7777])
def test_features_follow_the_reference_recipe(n: int) -> None:
    x = _signal(n, seed=n)
    np.testing.assert_allclose(log_mel_features(x), _reference_recipe(x), atol=5e-4)


def test_stft_convention_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = _signal(8000)
    y = np.concatenate([x[:1], x[1:] - np.float32(0.97) * x[:-1]])
    spec = torch.stft(torch.from_numpy(y), n_fft=512, hop_length=160, win_length=320, center=True,
                      window=torch.hann_window(320, periodic=False), return_complex=True, pad_mode="reflect")
    power = (spec.abs() ** 2).numpy().T  # (frames, 257)
    logmel = np.log((power + 1e-10) @ mel_filterbank().T + 1e-20)
    ours = log_mel_features(x)
    stacked = np.concatenate([logmel, np.vstack([logmel[1:], np.zeros((1, N_MELS))]),
                              np.vstack([logmel[2:], np.zeros((2, N_MELS))])], axis=1)[::3][:ours.shape[0]]
    ref = (stacked - stacked.mean(0)) / (stacked.std(0, ddof=1) + 1e-5)
    np.testing.assert_allclose(ours, ref, atol=5e-4)


def test_too_short_audio_is_an_error() -> None:
    with pytest.raises(PodiumError, match="audio of 200 samples is too short"):
        log_mel_features(np.zeros(200, dtype=np.float32))
