"""Top-1 accuracy of a ResNet50 accuracy log, computed and printed like ``accuracy-imagenet.py`` (v2.1).

Each response is read as an array of the response dtype (float32 unless the run wrote another), the first
value is the label, compared with the ``val_map.txt`` label at the response's QSL index. Duplicated QSL
indices count once (the first response). Output: ``accuracy=76.456%, good=N, total=M`` with three decimals;
the submission checker reads the number back from that line, so PASS/FAIL is decided on the printed value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult, read_accuracy_log
from podium.benchmarks.vision.metrics import checker_passes

#: v2.1 FP32 reference top-1 (percent) and the closed-division fraction, as the submission checker has them.
REFERENCE_ACCURACY = 76.46
TARGET_FRACTION = 0.99


def target() -> float:
    """The threshold the checker computes (reference × fraction)."""
    return REFERENCE_ACCURACY * TARGET_FRACTION


def score_top1(accuracy_log: str | Path, truth: np.ndarray, dtype: np.dtype,
               metric: str = "accuracy") -> AccuracyResult:
    """Score the log against ``truth`` (labels in QSL order); ``dtype`` is the responses' element type."""
    responses = read_accuracy_log(accuracy_log, total_sample_count=int(truth.size), reference="accuracy-imagenet.py")
    good = 0
    empty = 0
    for idx, raw in responses.items():
        usable = len(raw) - len(raw) % dtype.itemsize
        if usable == 0:  # a failed batch completes empty; the official script would crash, podium counts a miss
            empty += 1
            continue
        found = int(np.frombuffer(raw[:dtype.itemsize], dtype=dtype)[0])
        good += int(found == truth[idx])
    total = len(responses)
    value = 100.0 * good / total
    line = f"accuracy={value:.3f}%, good={good}, total={total}"
    tgt = target()
    details = {"good": good, "total": total, "samples_in_dataset": int(truth.size),
               "reference_accuracy": REFERENCE_ACCURACY, "response_dtype": dtype.name}
    if empty:
        details["empty_responses"] = empty
    return AccuracyResult(metric=metric, value=value, target=tgt, passed=checker_passes(value, tgt),
                          line=line, details=details)

