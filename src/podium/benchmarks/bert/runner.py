"""Running BERT batches by sequence length: cut padding off before the model sees it.

SQuAD features are stored padded to 384 positions, but most hold far fewer real tokens. When the loaded
model's sequence dimension is dynamic, ``SequenceLengthRunner`` sorts a batch by real length, splits it into
groups chosen to minimise (tokens computed + a fixed cost per model call), and runs each group cut to its
longest member. Padding is masked out of attention with -10000 (exp gives exactly 0 in float32), so the
logits of real positions are those of the padded run up to floating-point rounding. Responses then hold
one (start, end) pair per real position only; the official accuracy script pads them back to 384 with
-10000, which is harmless since padding positions are never valid answers.

With a fixed-length model (sequence dimension 384 in the file) batches run whole and answers keep 384
positions, exactly as in the reference implementation.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from podium.benchmarks.bert.model import INPUT_NAMES
from podium.errors import PodiumError

#: Cost of one extra model call, in "tokens": a group is split off only when that saves more padded tokens
#: than this. Larger groups also use the matrix units better, so the value errs towards fewer calls.
CALL_COST_TOKENS = 64


def plan_groups(lengths: np.ndarray, call_cost: int = CALL_COST_TOKENS) -> list[np.ndarray]:
    """Batch rows grouped by length: minimises Σ(group size × longest in group) + call_cost × groups.

    Dynamic programming over the rows sorted by length (a group is always a run of that order).
    """
    order = np.argsort(lengths, kind="stable")
    sl = lengths[order].astype(np.int64)
    n = sl.size
    best = np.zeros(n + 1, dtype=np.int64)
    cut = np.zeros(n + 1, dtype=np.int64)
    for j in range(1, n + 1):
        i = np.arange(j)
        cost = best[:j] + (j - i) * sl[j - 1] + call_cost
        k = int(np.argmin(cost))
        best[j], cut[j] = cost[k], k
    groups: list[np.ndarray] = []
    j = n
    while j > 0:
        groups.append(order[cut[j]:j])
        j = int(cut[j])
    return groups[::-1]


def _dynamic_sequence(backend: Any) -> bool:
    """Whether the backend's ``input_ids`` has a non-fixed sequence dimension."""
    try:
        specs = {s.name: s for s in backend.inputs}
    except (AttributeError, PodiumError):  # a backend without specs: assume the safe, fixed-length way
        return False
    spec = specs.get("input_ids")
    return spec is not None and len(spec.shape) == 2 and not isinstance(spec.shape[1], int)


def _output_order(backend: Any) -> tuple[int, int]:
    """Positions of the start and end logits among the outputs (by name when the names say, else 0 and 1)."""
    try:
        names = [s.name.lower() for s in backend.outputs]
    except (AttributeError, PodiumError):
        return 0, 1
    start = next((i for i, n in enumerate(names) if "start" in n), 0)
    end = next((i for i, n in enumerate(names) if "end" in n), 1)
    return (start, end) if start != end else (0, 1)


class SequenceLengthRunner:
    """Wraps a loaded backend; ``run(batch)`` returns ``[start logits, end logits, real lengths]``.

    The logits arrays are (B, longest real length) when the model is dynamic, else (B, stored length); rows
    are in batch order whatever the grouping. ``group_by_length=False`` keeps one call per batch (cut to the
    batch's longest member).
    """

    def __init__(self, backend: Any, *, group_by_length: bool = True, call_cost_tokens: int = CALL_COST_TOKENS) -> None:
        self.backend = backend
        self.dynamic = _dynamic_sequence(backend)
        self.group_by_length = group_by_length
        self.call_cost_tokens = call_cost_tokens
        self._start, self._end = _output_order(backend)
        self.calls = 0
        self.tokens_run = 0
        self._lock = threading.Lock()  # the harness runs batches from several worker threads

    @property
    def inputs(self) -> Any:
        return self.backend.inputs

    @property
    def outputs(self) -> Any:
        return self.backend.outputs

    @property
    def version(self) -> str:
        return str(getattr(self.backend, "version", ""))

    def _call(self, feed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        out = self.backend.run(feed)
        with self._lock:
            self.calls += 1
            self.tokens_run += int(feed["input_ids"].size)
        return out[self._start], out[self._end]

    def run(self, batch: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run one batch of stored features (dict of (B, 384) arrays)."""
        mask = batch["input_mask"]
        lengths = mask.sum(axis=1).astype(np.int64)
        feed = {k: batch[k] for k in INPUT_NAMES}
        if not self.dynamic:
            start, end = self._call(feed)
            return [start, end, np.full(len(lengths), start.shape[1], dtype=np.int64)]
        longest = max(int(lengths.max()), 1)
        groups = (plan_groups(lengths, self.call_cost_tokens) if self.group_by_length and len(lengths) > 1
                  else [np.arange(len(lengths))])
        if len(groups) == 1:
            start, end = self._call({k: v[:, :longest] for k, v in feed.items()})
            return [start, end, lengths]
        start = np.zeros((len(lengths), longest), dtype=np.float32)
        end = np.zeros((len(lengths), longest), dtype=np.float32)
        for rows in groups:
            width = max(int(lengths[rows].max()), 1)
            s, e = self._call({k: v[rows, :width] for k, v in feed.items()})
            start[rows, :width] = s
            end[rows, :width] = e
        return [start, end, lengths]

    def config(self) -> dict[str, Any]:
        """Settings for result files."""
        base = self.backend.config() if hasattr(self.backend, "config") else {}
        return {**base, "sequence_batching": "by length" if self.dynamic and self.group_by_length
                else ("cut to longest" if self.dynamic else "fixed length")}

    def close(self) -> None:
        if hasattr(self.backend, "close"):
            self.backend.close()
