"""The SQuAD v1.1 exact-match and F1 scores, as the official ``evaluate-v1.1.py`` computes and prints them.

Answers are compared after normalisation (lower-case, punctuation removed, the articles a/an/the removed,
whitespace collapsed); a question scores its best match over the ground-truth answers. Every question of the
data set counts: one without a prediction scores 0. The result line is the JSON dict
``{"exact_match": …, "f1": …}`` with Python's full float precision, the form the submission checker reads.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping

from podium.benchmarks.bert.squad import SquadExample, SquadFormatError

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, replace articles by a space, collapse whitespace (the official order)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(prediction: str, truth: str) -> float:
    """Token-overlap F1 of two answers after normalisation (0 when they share no token)."""
    pred = normalize_answer(prediction).split()
    gold = normalize_answer(truth).split()
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0
    precision = 1.0 * same / len(pred)
    recall = 1.0 * same / len(gold)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction: str, truth: str) -> bool:
    """Whether two answers are equal after normalisation."""
    return normalize_answer(prediction) == normalize_answer(truth)


def evaluate(examples: Iterable[SquadExample], predictions: Mapping[str, str]) -> dict[str, float]:
    """``{"exact_match": %, "f1": %}`` over all questions, summed in data-set order like the official script."""
    f1, exact, total = 0.0, 0, 0
    for ex in examples:
        total += 1
        if ex.qas_id not in predictions:
            continue
        pred = predictions[ex.qas_id]
        if not ex.answers:
            raise SquadFormatError(f"question {ex.qas_id}: no ground-truth answers to score against")
        exact += max(exact_match_score(pred, truth) for truth in ex.answers)
        f1 += max(f1_score(pred, truth) for truth in ex.answers)
    if total == 0:
        return {"exact_match": 0.0, "f1": 0.0}
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


def result_line(scores: Mapping[str, float]) -> str:
    """The printed result: ``json.dumps`` of the dict, exact_match first (the checker's regex needs that order)."""
    return json.dumps({"exact_match": scores["exact_match"], "f1": scores["f1"]})
