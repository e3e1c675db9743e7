"""RNN-T text side: the alphabet, transcript normalisation, the reference manifest and WER with its printed line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.accuracy import AccuracyLogError
from podium.benchmarks.rnnt import RNNTBenchmark, locate_manifest
from podium.benchmarks.rnnt.manifest import ManifestError, read_manifest
from podium.benchmarks.rnnt.transcripts import BLANK_INDEX, LABELS, decode, encode, normalize_transcript
from podium.benchmarks.rnnt.wer import levenshtein, result_line, word_error_rate, word_errors
from podium.errors import PodiumError
from tests.benchmarks.speech_fixtures import manifest_entry

#: The submission checker's pattern for RNN-T's accuracy.txt.
CHECKER_WER = re.compile(r"Word Error Rate\:.*, accuracy=([0-9\.]+)%")


def test_alphabet() -> None:
    assert LABELS[0] == " " and LABELS[1] == "a" and LABELS[26] == "z" and LABELS[27] == "'"
    assert BLANK_INDEX == 28
    assert decode(encode("it's a test")) == "it's a test"
    with pytest.raises(ValueError, match="symbol id 28 out of range 0..27"):
        decode([1, 28])


@pytest.mark.parametrize("raw, expected", [
    ("HE WAS IN A FEVERED STATE", "he was in a fevered state"),
    ("Mr. Smith's café & bar", "mister smith's cafe and bar"),
    ("Dr. Jekyll, St. Ives; Co. Ltd.", "doctor jekyll saint ives company limited"),
    ("one+one   =\ttwo!", "one plus one two"),
    ("naïve “quotes” — and Straße", "naive quotes and strasse"),
    ("  (hello)  ", "hello"),
])
def test_normalisation(raw: str, expected: str) -> None:
    assert normalize_transcript(raw) == expected


def test_digits_are_refused_with_the_place() -> None:
    with pytest.raises(PodiumError, match="entry 3 transcript: contains digits"):
        normalize_transcript("chapter 7", "entry 3 transcript")


def _write_manifest(root: Path, entries: list) -> Path:
    path = root / "dev-clean-wav.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_manifest_filters_and_orders(tmp_path: Path) -> None:
    entries = [
        manifest_entry("dev-clean-wav/1/1/1-1-0000.wav", 16000 * 3, "FIRST ONE"),
        manifest_entry("dev-clean-wav/1/1/1-1-0001.wav", 16000 * 16, "too long"),  # > 15 s: dropped
        manifest_entry("dev-clean-wav/1/1/1-1-0002.wav", 16000 * 15, "exactly fifteen"),  # kept (not > 15)
    ]
    (tmp_path / "t.txt").write_text("from a\ntext file\n")
    entries.append({**manifest_entry("x.wav", 8000, ""), "text_filepath": "t.txt"})
    del entries[-1]["transcript"]
    entries[0]["files"].insert(0, {"fname": "fast.wav", "speed": 1.1})  # only speed 1 is used
    m = read_manifest(_write_manifest(tmp_path, entries))
    assert [u.entry for u in m.utterances] == [0, 2, 3]
    assert [u.transcript for u in m.utterances] == ["first one", "exactly fifteen", "from atext file"]
    assert m.utterances[0].audio_path == tmp_path / "dev-clean-wav/1/1/1-1-0000.wav"
    assert m.filtered_count == 1 and m.filtered_duration_s == 16.0
    assert len(m) == 3 and m.duration_s == pytest.approx(18.5)
    assert locate_manifest(tmp_path) == (tmp_path / "dev-clean-wav.json", tmp_path)
    assert locate_manifest(tmp_path / "dev-clean-wav.json") == (tmp_path / "dev-clean-wav.json", tmp_path)


def test_manifest_errors_name_entry_and_field(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "dev-clean-wav.json")
    path = _write_manifest(tmp_path, [manifest_entry("a.wav", 100, "ok"), {"files": []}])
    with pytest.raises(ManifestError, match="entry 1 lacks the field 'original_duration'"):
        read_manifest(path)
    path = _write_manifest(tmp_path, [{**manifest_entry("a.wav", 100, "ok"), "files": [{"fname": "a", "speed": 2}]}])
    with pytest.raises(ManifestError, match="entry 0 has no file at speed 1"):
        read_manifest(path)
    path = _write_manifest(tmp_path, [manifest_entry("a.wav", 16000 * 20, "long")])
    with pytest.raises(ManifestError, match="no utterance of at most 15 s"):
        read_manifest(path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(PodiumError, match="dev-clean-wav.json not found"):
        locate_manifest(tmp_path / "sub")


def test_levenshtein_and_wer() -> None:
    assert levenshtein(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert levenshtein([], ["a", "b"]) == 2
    errors, words = word_errors([("hello word", "hello world"), ("the quick fox", "the quick brown fox")])
    assert (errors, words) == (2, 6)
    assert word_error_rate(0, 0) == float("inf")


def test_result_line_is_the_official_format() -> None:
    assert result_line(2 / 6) == "Word Error Rate: 33.33333333333333%, accuracy=66.66666666666667%"
    assert result_line(0.07452253714852645) == \
        "Word Error Rate: 7.452253714852645%, accuracy=92.54774628514735%"
    assert CHECKER_WER.match(result_line(0.25)).group(1) == "75.0"


def _log(path: Path, hyps: dict[int, list[int]]) -> Path:
    entries = [{"seq_id": i, "qsl_idx": q, "data": np.array(h, dtype="<i8").tobytes().hex().upper()}
               for i, (q, h) in enumerate(hyps.items())]
    path.write_text(json.dumps(entries))
    return path


def test_score_accuracy_on_a_known_log(tmp_path: Path) -> None:
    _write_manifest(tmp_path, [manifest_entry("a.wav", 16000, "HELLO WORLD"),
                               manifest_entry("b.wav", 16000, "the quick brown fox"),
                               manifest_entry("c.wav", 16000, "unused in the log")])
    log = _log(tmp_path / "mlperf_log_accuracy.json", {1: encode("the quick fox"), 0: encode("hello world")})
    bench = RNNTBenchmark()
    result = bench.score_accuracy(log, tmp_path)
    # 1 deletion over 6 reference words; only logged utterances count
    assert result.line == "Word Error Rate: 16.666666666666664%, accuracy=83.33333333333334%"
    assert result.value == (1 - 1 / 6) * 100 and not result.passed
    assert result.details["utterances_scored"] == 2 and result.details["reference_words"] == 6
    assert bench.accuracy_target() == 92.548 * 0.99 == pytest.approx(91.62252)
    # an empty hypothesis is fine (all deletions); bad data is named
    assert bench.score_accuracy(_log(log, {0: []}), tmp_path).line == "Word Error Rate: 100.0%, accuracy=0.0%"
    with pytest.raises(AccuracyLogError, match="qsl_idx 0: symbol id 28 out of range"):
        bench.score_accuracy(_log(log, {0: [1, 28]}), tmp_path)
    log.write_text(json.dumps([{"seq_id": 0, "qsl_idx": 0, "data": "00" * 5}]))
    with pytest.raises(AccuracyLogError, match="qsl_idx 0 has 5 bytes, expected int64"):
        bench.score_accuracy(log, tmp_path)


def test_postprocess_gives_int64_ids_per_utterance() -> None:
    symbols = np.array([[1, 2, 3], [4, -1, -1]], dtype=np.int64)
    out = RNNTBenchmark().postprocess([symbols, np.array([3, 1])])
    assert out == [np.array([1, 2, 3], "<i8").tobytes(), np.array([4], "<i8").tobytes()]


def _official_rnnt_ready() -> str | None:
    """Why the official accuracy_eval.py cannot run here, or None when it can."""
    if not os.environ.get("PODIUM_MLPERF_INFERENCE_DIR"):
        return "set PODIUM_MLPERF_INFERENCE_DIR to a mlcommons/inference v2.1 checkout"
    python = os.environ.get("PODIUM_MLPERF_PYTHON", sys.executable)
    probe = subprocess.run([python, "-c", "import unidecode, inflect"], check=False, capture_output=True)
    return None if probe.returncode == 0 else "the official script needs unidecode and inflect"


@pytest.mark.skipif(_official_rnnt_ready() is not None, reason=str(_official_rnnt_ready()))
def test_official_script_prints_the_same_line(tmp_path: Path) -> None:
    _write_manifest(tmp_path, [manifest_entry("a.wav", 16000, "HELLO WORLD"),
                               manifest_entry("b.wav", 16000, "Mr. Smith's cafe & bar"),
                               manifest_entry("c.wav", 16000 * 20, "filtered out"),
                               manifest_entry("d.wav", 16000, "the quick brown fox jumps")])
    _log(tmp_path / "mlperf_log_accuracy.json", {0: encode("hello word"), 2: encode("the quick fox jumps over"),
                                                 1: encode("mister smiths cafe and bar")})
    script = Path(os.environ["PODIUM_MLPERF_INFERENCE_DIR"]) / "speech_recognition" / "rnnt" / "accuracy_eval.py"
    out = subprocess.run([os.environ.get("PODIUM_MLPERF_PYTHON", sys.executable), str(script), "--log_dir",
                          str(tmp_path), "--dataset_dir", str(tmp_path), "--manifest",
                          str(tmp_path / "dev-clean-wav.json")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == RNNTBenchmark().score_accuracy(tmp_path, tmp_path).line
