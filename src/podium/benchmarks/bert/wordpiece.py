"""The uncased BERT tokenisation the MLPerf reference uses: ``tokenizers`` for plain ASCII, Python otherwise.

The v2.1 reference tokenises with ``transformers.BertTokenizer(vocab.txt)`` from transformers 2.4.0 (the version
its Dockerfile pins), built directly, not with ``from_pretrained``. Its steps: drop NUL, U+FFFD and control
characters (Unicode category C* except tab/CR/LF) and turn whitespace (space, tab, CR, LF, category Zs) into
spaces; put spaces around CJK ideographs; split on Python whitespace (``str.split``); then, for each word that
is not exactly one of the special tokens ``[UNK] [SEP] [PAD] [CLS] [MASK]``, lower-case it with Python's
``str.lower`` (so a capital sigma at a word's end becomes the final sigma "ς"), strip accents (NFD, then drop
category Mn) and split off punctuation (ASCII non-alphanumerics and category P*); finally greedy longest-match
WordPiece with ``##`` continuations, a word over 100 characters or one with no match becoming ``[UNK]``.
A special token stays whole only as a whitespace-separated word of its own, in capitals: "[SEP]," or "[sep]"
are split like any text ("[", "sep", "]", ","). Every character test uses Python's ``unicodedata``.

The ``tokenizers`` library (``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece``) does the same much
faster (~50× over the 10,570 SQuAD questions) but not identically: it lower-cases character by character (Σ
always becomes σ), has its own, newer Unicode tables, and splits the special tokens. On ASCII text without "["
the two agree exactly, so such text goes the fast way and everything else through the Python implementation
of the reference algorithm here (``reference_basic_tokenize``, ``ReferenceWordPiece``).

The "basic" half alone (no WordPiece) is what the reference's answer post-processing uses to line predicted
text up with the original paragraph; there the reference (accuracy-squad.py) calls the original Google BERT
``tokenization.BasicTokenizer``, which has no special tokens at all: "[SEP]" becomes "[", "sep", "]".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.errors import PodiumError

UNK = "[UNK]"
CLS = "[CLS]"
SEP = "[SEP]"
#: The tokens transformers 2.4.0's ``BertTokenizer.tokenize`` never splits (its ``all_special_tokens``).
SPECIAL_TOKENS = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")
#: Words longer than this many characters become [UNK] (the BERT WordPiece rule).
MAX_CHARS_PER_WORD = 100


def _import_tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError:
        raise PodiumError("the BERT benchmark needs the tokenizers library: pip install 'podium[nlp]'") from None
    return tokenizers


def read_vocab(path: str | Path) -> dict[str, int]:
    """``{token: id}`` from a BERT ``vocab.txt`` (one token per line, the id is the line number)."""
    p = Path(path)
    if not p.is_file():
        raise PodiumError(f"{p}: WordPiece vocabulary not found (expected the BERT vocab.txt)")
    vocab: dict[str, int] = {}
    with open(p, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            # like transformers' load_vocab: only a line's "\n" is dropped, and a repeated token gets the id of
            # its last line (an OrderedDict assignment overwrites)
            vocab[line.rstrip("\n")] = i
    for token in (UNK, CLS, SEP):
        if token not in vocab:
            raise PodiumError(f"{p}: vocabulary lacks the token {token} (is this a BERT vocab.txt?)")
    return vocab


# -- the reference algorithm in Python (transformers 2.4.0 tokenization_bert, Google BERT tokenization) -------
def _is_whitespace(char: str) -> bool:
    # tab, LF and CR are control characters, but the reference counts them as whitespace
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    # every non-alphanumeric ASCII character counts, "^", "$" and "`" included
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_chinese_char(cp: int) -> bool:
    # the CJK Unified Ideographs blocks only (not Hangul, Hiragana or Katakana), as the reference lists them
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _clean_text(text: str) -> str:
    out = []
    for char in text:
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD or _is_control(char):
            continue
        out.append(" " if _is_whitespace(char) else char)
    return "".join(out)


def _space_chinese_chars(text: str) -> str:
    return "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _split_on_punctuation(text: str) -> list[str]:
    out: list[str] = []
    start_new_word = True
    for char in text:
        if _is_punctuation(char):
            out.append(char)
            start_new_word = True
        else:
            if start_new_word:
                out.append("")
            start_new_word = False
            out[-1] += char
    return out


def reference_basic_tokenize(text: str, never_split: Iterable[str] = ()) -> list[str]:
    """The reference's uncased ``BasicTokenizer.tokenize`` on this Python's ``unicodedata``.

    ``never_split`` are words kept as they are (not lower-cased, not split): ``SPECIAL_TOKENS`` for the
    feature tokenisation (transformers 2.4.0), none for the answer alignment (Google BERT tokenization.py).
    """
    keep = frozenset(never_split)
    text = _space_chinese_chars(_clean_text(text))
    split: list[str] = []
    for token in text.split():
        if token in keep:
            split.append(token)
            continue
        # str.lower on the whole word: Python's final-sigma rule looks at the letters around each capital sigma
        split.extend(_split_on_punctuation(_strip_accents(token.lower())))
    return " ".join(split).split()


class ReferenceWordPiece:
    """Greedy longest-match-first WordPiece over a vocabulary, as the reference's ``WordpieceTokenizer``."""

    def __init__(self, vocab: dict[str, int], unk_token: str = UNK,
                 max_input_chars_per_word: int = MAX_CHARS_PER_WORD) -> None:
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word

    def tokenize(self, text: str) -> list[str]:
        """WordPieces of basic-tokenised text (its words are split on whitespace first)."""
        out: list[str] = []
        for token in text.split():
            if len(token) > self.max_input_chars_per_word:
                out.append(self.unk_token)
                continue
            pieces: list[str] = []
            start = 0
            while start < len(token):
                end = len(token)
                piece = None
                while start < end:
                    sub = token[start:end] if start == 0 else "##" + token[start:end]
                    if sub in self.vocab:
                        piece = sub
                        break
                    end -= 1
                if piece is None:
                    pieces = [self.unk_token]  # one unmatched part makes the whole word unknown
                    break
                pieces.append(piece)
                start = end
            out.extend(pieces)
        return out


