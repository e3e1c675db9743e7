"""DLRM accuracy: ROC AUC over every (prediction, label) pair of the accuracy log, as ``accuracy-dlrm.py``.

The log holds one response per user (QSL index); the first response per index counts. Each response is
float32 pairs ``(prediction, label)`` per item (the reference's default), or predictions only, in which case
the labels come from the data set in trace order (the script's ``--day-23-file`` mode). The AUC is
scikit-learn's ``roc_auc_score``; "accuracy" counts items whose rounded prediction equals the label. The
printed line is the script's::

    AUC=80.250%, accuracy=96.578%, good=..., total=..., queries=...

and, like the submission checker, the pass test compares the printed (3-decimal) AUC with the target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_log

#: ``labels_of(qsl_index)`` gives the ground-truth labels of that user's items (predictions-only logs).
LabelSource = Callable[[int], np.ndarray]


def score_auc(log_path: str | Path, target: float, total_sample_count: int | None = None,
              labels_of: LabelSource | None = None, item_counts: np.ndarray | None = None) -> AccuracyResult:
    """Score a DLRM accuracy log; ``labels_of`` and ``item_counts`` let predictions-only responses be read."""
    from sklearn.metrics import roc_auc_score  # lazy: scikit-learn takes a while to import

    responses = read_accuracy_log(log_path, total_sample_count=total_sample_count, reference="accuracy-dlrm.py")
    preds: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    pairs_mode = 0
    for idx, raw in responses.items():
        if len(raw) % 4:
            raise AccuracyLogError(f"{log_path}: response for qsl_idx {idx} has {len(raw)} bytes, "
                                   "expected float32 values")
        data = np.frombuffer(raw, dtype="<f4")
        items = int(item_counts[idx]) if item_counts is not None else None
        if items is not None and data.size == items and labels_of is not None:
            preds.append(data)
            labels.append(np.asarray(labels_of(idx), dtype=np.float32))
            continue
        if data.size % 2 or (items is not None and data.size != 2 * items):
            want = f"{items} items x 2" if items is not None else "an even number of"
            raise AccuracyLogError(f"{log_path}: response for qsl_idx {idx} has {data.size} float32 values, "
                                   f"expected {want} (prediction, label) values")
        pairs = data.reshape(-1, 2)
        preds.append(pairs[:, 0])
        labels.append(pairs[:, 1])
        pairs_mode += 1
    all_pred = np.concatenate(preds)
    all_true = np.concatenate(labels)
    if all_pred.size == 0:
        raise AccuracyLogError(f"{log_path}: the responses hold no items")
    classes = np.unique(all_true)
    if classes.size < 2:
        raise AccuracyLogError(f"{log_path}: all {all_true.size} labels are {classes[0]:g}; ROC AUC needs both "
                               "clicks and non-clicks")
    auc = float(roc_auc_score(all_true, all_pred))
    good = int(np.count_nonzero(np.round(all_pred) == all_true))  # float32 round-half-even, as numpy in the script
    total = int(all_pred.size)
    line = (f"AUC={100.0 * auc:.3f}%, accuracy={100.0 * good / total:.3f}%, good={good}, total={total}, "
            f"queries={len(responses)}")
    printed = float(f"{100.0 * auc:.3f}")
    return AccuracyResult(
        metric="AUC", value=printed, target=target, passed=printed >= target, line=line,
        details={"roc_auc": auc, "good": good, "total": total, "queries": len(responses),
                 "labels_in_log": pairs_mode == len(responses)},
    )
