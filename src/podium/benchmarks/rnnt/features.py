"""RNN-T input features: log-mel filterbanks with frame stacking, computed as the MLPerf reference does.

Per utterance (16 kHz float32 samples, n of them):
1. pre-emphasis: y[0] = x[0], y[t] = x[t] − 0.97·x[t−1];
2. short-time Fourier transform, 512-point, hop 160 (10 ms), a 320-sample (20 ms) symmetric Hann window
   centred in the 512 points, frames centred on t·160 with the signal reflected at both ends
   (``torch.stft(center=True)``): 1 + n // 160 frames;
3. power spectrum |X|², plus 1e-10 (the reference's deterministic stand-in for dither 1e-5);
4. 80 mel filters (Slaney mel scale and area normalisation, 0–8 kHz: librosa's default filterbank);
5. natural log of (energy + 1e-20);
6. frame stacking: each frame concatenated with the next two (zeros past the end), then every third frame
   kept: 240 features per 30 ms;
7. per-feature normalisation over the utterance's ``ceil(ceil(n / 160) / 3)`` frames (mean, and the
   unbiased standard deviation + 1e-5), which is also how many frames are kept.

The filterbank is computed here with NumPy rather than taken from librosa (a heavy dependency for one
matrix); ``mel_filterbank`` reproduces librosa's values to float32 rounding. Arithmetic is float32 like
the reference's PyTorch code, so features agree with it to within float32 rounding, not bit for bit.
"""

from __future__ import annotations

import functools

import numpy as np

from podium.errors import PodiumError

SAMPLE_RATE = 16000
N_FFT = 512
WIN_LENGTH = 320
HOP_LENGTH = 160
N_MELS = 80
FRAME_SPLICING = 3
PREEMPHASIS = 0.97
DITHER = 1e-5
FEATURES = N_MELS * FRAME_SPLICING  # 240
_NORM_EPS = 1e-5
_LOG_EPS = 1e-20


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    # Slaney: linear (3 mels per 200 Hz) below 1 kHz, logarithmic (27 mels per factor 6.4) above.
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, mel)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, hz)


@functools.lru_cache(maxsize=4)
def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS,
                   fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """(n_mels, n_fft/2 + 1) float32 triangular filters on the Slaney mel scale, each of unit area (Slaney norm)."""
    fmax = sample_rate / 2 if fmax is None else fmax
    fft_freqs = np.linspace(0, sample_rate / 2, 1 + n_fft // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(WIN_LENGTH, dtype=np.float64)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / (WIN_LENGTH - 1))  # symmetric (periodic=False)
    padded = np.zeros(N_FFT, dtype=np.float32)
    left = (N_FFT - WIN_LENGTH) // 2
    padded[left:left + WIN_LENGTH] = hann
    padded.flags.writeable = False
    return padded


def feature_length(n_samples: int | np.ndarray) -> int | np.ndarray:
    """Number of feature frames the model sees for ``n_samples`` samples: ceil(ceil(n / 160) / 3)."""
    frames = (n_samples + HOP_LENGTH - 1) // HOP_LENGTH
    return (frames + FRAME_SPLICING - 1) // FRAME_SPLICING


def log_mel_features(samples: np.ndarray) -> np.ndarray:
    """(frames, 240) float32 normalised stacked log-mel features of one utterance (see the module docstring)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    n = x.size
    if n <= N_FFT // 2:
        raise PodiumError(f"audio of {n} samples is too short for features (need more than {N_FFT // 2})")
    x = np.concatenate([x[:1], x[1:] - np.float32(PREEMPHASIS) * x[:-1]])
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    n_frames = 1 + n // HOP_LENGTH
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH][:n_frames]
    spectrum = np.fft.rfft(frames * _window(), axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32) + np.float32(DITHER ** 2)
    logmel = np.log(power @ mel_filterbank().T + np.float32(_LOG_EPS))  # (frames, 80)
    stacked = np.zeros((n_frames, FEATURES), dtype=np.float32)
    for k in range(FRAME_SPLICING):
        stacked[:n_frames - k, k * N_MELS:(k + 1) * N_MELS] = logmel[k:]
    kept = int(feature_length(n))
    feats = stacked[::FRAME_SPLICING][:kept]
    mean = feats.mean(axis=0, dtype=np.float32)
    std = feats.std(axis=0, ddof=1, dtype=np.float32) + np.float32(_NORM_EPS)
    return ((feats - mean) / std).astype(np.float32)