def needs_reference_path(text: str) -> bool:
    """Whether ``tokenizers`` may differ from the reference on this text (non-ASCII, or a "[" that may start a
    special token); plain ASCII text without "[" tokenises identically both ways."""
    return not text.isascii() or "[" in text


@dataclass
class WordPieces:
    """A tokenised word list: the WordPiece strings and ids, and the index of the word each piece came from."""

    tokens: list[str]
    ids: list[int]
    word_index: list[int]


class BertWordPiece:
    """Uncased BERT tokeniser over a vocabulary file (what ``BertTokenizer(vocab.txt)`` does by default).

    ASCII text without "[" goes through ``tokenizers``; any other text through the Python implementation of
    the reference algorithm (see the module docstring), so the result is the reference's either way.
    """

    def __init__(self, vocab: str | Path | dict[str, int]) -> None:
        tk = _import_tokenizers()
        from tokenizers.models import WordPiece
        from tokenizers.normalizers import BertNormalizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self.vocab = read_vocab(vocab) if not isinstance(vocab, dict) else dict(vocab)
        if UNK not in self.vocab:
            raise PodiumError(f"vocab: the vocabulary lacks the token {UNK} (is this a BERT vocab.txt?)")
        self._tok = tk.Tokenizer(WordPiece(self.vocab, unk_token=UNK, max_input_chars_per_word=MAX_CHARS_PER_WORD))
        # strip_accents=None follows lowercase, as BertTokenizer's do_lower_case does.
        self._normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                          lowercase=True)
        self._pre = BertPreTokenizer()
        self._tok.normalizer = self._normalizer
        self._tok.pre_tokenizer = self._pre
        self._reference = ReferenceWordPiece(self.vocab)
        # paragraph words repeat a lot: each word that needs the Python path is tokenised once
        self._word_cache: dict[str, tuple[list[str], list[int]]] = {}

    def token_id(self, token: str) -> int:
        """The id of a vocabulary token ([CLS], [SEP], …)."""
        return self.vocab[token]

    def _reference_words(self, text: str) -> list[list[str]]:
        """The reference's WordPieces of ``text``, grouped by basic-tokenised word."""
        return [self._reference.tokenize(word) for word in reference_basic_tokenize(text, SPECIAL_TOKENS)]

    def tokenize(self, text: str) -> WordPieces:
        """WordPieces of a free text (a question), each tagged with the index of its basic-tokenised word."""
        if not needs_reference_path(text):
            enc = self._tok.encode(text, add_special_tokens=False)
            return WordPieces(list(enc.tokens), list(enc.ids), [w if w is not None else -1 for w in enc.word_ids])
        tokens: list[str] = []
        word_index: list[int] = []
        for w, pieces in enumerate(self._reference_words(text)):
            tokens.extend(pieces)
            word_index.extend([w] * len(pieces))
        return WordPieces(tokens, [self.vocab[t] for t in tokens], word_index)

    def _word_pieces(self, word: str) -> tuple[list[str], list[int]]:
        """The reference's ``tokenize(word)`` for one paragraph word (Python path, cached)."""
        got = self._word_cache.get(word)
        if got is None:
            tokens = [t for pieces in self._reference_words(word) for t in pieces]
            got = (tokens, [self.vocab[t] for t in tokens])
            self._word_cache[word] = got
        return got

    def tokenize_words(self, words: Sequence[str]) -> WordPieces:
        """WordPieces of a word list, each piece tagged with the index of its word (a word may give none).

        Like the reference, each word is tokenised on its own (``tokenizer.tokenize(word)`` per paragraph word).
        """
        if not words:
            return WordPieces([], [], [])
        fast = [i for i, w in enumerate(words) if not needs_reference_path(w)]
        if len(fast) == len(words):
            enc = self._tok.encode(list(words), is_pretokenized=True, add_special_tokens=False)
            return WordPieces(list(enc.tokens), list(enc.ids), [w if w is not None else -1 for w in enc.word_ids])
        # fast words in one batch, then every word's pieces put back in word order
        per_word: list[tuple[list[str], list[int]] | None] = [None] * len(words)
        if fast:
            enc = self._tok.encode([words[i] for i in fast], is_pretokenized=True, add_special_tokens=False)
            for i in fast:
                per_word[i] = ([], [])
            for token, tid, w in zip(enc.tokens, enc.ids, enc.word_ids):
                entry = per_word[fast[w]]
                assert entry is not None
                entry[0].append(token)
                entry[1].append(tid)
        tokens: list[str] = []
        ids: list[int] = []
        word_index: list[int] = []
        for i, word in enumerate(words):
            entry = per_word[i]
            if entry is None:
                entry = self._word_pieces(word)
            tokens.extend(entry[0])
            ids.extend(entry[1])
            word_index.extend([i] * len(entry[0]))
        return WordPieces(tokens, ids, word_index)

    def basic_tokenize(self, text: str) -> list[str]:
        """The BERT "basic" tokenisation: normalised (lower-cased, accents stripped) words and punctuation.

        This is Google BERT's ``BasicTokenizer`` that the reference's answer alignment uses: no special tokens.
        """
        if text.isascii():  # ASCII, "[" included: tokenizers splits "[SEP]" just as this tokenizer does
            normalized = self._normalizer.normalize_str(text)
            return [piece for piece, _ in self._pre.pre_tokenize_str(normalized)]
        return reference_basic_tokenize(text)
