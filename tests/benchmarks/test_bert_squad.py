"""BERT data side: SQuAD v1.1 reading, uncased WordPiece tokenisation and the 384/128/64 sliding-window features.

The tiny SQuAD file and vocabulary below are written by the tests (other BERT test modules import them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from podium.benchmarks.bert.data import load_features, locate_files, synthetic_inputs
from podium.benchmarks.bert.features import convert_examples, doc_spans, max_context_owner
from podium.benchmarks.bert.squad import SquadFormatError, read_squad_examples, split_paragraph
from podium.benchmarks.bert.wordpiece import BertWordPiece, read_vocab
from podium.errors import PodiumError

SPECIAL = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "a", "an", "of", "in", "to", "and", "was", "were", "who", "what", "when", "where", "which",
         "normans", "people", "gave", "their", "name", "normandy", "region", "france", "century", "norse",
         "steve", "smith", "born", "year", "leader", "rollo", "king", "charles", "river", "city", "is", "on",
         "did", "how", "many", "cafe", "tokyo", "paris", "north", "south", "1895", "1943", "norm",
         "##s", "##ed", "##ing", "##and", "##y", "'", "(", ")", "-", ".", ",", "?", "!", ";", ":", "\"", "s"]
VOCAB = SPECIAL + WORDS

LONG_SENTENCE = "The Normans gave their name to Normandy, a region in France. "

SQUAD = {
    "version": "1.1",
    "data": [
        {"title": "Normans", "paragraphs": [
            {"context": "Steve Smith (1895-1943) was the leader of the Normans in Normandy.",
             "qas": [
                 {"id": "q-smith", "question": "Who was the leader of the Normans?",
                  "answers": [{"text": "Steve Smith", "answer_start": 0}, {"text": "Smith", "answer_start": 6}]},
                 {"id": "q-born", "question": "When was Steve Smith born?",
                  "answers": [{"text": "1895", "answer_start": 13}]},
             ]},
            {"context": "Rollo was\tthe king\u202fof the Norse in the north of France.",
             "qas": [{"id": "q-rollo", "question": "Who was the king of the Norse?",
                      "answers": [{"text": "Rollo", "answer_start": 0}]}]},
        ]},
        {"title": "Long", "paragraphs": [
            {"context": LONG_SENTENCE * 40,
             "qas": [{"id": "q-long", "question": "What did the Normans give to Normandy?",
                      "answers": [{"text": "their name", "answer_start": 17}]}]},
        ]},
    ],
}


def write_squad_dir(root: Path, squad: dict | None = None, vocab: list[str] | None = None) -> Path:
    """``root`` holding ``dev-v1.1.json`` and ``vocab.txt`` (the tiny set above by default)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dev-v1.1.json").write_text(json.dumps(squad or SQUAD), encoding="utf-8")
    (root / "vocab.txt").write_text("\n".join(vocab or VOCAB) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_squad_dir(tmp_path_factory.mktemp("squad"))


@pytest.fixture(scope="module")
def tokenizer(squad_dir: Path) -> BertWordPiece:
    return BertWordPiece(squad_dir / "vocab.txt")


def test_paragraph_split_uses_the_reference_whitespace_set() -> None:
    # Tab, CR, LF and U+202F split words; U+00A0 does not (the tokeniser splits it later).
    assert split_paragraph("a  b\tc\r\nd\u202fe\u00a0f ") == ("a", "b", "c", "d", "e\u00a0f")
    assert split_paragraph("") == ()


def test_examples_in_file_order(squad_dir: Path) -> None:
    ex = read_squad_examples(squad_dir / "dev-v1.1.json")
    assert [e.qas_id for e in ex] == ["q-smith", "q-born", "q-rollo", "q-long"]
    assert [e.paragraph_index for e in ex] == [0, 0, 1, 2]
    assert ex[0].answers == ("Steve Smith", "Smith")
    assert ex[2].doc_tokens[:4] == ("Rollo", "was", "the", "king")
    assert ex[0].doc_tokens is ex[1].doc_tokens or ex[0].doc_tokens == ex[1].doc_tokens


def test_squad_format_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(SquadFormatError, match="dev-v1.1.json: SQuAD file not found"):
        read_squad_examples(tmp_path / "dev-v1.1.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q?"}]}]}]}))
    with pytest.raises(SquadFormatError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\] lacks the field 'answers'"):
        read_squad_examples(bad)
    bad.write_text("{not json")
    with pytest.raises(SquadFormatError, match="not valid JSON"):
        read_squad_examples(bad)


def test_wordpiece_matches_bert_uncased_rules(tokenizer: BertWordPiece) -> None:
    wp = tokenizer.tokenize("Who gave Normandy's name?")
    # lower-cased, punctuation split off, longest-match-first pieces, unknown words → [UNK]
    assert wp.tokens == ["who", "gave", "normandy", "'", "s", "name", "?"]
    assert tokenizer.tokenize("Normans Norseing Zzz").tokens == ["normans", "norse", "##ing", "[UNK]"]
    # accents are stripped and the CJK/whitespace rules apply before WordPiece
    assert tokenizer.basic_tokenize("Café  (Paris)") == ["cafe", "(", "paris", ")"]
    words = ("Steve", "Smith's", "\u200b", "(1895-1943).")
    pieces = tokenizer.tokenize_words(words)
    assert pieces.tokens == ["steve", "smith", "'", "s", "(", "1895", "-", "1943", ")", "."]
    assert pieces.word_index == [0, 1, 1, 1, 3, 3, 3, 3, 3, 3]  # the zero-width space gives no piece
    assert pieces.ids[0] == VOCAB.index("steve")


