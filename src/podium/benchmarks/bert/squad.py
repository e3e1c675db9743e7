"""Reading SQuAD v1.1 (``dev-v1.1.json``) into question examples, the way the MLPerf BERT reference does.

Each question of each paragraph becomes one ``SquadExample`` in file order (articles → paragraphs → questions),
which is also the order the official evaluation walks. The paragraph is split into words on the reference's
whitespace set (space, tab, CR, LF and U+202F NARROW NO-BREAK SPACE); every other character, including other
Unicode spaces, stays inside a word and is dealt with later by the WordPiece tokeniser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.errors import PodiumError

#: The characters the reference treats as word separators when it splits a paragraph.
_WHITESPACE = frozenset(" \t\r\n\u202f")


class SquadFormatError(PodiumError):
    """A SQuAD file is missing, not JSON, or lacks a field the benchmark reads."""


@dataclass(frozen=True)
class SquadExample:
    """One question: its id, text, the paragraph's words, the ground-truth answers and the paragraph number."""

    qas_id: str
    question: str
    doc_tokens: tuple[str, ...]
    answers: tuple[str, ...]
    paragraph_index: int


def split_paragraph(text: str) -> tuple[str, ...]:
    """The paragraph's words: maximal runs of characters outside the reference whitespace set."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in _WHITESPACE:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return tuple(words)


def _field(obj: Any, key: str, kind: type, where: str, path: Path) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise SquadFormatError(f"{path}: {where} lacks the field {key!r}")
    value = obj[key]
    if not isinstance(value, kind):
        raise SquadFormatError(f"{path}: {where}.{key} should be a {kind.__name__}, "
                               f"got {type(value).__name__}")
    return value


def read_squad_examples(path: str | Path) -> list[SquadExample]:
    """Every question of a SQuAD v1.1 file as a ``SquadExample``, in file order."""
    p = Path(path)
    if not p.is_file():
        raise SquadFormatError(f"{p}: SQuAD file not found (expected dev-v1.1.json)")
    try:
        root = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SquadFormatError(f"{p}: not valid JSON ({exc})") from None
    articles = _field(root, "data", list, "the top level", p)
    examples: list[SquadExample] = []
    paragraph_index = 0
    for a, article in enumerate(articles):
        for q, paragraph in enumerate(_field(article, "paragraphs", list, f"data[{a}]", p)):
            where = f"data[{a}].paragraphs[{q}]"
            doc_tokens = split_paragraph(_field(paragraph, "context", str, where, p))
            for k, qa in enumerate(_field(paragraph, "qas", list, where, p)):
                qwhere = f"{where}.qas[{k}]"
                answers = _field(qa, "answers", list, qwhere, p)
                texts = tuple(_field(ans, "text", str, f"{qwhere}.answers[{n}]", p) for n, ans in enumerate(answers))
                examples.append(SquadExample(
                    qas_id=str(_field(qa, "id", str, qwhere, p)),
                    question=_field(qa, "question", str, qwhere, p),
                    doc_tokens=doc_tokens,
                    answers=texts,
                    paragraph_index=paragraph_index,
                ))
            paragraph_index += 1
    if not examples:
        raise SquadFormatError(f"{p}: no questions found under data[*].paragraphs[*].qas")
    return examples
