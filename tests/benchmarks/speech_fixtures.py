"""Small LibriSpeech-style data sets for the RNN-T tests: speech synthesised with espeak-ng, in the reference layout.

``write_dataset`` speaks each transcript with espeak-ng, converts it with sox to 16 kHz mono 16-bit (WAV or
FLAC) under ``dev-clean-wav/<speaker>/<chapter>/<id>.<ext>``, and writes ``dev-clean-wav.json`` with the
reference manifest's fields. Tests that need it skip cleanly when espeak-ng or sox is not installed
(``apt-get install -y espeak-ng sox``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HAVE_SPEECH_TOOLS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
needs_speech_tools = pytest.mark.skipif(not HAVE_SPEECH_TOOLS, reason="espeak-ng and sox are not installed "
                                        "(apt-get install -y espeak-ng sox)")


def synthesize(text: str, path: Path, *, words_per_minute: int = 170) -> None:
    """Speak ``text`` into ``path`` (16 kHz mono 16-bit; the format follows the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_name(path.stem + ".espeak.wav")
    subprocess.run(["espeak-ng", "-s", str(words_per_minute), "-w", str(raw), text], check=True,
                   capture_output=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path)], check=True,
                   capture_output=True, timeout=60)
    raw.unlink()


def manifest_entry(fname: str, n_samples: int, transcript: str, rate: int = 16000) -> dict:
    """One manifest entry with the fields the reference's converter writes."""
    duration = n_samples / rate
    return {
        "files": [{"channels": 1, "sample_rate": float(rate), "bitrate": 16, "duration": duration,
                   "num_samples": n_samples, "encoding": "Signed Integer PCM", "silent": False,
                   "fname": fname, "speed": 1}],
        "original_duration": duration,
        "original_num_samples": n_samples,
        "transcript": transcript,
    }


def write_dataset(root: Path, transcripts: list[str], ext: str = "wav",
                  spoken: list[str] | None = None) -> Path:
    """Synthesise one utterance per transcript under ``root``; returns the manifest path.

    ``spoken`` (optional) is what espeak-ng says when it should differ from the transcript.
    """
    import soundfile

    entries = []
    for i, text in enumerate(transcripts):
        fname = f"dev-clean-wav/1272/128104/1272-128104-{i:04d}.{ext}"
        synthesize((spoken or transcripts)[i], root / fname)
        entries.append(manifest_entry(fname, soundfile.info(str(root / fname)).frames, text))
    manifest = root / "dev-clean-wav.json"
    manifest.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return manifest