def test_vocab_errors(tmp_path: Path) -> None:
    with pytest.raises(PodiumError, match="vocab.txt: WordPiece vocabulary not found"):
        read_vocab(tmp_path / "vocab.txt")
    (tmp_path / "vocab.txt").write_text("a\nb\n")
    with pytest.raises(PodiumError, match=r"lacks the token \[UNK\]"):
        read_vocab(tmp_path / "vocab.txt")


def test_doc_spans_and_max_context_follow_the_reference_example() -> None:
    # The reference's comment: spans "the man went to the" / "to the store and bought" / "and bought a gallon
    # of"; "bought" (piece 7) has its maximum context in the third span.
    spans = doc_spans(12, max_tokens_for_doc=5, doc_stride=3)
    assert spans == [(0, 5), (3, 5), (6, 5), (9, 3)]
    owner = max_context_owner(spans, 12)
    assert owner[7] == 2
    assert owner.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]  # worked by hand from the score rule
    assert doc_spans(0, 5, 3) == []
    assert doc_spans(4, 5, 3) == [(0, 4)]


def test_features_with_official_settings(squad_dir: Path, tokenizer: BertWordPiece) -> None:
    feats, _ = load_features(squad_dir)
    # q-smith, q-born, q-rollo: one window each; q-long: 520 pieces, windows of 373 every 128 pieces → 3.
    assert len(feats) == 6
    assert feats.example_index.tolist() == [0, 1, 2, 3, 3, 3]
    assert feats.span_start.tolist()[3:] == [0, 128, 256]
    assert feats.span_length.tolist()[3:] == [373, 373, 264]
    assert feats.input_ids.shape == (6, 384) and feats.input_ids.dtype == np.int64

    q = tokenizer.tokenize("Who was the leader of the Normans?").ids
    para = tokenizer.tokenize_words(feats.examples[0].doc_tokens).ids
    row = [101, *q, 102, *para, 102]  # [CLS] question [SEP] paragraph [SEP], ids from the vocabulary
    assert VOCAB[101] == "[CLS]" and VOCAB[102] == "[SEP]"
    n = len(row)
    assert feats.input_ids[0, :n].tolist() == row and not feats.input_ids[0, n:].any()
    assert feats.input_mask[0].tolist() == [1] * n + [0] * (384 - n)
    assert feats.segment_ids[0].tolist() == [0] * (len(q) + 2) + [1] * (len(para) + 1) + [0] * (384 - n)
    assert feats.doc_offset[0] == len(q) + 2

    # Piece 300 is in all three windows; min(left, right) is 72, 172 and 44 there: window 1 owns it.
    lo = int(feats.doc_offset[3])
    assert not feats.max_context[3, lo + 300] and feats.max_context[4, lo + 300 - 128]
    assert not feats.max_context[5, lo + 300 - 256]
    assert feats.max_context[3, lo + 10] and feats.max_context[5, lo + 263]
    # every paragraph piece has exactly one owning window
    owned = np.zeros(520, dtype=int)
    for f in (3, 4, 5):
        lo, start, length = int(feats.doc_offset[f]), int(feats.span_start[f]), int(feats.span_length[f])
        owned[start:start + length] += feats.max_context[f, lo:lo + length]
    assert (owned == 1).all()


def test_query_is_cut_to_max_query_length(squad_dir: Path, tokenizer: BertWordPiece) -> None:
    ex = read_squad_examples(squad_dir / "dev-v1.1.json")[:1]
    long_q = type(ex[0])(ex[0].qas_id, "normans " * 100, ex[0].doc_tokens, ex[0].answers, 0)
    feats = convert_examples([long_q], tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64)
    assert feats.doc_offset[0] == 66
    assert (feats.input_ids[0, 1:65] == VOCAB.index("normans")).all() and feats.input_ids[0, 65] == 102


def test_locate_files_reference_layout(tmp_path: Path) -> None:
    with pytest.raises(PodiumError, match="dev-v1.1.json not found"):
        locate_files(tmp_path)
    (tmp_path / "dev-v1.1.json").write_text("{}")
    with pytest.raises(PodiumError, match="vocab.txt not found there or in bert_tf_v1_1_large_fp32_384_v2/"):
        locate_files(tmp_path)
    sub = tmp_path / "bert_tf_v1_1_large_fp32_384_v2"
    sub.mkdir()
    (sub / "vocab.txt").write_text("x\n")
    assert locate_files(tmp_path) == (tmp_path / "dev-v1.1.json", sub / "vocab.txt")
    with pytest.raises(PodiumError, match="not a folder"):
        locate_files(tmp_path / "missing")


def test_synthetic_inputs_are_seeded_full_length() -> None:
    a = synthetic_inputs(np.array([0, 5]))
    b = synthetic_inputs(np.array([5]))
    assert a["input_ids"].shape == (2, 384)
    np.testing.assert_array_equal(a["input_ids"][1], b["input_ids"][0])
    assert (a["input_mask"] == 1).all()
    assert a["input_ids"][0, 0] == 101 and a["input_ids"][0, -1] == 102
    assert a["segment_ids"][0, :26].sum() == 0 and (a["segment_ids"][0, 26:] == 1).all()
    assert a["input_ids"][:, 1:25].min() >= 1000
