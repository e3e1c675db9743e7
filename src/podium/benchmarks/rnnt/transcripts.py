"""The RNN-T alphabet and the transcript normalisation the MLPerf reference applies to manifest transcripts.

The model emits 28 symbols: space, a–z and the apostrophe; symbol 28 is the transducer's blank. A manifest
transcript is normalised the reference's way ("english_cleaners" with punctuation removal): fold to ASCII,
lower-case, expand a fixed list of abbreviations ("mr." → "mister", …), turn punctuation other than the
apostrophe, "+" and "&" into spaces, "&" → " and ", "+" → " plus ", collapse whitespace, strip, and drop
any character outside the alphabet.

Two deliberate differences, both irrelevant to LibriSpeech (its transcripts are upper-case ASCII letters,
spaces and apostrophes): ASCII folding uses Unicode decomposition plus a small table instead of the GPL
``unidecode`` package, and digits are refused with an error instead of being spelt out with ``inflect``.
"""

from __future__ import annotations

import re
import string
import unicodedata

from podium.errors import PodiumError

LABELS: tuple[str, ...] = (" ", *string.ascii_lowercase, "'")
BLANK_INDEX = len(LABELS)  # 28: the transducer's blank, one past the last character
NUM_CLASSES = len(LABELS) + 1

_LABEL_SET = frozenset(LABELS)
_INDEX = {c: i for i, c in enumerate(LABELS)}

_ABBREVIATIONS = [(re.compile(rf"\b{abbr}\.", re.IGNORECASE), word) for abbr, word in (
    ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
    ("jr", "junior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"), ("rev", "reverend"),
    ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
    ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort"),
)]
# Punctuation that becomes a space: everything in string.punctuation except "+", "&" (spelt out below)
# and the characters of the alphabet (the apostrophe).
_PUNCT_TO_SPACE = str.maketrans({c: " " for c in string.punctuation if c not in "+&" and c not in _LABEL_SET})
# Letters that Unicode decomposition does not reduce to ASCII, and typographic punctuation.
_ASCII_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                              "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d",
                              "Ð": "D", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                              "\u2013": "-", "\u2014": "-"})
_WHITESPACE = re.compile(r"\s+")


def to_ascii(text: str) -> str:
    """Accents dropped (NFKD), a few ligatures and typographic marks mapped, other non-ASCII removed."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_EXTRA))
    return text.encode("ascii", "ignore").decode("ascii")


def normalize_transcript(text: str, where: str = "transcript") -> str:
    """The reference-normalised transcript (see the module docstring); ``where`` names it in errors."""
    text = to_ascii(text).lower()
    if any(ch.isdigit() for ch in text):
        raise PodiumError(f"{where}: contains digits; podium expects numbers written as words "
                          "(LibriSpeech transcripts have none)")
    for pattern, word in _ABBREVIATIONS:
        text = pattern.sub(word, text)
    text = text.translate(_PUNCT_TO_SPACE).replace("&", " and ").replace("+", " plus ")
    text = _WHITESPACE.sub(" ", text).strip()
    return "".join(ch for ch in text if ch in _LABEL_SET)


def encode(text: str) -> list[int]:
    """Symbol ids of a normalised text (characters outside the alphabet are skipped)."""
    return [_INDEX[ch] for ch in text if ch in _INDEX]


def decode(ids: list[int]) -> str:
    """Text of symbol ids 0..27; raises ``ValueError`` on any other id (the blank included)."""
    bad = [i for i in ids if not 0 <= i < len(LABELS)]
    if bad:
        raise ValueError(f"symbol id {bad[0]} out of range 0..{len(LABELS) - 1}")
    return "".join(LABELS[i] for i in ids)
