"""SQuAD questions → fixed-length BERT inputs ("features"), with the sliding window of the MLPerf reference.

For each question: the question's WordPieces (at most ``max_query_length``), then the paragraph's WordPieces
cut into windows ("doc spans") of at most ``max_seq_length - query - 3`` pieces, a new window starting
``doc_stride`` pieces after the previous one until the end is covered. Each window is one feature:
``[CLS] question [SEP] window [SEP]`` zero-padded to ``max_seq_length``, segment 0 for the question part and
1 for the window. Features are numbered in question order and window order; that number is the QSL index.
With the official settings (384 / 128 / 64) the SQuAD v1.1 dev set gives 10,833 features.

Besides the model inputs, each feature keeps what the answer post-processing needs: its question, where its
window starts and how long it is, and for every window position whether this window gives that paragraph
piece its "maximum context" (the window where the piece has the most text on its poorer side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from podium.benchmarks.bert.squad import SquadExample
from podium.benchmarks.bert.wordpiece import CLS, SEP, BertWordPiece

MAX_SEQ_LENGTH = 384
DOC_STRIDE = 128
MAX_QUERY_LENGTH = 64


@dataclass
class TokenizedParagraph:
    """A paragraph's WordPieces and, for each piece, the index of the paragraph word it came from."""

    pieces: list[str]
    ids: np.ndarray
    piece_to_word: np.ndarray


@dataclass
class SquadFeatures:
    """All features of a SQuAD file: model inputs as (N, max_seq_length) int64 arrays plus span bookkeeping.

    ``doc_offset[i]`` is the position of the window's first piece in feature ``i`` (question length + 2);
    ``span_start[i]`` / ``span_length[i]`` locate the window in its paragraph's pieces; ``max_context[i, p]``
    tells whether position ``p`` holds a piece for which this window is the maximum-context one.
    """

    examples: list[SquadExample]
    paragraphs: dict[int, TokenizedParagraph]
    input_ids: np.ndarray
    input_mask: np.ndarray
    segment_ids: np.ndarray
    example_index: np.ndarray
    doc_offset: np.ndarray
    span_start: np.ndarray
    span_length: np.ndarray
    max_context: np.ndarray
    max_seq_length: int = MAX_SEQ_LENGTH
    settings: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def model_inputs(self, rows: np.ndarray | slice = slice(None)) -> dict[str, np.ndarray]:
        """``{"input_ids", "input_mask", "segment_ids"}`` for those feature rows (copies)."""
        return {"input_ids": self.input_ids[rows], "input_mask": self.input_mask[rows],
                "segment_ids": self.segment_ids[rows]}

    def features_of(self) -> list[np.ndarray]:
        """For each example, the feature numbers that belong to it (ascending)."""
        order = np.argsort(self.example_index, kind="stable")
        bounds = np.searchsorted(self.example_index[order], np.arange(len(self.examples) + 1))
        return [order[bounds[e]:bounds[e + 1]] for e in range(len(self.examples))]


def doc_spans(n_pieces: int, max_tokens_for_doc: int, doc_stride: int) -> list[tuple[int, int]]:
    """``(start, length)`` windows covering ``n_pieces`` pieces (none when the paragraph has no pieces)."""
    spans: list[tuple[int, int]] = []
    start = 0
    while start < n_pieces:
        length = min(n_pieces - start, max_tokens_for_doc)
        spans.append((start, length))
        if start + length == n_pieces:
            break
        start += min(length, doc_stride)
    return spans


def max_context_owner(spans: list[tuple[int, int]], n_pieces: int) -> np.ndarray:
    """For each paragraph piece, the window in which it has the most context (first window on ties).

    A piece's score in a window is min(pieces to its left, pieces to its right) + 0.01 × window length.
    """
    owner = np.full(n_pieces, -1, dtype=np.int64)
    if not spans or n_pieces == 0:
        return owner
    pos = np.arange(n_pieces, dtype=np.float64)
    scores = np.full((len(spans), n_pieces), -np.inf)
    for s, (start, length) in enumerate(spans):
        end = start + length - 1
        inside = (pos >= start) & (pos <= end)
        scores[s, inside] = np.minimum(pos[inside] - start, end - pos[inside]) + 0.01 * length
    owner[:] = scores.argmax(axis=0)  # argmax keeps the first maximum, as the reference's strict ">" does
    return owner


def convert_examples(examples: list[SquadExample], tokenizer: BertWordPiece, *,
                     max_seq_length: int = MAX_SEQ_LENGTH, doc_stride: int = DOC_STRIDE,
                     max_query_length: int = MAX_QUERY_LENGTH) -> SquadFeatures:
    """Tokenise every example and cut it into features (see the module docstring)."""
    cls_id, sep_id = tokenizer.token_id(CLS), tokenizer.token_id(SEP)
    paragraphs: dict[int, TokenizedParagraph] = {}
    rows: list[tuple[int, int, int, int, list[int], np.ndarray]] = []
    for e, ex in enumerate(examples):
        para = paragraphs.get(ex.paragraph_index)
        if para is None:  # a paragraph is shared by ~5 questions: tokenise it once
            wp = tokenizer.tokenize_words(ex.doc_tokens)
            para = TokenizedParagraph(wp.tokens, np.asarray(wp.ids, dtype=np.int64),
                                      np.asarray(wp.word_index, dtype=np.int64))
            paragraphs[ex.paragraph_index] = para
        query_ids = tokenizer.tokenize(ex.question).ids[:max_query_length]
        max_tokens_for_doc = max_seq_length - len(query_ids) - 3
        n = len(para.pieces)
        spans = doc_spans(n, max_tokens_for_doc, doc_stride)
        owner = max_context_owner(spans, n)
        for s, (start, length) in enumerate(spans):
            ids = [cls_id, *query_ids, sep_id, *para.ids[start:start + length].tolist(), sep_id]
            rows.append((e, len(query_ids) + 2, start, length, ids, owner[start:start + length] == s))

    count = len(rows)
    input_ids = np.zeros((count, max_seq_length), dtype=np.int64)
    input_mask = np.zeros((count, max_seq_length), dtype=np.int64)
    segment_ids = np.zeros((count, max_seq_length), dtype=np.int64)
    max_context = np.zeros((count, max_seq_length), dtype=bool)
    meta = np.zeros((count, 4), dtype=np.int64)
    for i, (e, offset, start, length, ids, is_max) in enumerate(rows):
        n_ids = len(ids)
        input_ids[i, :n_ids] = ids
        input_mask[i, :n_ids] = 1
        segment_ids[i, offset:n_ids] = 1
        max_context[i, offset:offset + length] = is_max
        meta[i] = (e, offset, start, length)
    return SquadFeatures(
        examples=examples, paragraphs=paragraphs, input_ids=input_ids, input_mask=input_mask,
        segment_ids=segment_ids, example_index=meta[:, 0].copy(), doc_offset=meta[:, 1].copy(),
        span_start=meta[:, 2].copy(), span_length=meta[:, 3].copy(), max_context=max_context,
        max_seq_length=max_seq_length,
        settings={"max_seq_length": max_seq_length, "doc_stride": doc_stride, "max_query_length": max_query_length},
    )
