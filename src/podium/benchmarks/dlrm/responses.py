"""Running DLRM on a batch of users and turning the predictions into one LoadGen response per user.

``DlrmModelRunner`` wraps a backend: it feeds a ``DlrmBatch`` (all items of a batch of users) to the model
under the input names the model declares, and returns ``[predictions, labels, lengths]``. ``responses``
cuts that back into one payload per user in the reference's layout: float32 pairs ``(prediction, label)``
per item, so the official ``accuracy-dlrm.py`` (default mode) reads podium's accuracy log unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from podium.benchmarks.dlrm.model import INPUT_DENSE, INPUT_INDICES, INPUT_OFFSETS
from podium.benchmarks.dlrm.qsl import DlrmBatch
from podium.errors import PodiumError

_PER_TABLE = re.compile(r"^(offsets|indices)_(\d+)$")


class DlrmModelRunner:
    """Adapts a loaded backend to DLRM batches (what the harness calls ``run`` on).

    Accepts the reference's two ONNX input layouts: ``dense_x`` + ``offsets`` + ``indices`` as ``(26, N)``
    tensors, or one ``offsets_<k>`` / ``indices_<k>`` vector per table.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        names = [spec.name for spec in backend.inputs]
        self._per_table: list[tuple[str, str, int]] = []
        for name in names:
            m = _PER_TABLE.match(name)
            if m:
                self._per_table.append((name, m.group(1), int(m.group(2))))
            elif name not in (INPUT_DENSE, INPUT_OFFSETS, INPUT_INDICES):
                path = getattr(backend, "model_path", None) or "the model"
                raise PodiumError(f"{path}: input {name!r} is not a DLRM input; expected {INPUT_DENSE}, "
                                  f"{INPUT_OFFSETS}, {INPUT_INDICES} (or offsets_<k>/indices_<k>)")
        self._names = names

    @property
    def version(self) -> str | None:
        """The wrapped backend's library version, for result files."""
        return getattr(self.backend, "version", None)

    def feed(self, batch: DlrmBatch) -> dict[str, np.ndarray]:
        """The model inputs for this batch."""
        n = batch.dense.shape[0]
        feed: dict[str, np.ndarray] = {}
        if INPUT_DENSE in self._names:
            feed[INPUT_DENSE] = batch.dense
        if INPUT_INDICES in self._names:
            feed[INPUT_INDICES] = batch.sparse
        if INPUT_OFFSETS in self._names:
            # One id per bag: bag b starts at position b, the same for every table.
            feed[INPUT_OFFSETS] = np.ascontiguousarray(
                np.broadcast_to(np.arange(n, dtype=np.int64), (batch.sparse.shape[0], n)))
        for name, kind, k in self._per_table:
            feed[name] = np.arange(n, dtype=np.int64) if kind == "offsets" else batch.sparse[k]
        return feed

    def run(self, batch: DlrmBatch) -> list[np.ndarray]:
        """``[predictions (M,), labels (M,), items per user]`` for a batch of users."""
        out = self.backend.run(self.feed(batch))[0]
        pred = np.asarray(out, dtype=np.float32).reshape(-1)
        if pred.size != batch.labels.size:
            raise PodiumError(f"DLRM model returned {pred.size} predictions for {batch.labels.size} items")
        return [pred, batch.labels, batch.lengths]


def responses(outputs: list[np.ndarray]) -> list[bytes]:
    """One payload per user: float32 little-endian ``(prediction, label)`` pairs of its items, in order."""
    pred, labels, lengths = outputs
    raw = np.stack([np.asarray(pred, dtype="<f4"), np.asarray(labels, dtype="<f4")], axis=1).tobytes()
    ends = np.cumsum(np.asarray(lengths, dtype=np.int64) * 8).tolist()
    starts = [0] + ends[:-1]
    return [raw[s:e] for s, e in zip(starts, ends)]
