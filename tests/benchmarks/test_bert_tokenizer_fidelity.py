"""BERT tokenisation: exactly the MLPerf v2.1 reference's, where the ``tokenizers`` library differs from it.

The reference is transformers 2.4.0's slow ``BertTokenizer(vocab.txt)`` for the features and Google BERT's
``tokenization.BasicTokenizer`` for the answer alignment, both on Python's ``unicodedata``. The expectations
below are worked by hand from that code: lower-casing is Python's ``str.lower`` per whitespace-separated word
(Unicode's Final_Sigma rule), a special token is kept only as a word of its own, and every character test uses
this Python's Unicode tables. ``tokenizers`` got each of these cases wrong before.

With ``PODIUM_TRANSFORMERS_2_4_DIR`` set to the ``transformers/`` folder of the transformers 2.4.0 wheel (and
``PODIUM_MLPERF_INFERENCE_DIR`` to a v2.1 checkout with its DeepLearningExamples submodule), the last tests also
compare podium with the reference code itself on a seeded set of random texts.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import types
import unicodedata
from pathlib import Path

import pytest

pytest.importorskip("tokenizers")

from podium.benchmarks.bert.wordpiece import (SPECIAL_TOKENS, BertWordPiece, ReferenceWordPiece, needs_reference_path,
                                              read_vocab, reference_basic_tokenize)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[", "]", ".", "'", "a", "x", "sep", "cls", "mask",
         "οδος", "οδοσ", "σ", "ς", "α", "##a", "##x", "##ς"]


def _tok(tmp_path: Path, vocab: list[str] = VOCAB) -> BertWordPiece:
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertWordPiece(tmp_path / "vocab.txt")


def _pieces(tok: BertWordPiece, text: str) -> list[str]:
    wp = tok.tokenize(text)
    assert wp.ids == [VOCAB.index(t) for t in wp.tokens]
    return wp.tokens


def test_capital_sigma_follows_python_lower_per_word(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    # at a word's end Σ is final: ς (tokenizers gave "οδοσ")
    assert _pieces(tok, "ΟΔΟΣ") == ["οδος"]
    assert tok.tokenize("ΟΔΟΣ").ids == [14]
    # "." is case-ignorable: before the punctuation split, Σ in "ΟΔΟΣ." is still final, in "ΟΔΟΣ.Α" it is not
    assert _pieces(tok, "ΟΔΟΣ.") == ["οδος", "."]
    assert _pieces(tok, "ΟΔΟΣ.Α") == ["οδοσ", ".", "α"]
    assert _pieces(tok, "ΟΔΟΣ'Σ") == ["οδοσ", "'", "ς"]
    # a lone capital sigma has no cased letter before it: σ
    assert _pieces(tok, "Σ ΑΣ") == ["σ", "α", "##ς"]
    assert tok.tokenize_words(("ΟΔΟΣ", "Σ")).tokens == ["οδος", "σ"]
    # the answer alignment's basic tokenisation lower-cases the same way
    assert tok.basic_tokenize("ΟΔΟΣ ΟΔΟΣ.Α") == ["οδος", "οδοσ", ".", "α"]


def test_special_tokens_stay_whole_only_as_words_of_their_own(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    assert tok.tokenize("[SEP] a [CLS]").ids == [3, 9, 2]
    assert _pieces(tok, "x [MASK] [UNK] [PAD]") == ["x", "[MASK]", "[UNK]", "[PAD]"]
    # glued to other characters, or not in capitals, they are ordinary text: lower-cased and split
    assert _pieces(tok, "a[SEP]") == ["a", "[", "sep", "]"]
    assert _pieces(tok, "[SEP].") == ["[", "sep", "]", "."]
    assert _pieces(tok, "[sep] [Cls]") == ["[", "sep", "]", "[", "cls", "]"]
    # not a special token of transformers 2.4.0: split like any text
    assert _pieces(tok, "[unused0]") == ["[", "[UNK]", "]"]
    # each paragraph word is tokenised on its own, as the reference calls tokenize(word) per word
    wp = tok.tokenize_words(("a", "[SEP]", "x[CLS]", "[MASK]"))
    assert wp.tokens == ["a", "[SEP]", "x", "[", "cls", "]", "[MASK]"]
    assert wp.word_index == [0, 1, 2, 2, 2, 2, 3]
    assert wp.ids == [9, 3, 10, 5, 12, 6, 4]
    # Google's BasicTokenizer (answer alignment) has no special tokens at all
    assert tok.basic_tokenize("[SEP] a") == ["[", "sep", "]", "a"]
    assert tok.basic_tokenize("[SEP] Σ") == ["[", "sep", "]", "σ"]


def test_special_token_missing_from_the_vocabulary_is_unknown(tmp_path: Path) -> None:
    # kept whole by the basic step, "[MASK]" then fails WordPiece ("##MASK" is not in an uncased vocabulary)
    tok = _tok(tmp_path, [t for t in VOCAB if t != "[MASK]"])
    assert tok.tokenize("[MASK] a").tokens == ["[UNK]", "a"]


@pytest.mark.skipif(unicodedata.unidata_version != "14.0.0",
                    reason="expectations are for Python 3.11's Unicode 14.0 tables")
def test_characters_follow_this_pythons_unicode_tables(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    # U+1FAE8 (an emoji of Unicode 15) and U+2B739 (a CJK ideograph of Unicode 15) are unassigned (Cn) in
    # Python 3.11: control characters, dropped (tokenizers kept them and gave [UNK])
    assert unicodedata.category("\U0001fae8") == "Cn"
    assert _pieces(tok, "a\U0001fae8a") == ["a", "##a"]
    assert _pieces(tok, "a\U0002b739a x") == ["a", "##a", "x"]
    assert tok.tokenize_words(("\U0001fae8", "x")).word_index == [1]
    assert tok.basic_tokenize("a\U0001fae8a") == ["aa"]
    # U+2E5D OBLIQUE HYPHEN is punctuation (Pd) since Unicode 14: split off (tokenizers left it in the word)
    assert _pieces(tok, "a\u2e5da") == ["a", "[UNK]", "a"]
    assert tok.basic_tokenize("a\u2e5da") == ["a", "\u2e5d", "a"]


def test_fast_and_reference_paths_agree_on_ascii(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    assert not needs_reference_path("plain ascii, (text).") and needs_reference_path("a[b") \
        and needs_reference_path("café")
    rng = random.Random(3)
    chars = "ax .'[]\t\n\x00\x0bSEPCLSMASK#^`-"
    ref = ReferenceWordPiece(tok.vocab)
    for _ in range(500):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 10)))
        reference = [p for w in reference_basic_tokenize(text, SPECIAL_TOKENS) for p in ref.tokenize(w)]
        assert tok.tokenize(text).tokens == reference, repr(text)
        assert tok.basic_tokenize(text) == reference_basic_tokenize(text), repr(text)


def test_mixed_paragraph_keeps_word_order(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    words = ("A", "ΟΔΟΣ", "x.", "[SEP]", "\u200b", "ax")
    wp = tok.tokenize_words(words)
    assert wp.tokens == ["a", "οδος", "x", ".", "[SEP]", "a", "##x"]
    assert wp.word_index == [0, 1, 2, 2, 3, 5, 5]
    assert tok.tokenize_words(words).tokens == wp.tokens  # the cached words give the same again


def test_vocabulary_repeated_token_gets_its_last_line(tmp_path: Path) -> None:
    # transformers' load_vocab assigns into an OrderedDict: the last line of a repeated token wins
    (tmp_path / "vocab.txt").write_text("[UNK]\n[CLS]\n[SEP]\na\na\n", encoding="utf-8")
    assert read_vocab(tmp_path / "vocab.txt")["a"] == 4


# -- optional: the reference code itself ------------------------------------------------------------------
def _load_transformers_240() -> types.ModuleType:
    root = Path(os.environ["PODIUM_TRANSFORMERS_2_4_DIR"])
    pkg = types.ModuleType("_tf240")
    pkg.__path__ = [str(root)]
    file_utils = types.ModuleType("_tf240.file_utils")  # only the download helpers, never called here
    for name in ("cached_path", "hf_bucket_url", "is_remote_url"):
        setattr(file_utils, name, lambda *a, **k: False)
    file_utils.is_tf_available = file_utils.is_torch_available = lambda: False  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in ("_tf240", "_tf240.file_utils")}
    sys.modules.update({"_tf240": pkg, "_tf240.file_utils": file_utils})
    try:
        for name in ("tokenization_utils", "tokenization_bert"):
            spec = importlib.util.spec_from_file_location(f"_tf240.{name}", root / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[f"_tf240.{name}"] = module
            spec.loader.exec_module(module)
        return sys.modules["_tf240.tokenization_bert"]
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)


def _load_google_tokenization(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    path = (Path(os.environ["PODIUM_MLPERF_INFERENCE_DIR"]) / "language" / "bert" / "DeepLearningExamples"
            / "TensorFlow" / "LanguageModeling" / "BERT" / "tokenization.py")
    if not path.is_file():
        pytest.skip(f"{path} not found (the DeepLearningExamples submodule)")
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))  # only tf.gfile, unused
    if importlib.util.find_spec("six") is None:
        six = types.ModuleType("six")
        six.PY2, six.PY3 = False, True  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "six", six)
    spec = importlib.util.spec_from_file_location("_google_bert_tokenization", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ALPHABET = list("abcxSEPCLSMASK019 .,'-()[]#$^`?!\t\n\r") + [
    "[SEP]", "[CLS]", "[MASK]", "[UNK]", "[PAD]", " [SEP] ", "Σ", "ΟΔΟΣ", "ς", "İ", "ẞ", "é", "É", "ﬁ", "ß",
    "\u00a0", "\u2028", "\u0085", "\u200b", "\x00", "\ufffd", "\x0b", "\u3000", "\u202f", "\u0301", "中",
    "\U0001F600", "\U0001FAE8", "\u0cf3", "\U0002B739", "Ⅻ", "①", "ǅ", "ᾼ", "«", "—", "\u2e5d", "\U000e0001"]


def _random_texts(n: int) -> list[str]:
    rng = random.Random(11)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))) for _ in range(n)]


@pytest.mark.skipif(not os.environ.get("PODIUM_TRANSFORMERS_2_4_DIR"),
                    reason="set PODIUM_TRANSFORMERS_2_4_DIR to the transformers/ folder of transformers 2.4.0")
def test_same_pieces_as_transformers_2_4(tmp_path: Path) -> None:
    vocab = VOCAB + ["i", "e", "ss", "fi", "中", "12", "ⅻ", "①", "\U0001F600", "##e", "##i", "##b", "b", "c"]
    tok = _tok(tmp_path, vocab)
    reference = _load_transformers_240().BertTokenizer(str(tmp_path / "vocab.txt"))
    for text in _random_texts(3000):
        assert tok.tokenize(text).tokens == reference.tokenize(text), repr(text)
        words = text.split(" ")
        assert tok.tokenize_words(words).tokens == [p for w in words for p in reference.tokenize(w)], repr(text)


@pytest.mark.skipif(not os.environ.get("PODIUM_MLPERF_INFERENCE_DIR"),
                    reason="set PODIUM_MLPERF_INFERENCE_DIR to a mlcommons/inference v2.1 checkout")
def test_same_basic_tokens_as_google_bert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tok = _tok(tmp_path)
    basic = _load_google_tokenization(monkeypatch).BasicTokenizer(do_lower_case=True)
    for text in _random_texts(3000):
        assert tok.basic_tokenize(text) == basic.tokenize(text), repr(text)
