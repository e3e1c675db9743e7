"""3D-UNet accuracy: per-case DICE of kidney and tumor, averaged over cases, as ``accuracy_kits.py``.

Each logged response is a case's uint8 label volume, reshaped to the case's pre-processed shape and
compared with its ground-truth segmentation. Per class (1 kidney, 2 tumor; background ignored)
``DICE = (2 |P ∩ T| + 1e-6) / (|P| + |T| + 1e-6)``; a case's composite is the mean of the two; the result is
the mean over cases (NaN counted as 0). The printed line is the script's::

    Accuracy: mean = 0.86170, kidney = 0.9347, tumor = 0.7887

and, like the submission checker, the pass test compares the printed (5-decimal) mean with the target.
Every case must have a response (the official script asserts so).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_log

SMOOTH = 1e-6
CLASSES = {"kidney": 1, "tumor": 2}


def dice_scores(prediction: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """``(kidney, tumor)`` DICE of one case (integer counts, then the script's float64 formula)."""
    if prediction.shape != truth.shape:
        raise AccuracyLogError(f"DICE: prediction shape {prediction.shape} differs from ground truth {truth.shape}")
    out = []
    for cls in CLASSES.values():
        p = prediction == cls
        t = truth == cls
        inter = float(np.count_nonzero(p & t))
        out.append((2.0 * inter + SMOOTH) / (float(np.count_nonzero(t)) + float(np.count_nonzero(p)) + SMOOTH))
    return out[0], out[1]


def score_dice(log_path: str | Path, cases: Any, target: float, summary_csv: str | Path | None = None) -> AccuracyResult:
    """Score an accuracy log against ``cases`` (``cases``, ``image_shape(i)``, ``load_label(i)``).

    ``summary_csv`` when given receives the script's ``summary.csv`` (case, kidney, tumor, composite, mean).
    """
    names = list(cases.cases)
    responses = read_accuracy_log(log_path, total_sample_count=len(names), keep="error", reference="accuracy_kits.py")
    missing = [names[i] for i in range(len(names)) if i not in responses]
    if missing:
        raise AccuracyLogError(f"{log_path}: no response for {len(missing)} of {len(names)} cases "
                               f"(first: {missing[0]}); a 3D-UNet accuracy run must cover every case")
    rows: list[tuple[str, float, float, float]] = []
    for i, case in enumerate(names):
        shape = tuple(cases.image_shape(i))
        raw = responses[i]
        if len(raw) != int(np.prod(shape)):
            raise AccuracyLogError(f"{log_path}: response for qsl_idx {i} ({case}) has {len(raw)} bytes, expected "
                                   f"{int(np.prod(shape))} (uint8 label volume of shape {shape})")
        pred = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
        kidney, tumor = dice_scores(pred, cases.load_label(i))
        rows.append((case, kidney, tumor, float(np.mean([kidney, tumor]))))
    table = np.nan_to_num(np.array([r[1:] for r in rows], dtype=np.float64), nan=0.0)  # NaN = a crash = 0
    kidney_m, tumor_m, composite_m = (float(v) for v in table.mean(axis=0))
    line = f"Accuracy: mean = {composite_m:.5f}, kidney = {kidney_m:.4f}, tumor = {tumor_m:.4f}"
    if summary_csv is not None:
        _write_summary(Path(summary_csv), rows, (kidney_m, tumor_m, composite_m))
    printed = float(f"{composite_m:.5f}")
    return AccuracyResult(
        metric="DICE", value=printed, target=target, passed=printed >= target, line=line,
        details={"mean": composite_m, "kidney": kidney_m, "tumor": tumor_m, "cases": len(rows),
                 "per_case": {c: {"kidney": k, "tumor": t, "composite": m} for c, k, t, m in rows}},
    )


def _write_summary(path: Path, rows: list[tuple[str, float, float, float]], means: tuple[float, float, float]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "kidney", "tumor", "composite"])
        w.writerows([[c, repr(k), repr(t), repr(m)] for c, k, t, m in rows])
        w.writerow(["mean", *(repr(v) for v in means)])
