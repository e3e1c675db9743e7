"""Reading an utterance's audio as float32 samples at 16 kHz (WAV, FLAC or anything libsndfile reads).

Like the reference, samples are read with ``soundfile`` as float32 (16-bit PCM scaled by 1/32768) and
several channels are averaged. A file at another rate is resampled with SciPy's polyphase filter; the
reference uses librosa there, so such files give slightly different features (the official data set is
16 kHz and needs none).
"""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError

SAMPLE_RATE = 16000


def _import_soundfile() -> Any:
    try:
        import soundfile
    except (ImportError, OSError):  # OSError: the wheel's libsndfile could not be loaded
        raise PodiumError("the RNN-T benchmark reads audio with soundfile: pip install 'podium[speech]'") from None
    return soundfile


def audio_info(path: str | Path) -> tuple[int, int]:
    """``(frames, sample rate)`` from the file header, without reading the samples."""
    sf = _import_soundfile()
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError, ValueError) as exc:  # soundfile's LibsndfileError is a RuntimeError
        raise PodiumError(f"{path}: not a readable audio file ({exc})") from None
    return int(info.frames), int(info.samplerate)


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The file's samples as 1-D float32 at ``sample_rate``."""
    sf = _import_soundfile()
    p = Path(path)
    if not p.is_file():
        raise PodiumError(f"{p}: audio file not found")
    try:
        samples, rate = sf.read(str(p), dtype="float32", always_2d=False)
    except (RuntimeError, OSError, ValueError) as exc:
        raise PodiumError(f"{p}: not a readable audio file ({exc})") from None
    if samples.ndim == 2:
        samples = samples.mean(axis=1, dtype=np.float32)
    if rate != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(int(rate), sample_rate)
        samples = resample_poly(samples, sample_rate // g, int(rate) // g).astype(np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32)
