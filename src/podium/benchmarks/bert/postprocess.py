"""Start/end logits → one answer text per question, following the MLPerf reference's SQuAD post-processing.

For every feature with a response: pad the logits to the maximum sequence length with -10000, take the 20
highest start and the 20 highest end positions (ties: lower position first), and keep each (start, end) pair
that lies inside the window's paragraph pieces, starts where this window has the maximum context, and spans
1..30 pieces. Over all of a question's features, the pair with the highest start + end logit wins (ties: the
first in feature, start, end order: the reference's stable sort). Its WordPieces are joined back into text
and projected onto the original paragraph words (``final_text``). A question with no valid pair (or no
response at all) gets the reference's placeholder answer "empty".

The reference also builds a 20-best list with probabilities; only its first entry becomes the prediction,
and that entry is always the best pair, so podium computes the best pair alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from podium.benchmarks.bert.features import SquadFeatures
from podium.benchmarks.bert.wordpiece import BertWordPiece

N_BEST_SIZE = 20
MAX_ANSWER_LENGTH = 30
#: The value the reference pads short logit responses with.
PAD_LOGIT = -10000.0
NO_ANSWER = "empty"
_FLOAT32_LE = np.dtype("<f4")


def _top_positions(logits: np.ndarray, n: int) -> np.ndarray:
    # A stable sort on the negated values keeps equal logits in position order, like sorted(reverse=True).
    return np.argsort(-logits, kind="stable")[:n]


def best_span(features: SquadFeatures, feature_rows: np.ndarray, logits: Mapping[int, np.ndarray], *,
              n_best_size: int = N_BEST_SIZE, max_answer_length: int = MAX_ANSWER_LENGTH
              ) -> tuple[int, int, int] | None:
    """The winning ``(feature, start position, end position)`` of one question, or None when nothing is valid.

    ``logits[f]`` is feature ``f``'s response as (positions, 2) start/end logits (float64, padded).
    """
    best: tuple[int, int, int] | None = None
    best_score = -np.inf
    for f in feature_rows.tolist():
        pair = logits.get(f)
        if pair is None:
            continue
        start_logits, end_logits = pair[:, 0], pair[:, 1]
        starts = _top_positions(start_logits, n_best_size)
        ends = _top_positions(end_logits, n_best_size)
        lo = int(features.doc_offset[f])
        hi = lo + int(features.span_length[f])  # window pieces sit at positions lo..hi-1
        ok_start = (starts >= lo) & (starts < hi)
        ok_start[ok_start] = features.max_context[f, starts[ok_start]]
        ok_end = (ends >= lo) & (ends < hi)
        length = ends[None, :] - starts[:, None] + 1
        valid = ok_start[:, None] & ok_end[None, :] & (length >= 1) & (length <= max_answer_length)
        if not valid.any():
            continue
        scores = np.where(valid, start_logits[starts][:, None] + end_logits[ends][None, :], -np.inf)
        k = int(np.argmax(scores))  # first maximum in start-major order = the reference's stable order
        score = float(scores.flat[k])
        if score > best_score:  # strictly greater: an equal score in a later feature ranks after
            best_score = score
            best = (f, int(starts[k // len(ends)]), int(ends[k % len(ends)]))
    return best


def span_text(features: SquadFeatures, tokenizer: BertWordPiece, feature: int, start: int, end: int) -> str:
    """The answer text of a span: WordPieces de-tokenised, then projected onto the original words."""
    ex = features.examples[int(features.example_index[feature])]
    para = features.paragraphs[ex.paragraph_index]
    first = int(features.span_start[feature]) + start - int(features.doc_offset[feature])
    last = int(features.span_start[feature]) + end - int(features.doc_offset[feature])
    tok_text = " ".join(para.pieces[first:last + 1]).replace(" ##", "").replace("##", "")
    tok_text = " ".join(tok_text.strip().split())
    orig_text = " ".join(ex.doc_tokens[int(para.piece_to_word[first]):int(para.piece_to_word[last]) + 1])
    return final_text(tok_text, orig_text, tokenizer)


def _without_spaces(text: str) -> tuple[str, list[int]]:
    """The text with " " removed, and for each kept character its position in the original text."""
    kept = [i for i, c in enumerate(text) if c != " "]
    return "".join(text[i] for i in kept), kept


def final_text(pred_text: str, orig_text: str, tokenizer: BertWordPiece) -> str:
    """Map normalised predicted text back onto the original words (e.g. "steve smith" in "Steve Smith's").

    The original text is basic-tokenised; if the prediction occurs in it and the tokenised and original texts
    have the same characters once spaces are dropped, the prediction's first and last characters are located
    in the original. Whenever that alignment fails, the whole original text is the answer.
    """
    tok_text = " ".join(tokenizer.basic_tokenize(orig_text))
    start = tok_text.find(pred_text)
    if start == -1:
        return orig_text
    end = start + len(pred_text) - 1
    orig_ns, orig_map = _without_spaces(orig_text)
    tok_ns, tok_map = _without_spaces(tok_text)
    if len(orig_ns) != len(tok_ns):
        return orig_text
    tok_to_ns = {pos: i for i, pos in enumerate(tok_map)}
    if start not in tok_to_ns or end not in tok_to_ns:
        return orig_text
    return orig_text[orig_map[tok_to_ns[start]]:orig_map[tok_to_ns[end]] + 1]


def decode_response(raw: bytes, max_seq_length: int, dtype: np.dtype = _FLOAT32_LE) -> np.ndarray | None:
    """A response (positions × 2 start/end logits) as float64, padded to ``max_seq_length``; None if malformed."""
    item = np.dtype(dtype).itemsize
    if len(raw) == 0 or len(raw) % (2 * item) or len(raw) // (2 * item) > max_seq_length:
        return None
    pairs = np.frombuffer(raw, dtype=dtype).reshape(-1, 2).astype(np.float64)
    out = np.full((max_seq_length, 2), PAD_LOGIT, dtype=np.float64)
    out[:len(pairs)] = pairs
    return out


def predictions(features: SquadFeatures, tokenizer: BertWordPiece, logits: Mapping[int, np.ndarray]) -> dict[str, str]:
    """``{question id: answer text}`` for every question (later duplicates of an id overwrite, as in the reference)."""
    out: dict[str, str] = {}
    for e, rows in enumerate(features.features_of()):
        span = best_span(features, rows, logits)
        out[features.examples[e].qas_id] = NO_ANSWER if span is None else span_text(features, tokenizer, *span)
    return out
