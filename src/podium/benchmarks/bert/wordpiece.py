"""The uncased BERT tokenisation the MLPerf reference uses, built on the ``tokenizers`` library.

The reference tokenises with ``transformers.BertTokenizer(vocab.txt)`` (lower-casing, accent stripping,
splitting on whitespace and punctuation, CJK characters as single words, then greedy longest-match WordPiece
with ``##`` continuations, words over 100 characters becoming ``[UNK]``). ``tokenizers`` implements the same
steps natively (``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece``), which is ~50× faster than a Python
tokeniser over the 10,570 SQuAD questions. The "basic" half alone (no WordPiece) is what the reference's
answer post-processing uses to line predicted text up with the original paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.errors import PodiumError

UNK = "[UNK]"
CLS = "[CLS]"
SEP = "[SEP]"
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
            vocab.setdefault(line.rstrip("\n"), i)  # like transformers, a line's "\n" only is dropped
    for token in (UNK, CLS, SEP):
        if token not in vocab:
            raise PodiumError(f"{p}: vocabulary lacks the token {token} (is this a BERT vocab.txt?)")
    return vocab


@dataclass
class WordPieces:
    """A tokenised word list: the WordPiece strings and ids, and the index of the word each piece came from."""

    tokens: list[str]
    ids: list[int]
    word_index: list[int]


class BertWordPiece:
    """Uncased BERT tokeniser over a vocabulary file (what ``BertTokenizer(vocab.txt)`` does by default)."""

    def __init__(self, vocab: str | Path | dict[str, int]) -> None:
        tk = _import_tokenizers()
        from tokenizers.models import WordPiece
        from tokenizers.normalizers import BertNormalizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self.vocab = read_vocab(vocab) if not isinstance(vocab, dict) else dict(vocab)
        self._tok = tk.Tokenizer(WordPiece(self.vocab, unk_token=UNK, max_input_chars_per_word=MAX_CHARS_PER_WORD))
        # strip_accents=None follows lowercase, as BertTokenizer's do_lower_case does.
        self._normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                          lowercase=True)
        self._pre = BertPreTokenizer()
        self._tok.normalizer = self._normalizer
        self._tok.pre_tokenizer = self._pre

    def token_id(self, token: str) -> int:
        """The id of a vocabulary token ([CLS], [SEP], …)."""
        return self.vocab[token]

    def tokenize(self, text: str) -> WordPieces:
        """WordPieces of a free text (a question)."""
        enc = self._tok.encode(text, add_special_tokens=False)
        return WordPieces(list(enc.tokens), list(enc.ids), [w if w is not None else -1 for w in enc.word_ids])

    def tokenize_words(self, words: list[str] | tuple[str, ...]) -> WordPieces:
        """WordPieces of a word list, each piece tagged with the index of its word (a word may give none)."""
        if not words:
            return WordPieces([], [], [])
        enc = self._tok.encode(list(words), is_pretokenized=True, add_special_tokens=False)
        return WordPieces(list(enc.tokens), list(enc.ids), [w if w is not None else -1 for w in enc.word_ids])

    def basic_tokenize(self, text: str) -> list[str]:
        """The BERT "basic" tokenisation: normalised (lower-cased, accents stripped) words and punctuation."""
        normalized = self._normalizer.normalize_str(text)
        return [piece for piece, _ in self._pre.pre_tokenize_str(normalized)]
