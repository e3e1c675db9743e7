"""Word error rate, as the MLPerf RNN-T ``accuracy_eval.py`` computes and prints it.

WER = Σ word-level Levenshtein distance(hypothesis, reference) / Σ reference words, over the utterances in
the accuracy log (words are split on whitespace). The printed line uses Python's plain ``{}`` float
formatting: ``Word Error Rate: 7.452253714852645%, accuracy=92.54774628514735%``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def levenshtein(a: Sequence[str], b: Sequence[str]) -> int:
    """Edit distance (insertions, deletions, substitutions each cost 1) between two word lists."""
    if len(a) > len(b):
        a, b = b, a
    previous = list(range(len(a) + 1))
    for i, word_b in enumerate(b, start=1):
        current = [i] + [0] * len(a)
        for j, word_a in enumerate(a, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word_a != word_b))
        previous = current
    return previous[-1]


def word_errors(pairs: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """``(errors, reference words)`` summed over ``(hypothesis, reference)`` pairs."""
    errors = words = 0
    for hyp, ref in pairs:
        ref_words = ref.split()
        words += len(ref_words)
        errors += levenshtein(hyp.split(), ref_words)
    return errors, words


def word_error_rate(errors: int, words: int) -> float:
    """errors / words as a fraction (infinite when there are no reference words, like the reference)."""
    return errors / words if words else float("inf")


def result_line(wer: float) -> str:
    """The official printed line for a WER given as a fraction."""
    return f"Word Error Rate: {wer * 100}%, accuracy={(1 - wer) * 100}%"
