"""BERT accuracy: the reference SQuAD post-processing, the official EM/F1, and the exact printed line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from podium.benchmarks.accuracy import AccuracyLogError
from podium.benchmarks.bert import Bert999Benchmark, BertBenchmark
from podium.benchmarks.bert.data import load_features
from podium.benchmarks.bert.evaluate import evaluate, f1_score, normalize_answer, result_line
from podium.benchmarks.bert.features import SquadFeatures
from podium.benchmarks.bert.postprocess import PAD_LOGIT, best_span, decode_response, final_text, predictions
from podium.benchmarks.bert.squad import SquadExample
from podium.benchmarks.bert.wordpiece import BertWordPiece
from tests.benchmarks.test_bert_squad import write_squad_dir

#: The submission checker's pattern for BERT's accuracy.txt.
CHECKER_F1 = re.compile(r"^{[\"']exact_match[\"']:\s*[\d\.]+,\s*[\"']f1[\"']:\s*([\d\.]+)}")


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_squad_dir(tmp_path_factory.mktemp("squad"))


@pytest.fixture(scope="module")
def loaded(squad_dir: Path) -> tuple[SquadFeatures, BertWordPiece]:
    return load_features(squad_dir)


def piece_position(feats: SquadFeatures, f: int, word: int) -> int:
    """Position in feature ``f`` of the first piece of paragraph word ``word``."""
    ex = feats.examples[int(feats.example_index[f])]
    pieces = feats.paragraphs[ex.paragraph_index].piece_to_word
    first = int(np.flatnonzero(pieces == word)[0])
    return int(feats.doc_offset[f]) + first - int(feats.span_start[f])


def span_logits(start: int, end: int, length: int = 384, boost: float = 10.0) -> np.ndarray:
    """(length, 2) float32 logits: zero everywhere, ``boost`` at the start and end positions."""
    out = np.zeros((length, 2), dtype=np.float32)
    out[start, 0] += boost
    out[end, 1] += boost
    return out


def padded(a: np.ndarray) -> np.ndarray:
    return decode_response(a.astype("<f4").tobytes(), 384)


def test_final_text_projects_onto_original_words(loaded: tuple) -> None:
    _, tok = loaded
    # The reference's example: predicted "steve smith" inside the word span "Steve Smith's".
    assert final_text("steve smith", "Steve Smith's", tok) == "Steve Smith"
    assert final_text("1895", "(1895-1943)", tok) == "1895"
    assert final_text("cafe", "Café", tok) == "Café"
    assert final_text("paris", "Tokyo", tok) == "Tokyo"  # not found: the whole original text


def test_best_span_rules(loaded: tuple) -> None:
    feats, tok = loaded
    rows = np.array([0])
    lo, hi = int(feats.doc_offset[0]), int(feats.doc_offset[0] + feats.span_length[0])
    # The best pair wins: "Steve Smith" = words 0..1
    s, e = piece_position(feats, 0, 0), piece_position(feats, 0, 1)
    assert best_span(feats, rows, {0: padded(span_logits(s, e))}) == (0, s, e)
    assert predictions(feats, tok, {0: padded(span_logits(s, e))})["q-smith"] == "Steve Smith"
    # A start inside the question is invalid: the best valid pair is taken instead.
    logits = span_logits(s, e, boost=5.0)
    logits[2, 0] = 50.0
    assert best_span(feats, rows, {0: padded(logits)}) == (0, s, e)
    # end before start, or longer than 30 pieces, is invalid
    logits = np.zeros((384, 2), dtype=np.float32)
    logits[hi - 1, 0] = 9.0
    logits[lo, 1] = 9.0
    span = best_span(feats, rows, {0: padded(logits)})
    assert span is not None and span[2] >= span[1]
    # only the 20 best starts count: when they all sit in the question or padding, nothing is valid
    logits = np.full((384, 2), -1.0, dtype=np.float32)
    logits[hi:hi + 20, 0] = 5.0
    logits[lo, 1] = 5.0
    logits[lo + 1, 0] = 4.0  # valid, but 21st best
    assert best_span(feats, rows, {0: padded(logits)}) is None
    assert predictions(feats, tok, {0: padded(logits)})["q-smith"] == "empty"
    # a question with no response at all gets "empty"
    assert predictions(feats, tok, {})["q-born"] == "empty"


def test_ties_go_to_the_first_in_reference_order(loaded: tuple) -> None:
    feats, _ = loaded
    lo = int(feats.doc_offset[0])
    logits = np.zeros((384, 2), dtype=np.float32)
    logits[lo + 3, 0] = logits[lo + 1, 0] = 5.0  # equal starts: the lower position ranks first
    logits[lo + 4, 1] = 5.0
    assert best_span(feats, np.array([0]), {0: padded(logits)}) == (0, lo + 1, lo + 4)


def test_max_context_decides_between_windows(loaded: tuple) -> None:
    feats, _ = loaded
    rows = np.array([3, 4, 5])  # the long paragraph's three windows
    # piece 300 in window 1 (its max-context window) beats the same piece boosted higher in window 0
    w0 = span_logits(int(feats.doc_offset[3]) + 300, int(feats.doc_offset[3]) + 301, boost=20.0)
    w1 = span_logits(int(feats.doc_offset[4]) + 300 - 128, int(feats.doc_offset[4]) + 301 - 128)
    got = best_span(feats, rows, {3: padded(w0), 4: padded(w1)})
    assert got == (4, int(feats.doc_offset[4]) + 172, int(feats.doc_offset[4]) + 173)


def test_short_responses_are_padded_like_the_reference(loaded: tuple) -> None:
    feats, tok = loaded
    n = int(feats.input_mask[0].sum())
    s, e = piece_position(feats, 0, 6), piece_position(feats, 0, 7)
    short = span_logits(s, e, length=n)
    full = decode_response(short.tobytes(), 384)
    assert full.shape == (384, 2) and (full[n:] == PAD_LOGIT).all()
    assert predictions(feats, tok, {0: full}) == predictions(feats, tok, {0: padded(span_logits(s, e))})
    assert decode_response(b"\x00" * 7, 384) is None
    assert decode_response(b"\x00" * 8 * 385, 384) is None


def test_normalisation_and_f1() -> None:
    assert normalize_answer("The  Normans, of France!") == "normans of france"
    assert normalize_answer("an apple a day") == "apple day"
    assert f1_score("Steve Smith", "Smith") == pytest.approx(2 / 3)
    assert f1_score("the", "a") == 0  # both normalise to nothing


def test_evaluate_counts_unanswered_questions() -> None:
    ex = [SquadExample("a", "q", (), ("Steve Smith", "Smith"), 0), SquadExample("b", "q", (), ("1895",), 0),
          SquadExample("c", "q", (), ("Rollo",), 1)]
    scores = evaluate(ex, {"a": "Steve", "b": "1895"})
    assert scores == {"exact_match": 100.0 / 3, "f1": 100.0 * (2 / 3 + 1) / 3}
    assert result_line(scores) == '{"exact_match": 33.333333333333336, "f1": 55.55555555555555}'
    assert CHECKER_F1.match(result_line(scores)).group(1) == "55.55555555555555"


def _write_log(path: Path, responses: dict[int, np.ndarray]) -> Path:
    entries = [{"seq_id": i, "qsl_idx": q, "data": r.astype("<f4").tobytes().hex().upper()}
               for i, (q, r) in enumerate(responses.items())]
    path.write_text(json.dumps(entries))
    return path


def test_score_accuracy_prints_the_official_line(squad_dir: Path, loaded: tuple, tmp_path: Path) -> None:
    feats, _ = loaded
    pos = lambda f, w: piece_position(feats, f, w)
    born = pos(1, 2) + 1  # the piece "1895" inside the word "(1895-1943)"
    responses = {
        0: span_logits(pos(0, 0), pos(0, 1)),  # q-smith: "Steve Smith" (exact)
        1: span_logits(born, born, length=int(feats.input_mask[1].sum())),  # q-born: "1895" (exact, short response)
        2: span_logits(pos(2, 0), pos(2, 1)),  # q-rollo: "Rollo was" (F1 2/3)
        # q-long: no response for any of its features → "empty" (0)
    }
    result = BertBenchmark().score_accuracy(_write_log(tmp_path / "mlperf_log_accuracy.json", responses), squad_dir)
    em, f1 = 100.0 * 2 / 4, 100.0 * (1 + 1 + 2 / 3 + 0) / 4
    assert result.line == json.dumps({"exact_match": em, "f1": f1})
    assert result.line == '{"exact_match": 50.0, "f1": 66.66666666666666}'
    assert result.metric == "F1" and result.value == f1 and not result.passed
    assert result.details["features_scored"] == 3 and result.details["questions"] == 4
    assert CHECKER_F1.match(result.accuracy_txt).group(1) == "66.66666666666666"


def test_targets() -> None:
    assert BertBenchmark().accuracy_target() == pytest.approx(89.96526)
    assert Bert999Benchmark().accuracy_target() == pytest.approx(90.783126)
    assert BertBenchmark().accuracy_target() == 90.874 * 0.99  # the checker's own product


def test_bad_logs_are_named(squad_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "mlperf_log_accuracy.json"
    log.write_text(json.dumps([{"seq_id": 0, "qsl_idx": 0, "data": "00" * 12}]))
    with pytest.raises(AccuracyLogError, match="qsl_idx 0 has 12 bytes, expected float32"):
        BertBenchmark().score_accuracy(log, squad_dir)
    log.write_text(json.dumps([{"seq_id": 0, "qsl_idx": 6, "data": "00" * 8}]))
    with pytest.raises(AccuracyLogError, match=r"qsl_idx 6, expected 0\.\.5"):
        BertBenchmark().score_accuracy(log, squad_dir)


def _official_bert_ready() -> str | None:
    """Why the official accuracy-squad.py cannot run here, or None when it can."""
    root = os.environ.get("PODIUM_MLPERF_INFERENCE_DIR")
    if not root:
        return "set PODIUM_MLPERF_INFERENCE_DIR to a mlcommons/inference v2.1 checkout"
    bert = Path(root) / "language" / "bert"
    if not any((bert / "DeepLearningExamples" / fw / "LanguageModeling" / "BERT" / "tokenization.py").is_file()
               for fw in ("PyTorch", "TensorFlow")):
        return "the checkout lacks the DeepLearningExamples submodule (tokenization.py)"
    python = os.environ.get("PODIUM_MLPERF_PYTHON", sys.executable)
    check = "import six, pkg_resources; from transformers import BertTokenizer"
    probe = subprocess.run([python, "-c", check], check=False, capture_output=True)
    return None if probe.returncode == 0 else "the official script needs transformers, six and pkg_resources"


@pytest.mark.skipif(_official_bert_ready() is not None, reason=str(_official_bert_ready()))
def test_official_script_prints_the_same_line(squad_dir: Path, loaded: tuple, tmp_path: Path) -> None:
    feats, _ = loaded
    rng = np.random.default_rng(7)
    responses = {}
    for f in range(len(feats)):  # random logits, some trimmed to the real length, some rounded into ties
        n = int(feats.input_mask[f].sum()) if f % 2 else 384
        responses[f] = np.round(rng.normal(0, 3, (n, 2)), 0 if f % 3 == 0 else 3).astype(np.float32)
    log = _write_log(tmp_path / "mlperf_log_accuracy.json", responses)
    script = Path(os.environ["PODIUM_MLPERF_INFERENCE_DIR"]) / "language" / "bert" / "accuracy-squad.py"
    out = subprocess.run([os.environ.get("PODIUM_MLPERF_PYTHON", sys.executable), str(script),
                          "--vocab_file", str(squad_dir / "vocab.txt"), "--val_data", str(squad_dir / "dev-v1.1.json"),
                          "--log_file", str(log), "--out_file", str(tmp_path / "predictions.json"),
                          "--features_cache_file", str(tmp_path / "features.pickle")],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == BertBenchmark().score_accuracy(log, squad_dir).line
