"""The LibriSpeech manifest in the MLPerf reference layout (``dev-clean-wav.json``) and the utterances it lists.

The manifest is a JSON list; each entry has ``files`` (a list of ``{"fname", "speed", …}`` with paths relative
to the data set folder), ``original_duration`` in seconds and ``transcript`` (or ``text_filepath``, a text
file holding it). Like the reference, podium drops utterances longer than 15 s (dev-clean: 2,703 → 2,513),
uses the file at speed 1.0, and numbers the remaining entries 0, 1, … in file order: that number is the QSL
index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.benchmarks.rnnt.transcripts import normalize_transcript
from podium.errors import PodiumError

MANIFEST_FILE = "dev-clean-wav.json"
MAX_DURATION_S = 15.0


class ManifestError(PodiumError):
    """The manifest is missing, not JSON, or an entry lacks a field podium reads."""


@dataclass(frozen=True)
class Utterance:
    """One utterance: its audio file, duration (s), normalised transcript and manifest entry number."""

    audio_path: Path
    duration_s: float
    transcript: str
    entry: int


@dataclass
class Manifest:
    """The utterances a manifest keeps (≤ 15 s), in order, and how many seconds were filtered out."""

    path: Path
    utterances: list[Utterance]
    filtered_count: int
    filtered_duration_s: float

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def duration_s(self) -> float:
        """Total duration of the kept utterances."""
        return sum(u.duration_s for u in self.utterances)


def _get(entry: Any, key: str, n: int, path: Path) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise ManifestError(f"{path}: entry {n} lacks the field {key!r}")
    return entry[key]


def read_manifest(path: str | Path, data_dir: str | Path | None = None,
                  max_duration_s: float | None = MAX_DURATION_S) -> Manifest:
    """Read and filter a manifest; audio paths are resolved against ``data_dir`` (default: its folder)."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"{p}: manifest not found (expected the reference's {MANIFEST_FILE})")
    try:
        entries = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(entries, list):
        raise ManifestError(f"{p}: expected a JSON list of utterances")
    root = Path(data_dir) if data_dir is not None else p.parent
    kept: list[Utterance] = []
    filtered, filtered_s = 0, 0.0
    for n, entry in enumerate(entries):
        duration = _get(entry, "original_duration", n, p)
        if not isinstance(duration, (int, float)):
            raise ManifestError(f"{p}: entry {n} original_duration should be a number, got {duration!r}")
        if max_duration_s is not None and duration > max_duration_s:
            filtered += 1
            filtered_s += float(duration)
            continue
        if "transcript" in entry:
            text = entry["transcript"]
        else:
            text_path = root / str(_get(entry, "text_filepath", n, p))
            try:
                text = text_path.read_text(encoding="utf-8").replace("\n", "")
            except OSError:
                raise ManifestError(f"{p}: entry {n} text_filepath {text_path} cannot be read") from None
        if not isinstance(text, str):
            raise ManifestError(f"{p}: entry {n} transcript should be a string, got {type(text).__name__}")
        files = _get(entry, "files", n, p)
        if not isinstance(files, list):
            raise ManifestError(f"{p}: entry {n} files should be a list")
        names = [f.get("fname") for f in files if isinstance(f, dict) and f.get("speed", 1) == 1.0]
        if not names or not isinstance(names[0], str):
            raise ManifestError(f"{p}: entry {n} has no file at speed 1 with an fname")
        kept.append(Utterance(audio_path=root / names[0], duration_s=float(duration),
                              transcript=normalize_transcript(text, f"{p}: entry {n} transcript"), entry=n))
    if not kept:
        raise ManifestError(f"{p}: no utterance of at most {max_duration_s:g} s")
    return Manifest(path=p, utterances=kept, filtered_count=filtered, filtered_duration_s=filtered_s)
