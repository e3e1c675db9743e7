"""mAP of a RetinaNet accuracy log, computed like ``accuracy-openimages.py`` (v2.1) with pycocotools.

Per unique QSL index (first response wins): fewer than 7 floats means no detections (the image still counts);
otherwise 7-float rows ``image index, ymin, xmin, ymax, xmax, score, label`` whose box is scaled by the
image's height/width from the annotations (float32 arithmetic, as the script does it) and becomes a COCO
result ``[x, y, w, h]`` with ``category_id = int(label)`` (or the inverse label map with ``use_inv_map``).
COCOeval bbox over the images seen; the metric is ``stats[0]`` (AP at IoU .50:.95). Output: the COCO
summary table, then ``mAP=37.552%``; PASS/FAIL uses the printed value, as the submission checker does.
A row whose image index differs from its QSL index is reported like the script's ``ERROR`` line; the
script crashes on a log without any detection, where podium scores 0.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_log
from podium.benchmarks.retinanet.postprocess import RECORD_SIZE
from podium.benchmarks.vision import deps
from podium.benchmarks.vision.metrics import checker_passes

REFERENCE_MAP = 37.55
TARGET_FRACTION = 0.99


def target() -> float:
    """The threshold the checker computes (reference × fraction)."""
    return REFERENCE_MAP * TARGET_FRACTION


@dataclass(frozen=True)
class DetectionAccuracyResult(AccuracyResult):
    """An ``AccuracyResult`` whose ``accuracy.txt`` also holds the COCO summary table, like the script's."""

    summary: str = ""

    @property
    def accuracy_txt(self) -> str:
        return self.summary + self.line + "\n"


def score_map(accuracy_log: str | Path, annotations: Path, use_inv_map: bool = False,
              metric: str = "mAP") -> DetectionAccuracyResult:
    """Score the log against ``annotations`` (``openimages-mlperf.json``)."""
    COCO, COCOeval = deps.pycocotools()
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):  # pycocotools prints progress with timings; keep output stable
        coco_gt = COCO(str(annotations))
    images = coco_gt.dataset["images"]
    responses = read_accuracy_log(accuracy_log, total_sample_count=len(images), reference="accuracy-openimages.py")
    inv_map = [0] + coco_gt.getCatIds() if use_inv_map else None
    detections: list[dict[str, Any]] = []
    image_ids: set[Any] = set()
    errors: list[str] = []
    no_results = 0
    for idx, raw in responses.items():
        image = images[idx]
        image_ids.add(image["id"])
        data = np.frombuffer(raw[: len(raw) - len(raw) % 4], dtype="<f4")
        if data.size < RECORD_SIZE:
            no_results += 1
            continue
        if data.size % RECORD_SIZE:
            raise AccuracyLogError(f"{accuracy_log}: response for qsl_idx {idx} has {data.size} floats, expected a "
                                   f"multiple of {RECORD_SIZE} (image index, ymin, xmin, ymax, xmax, score, label)")
        rows = data.reshape(-1, RECORD_SIZE)
        for payload_idx in rows[:, 0].astype(np.int64).tolist():
            if payload_idx != idx:
                errors.append(f"ERROR: loadgen({idx}) and payload({payload_idx}) disagree on image_idx")
        height, width = image["height"], image["width"]
        ymin, xmin = rows[:, 1] * height, rows[:, 2] * width  # float32 × int stays float32, as in the script
        ymax, xmax = rows[:, 3] * height, rows[:, 4] * width
        boxes = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], axis=1).tolist()
        labels = rows[:, 6].astype(np.int64).tolist()
        if inv_map is not None:
            bad = [lb for lb in labels if not 0 <= lb < len(inv_map)]
            if bad:
                raise AccuracyLogError(f"{accuracy_log}: response for qsl_idx {idx} has label {bad[0]}, outside the "
                                       f"inverse label map 0..{len(inv_map) - 1}")
            labels = [inv_map[lb] for lb in labels]
        for box, score, label in zip(boxes, rows[:, 5].tolist(), labels):
            detections.append({"image_id": image["id"], "category_id": label, "bbox": box, "score": score})

    summary = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        coco_dt = coco_gt.loadRes(detections) if detections else _empty_results(COCO, coco_gt)
        evaluator = COCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluator.params.imgIds = list(image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
    with contextlib.redirect_stdout(summary):
        evaluator.summarize()
    value = 100.0 * float(evaluator.stats[0])
    line = f"mAP={value:.3f}%"
    tgt = target()
    text = "".join(e + "\n" for e in errors) + summary.getvalue()
    details = {"images": len(image_ids), "detections": len(detections), "images_without_detections": no_results,
               "samples_in_dataset": len(images), "reference_map": REFERENCE_MAP,
               "coco_stats": [float(s) for s in evaluator.stats]}
    if errors:
        details["image_index_mismatches"] = len(errors)
    return DetectionAccuracyResult(metric=metric, value=value, target=tgt, passed=checker_passes(value, tgt),
                                   line=line, details=details, summary=text)


def _empty_results(COCO: Any, coco_gt: Any) -> Any:
    """A result set with no detections (``loadRes`` cannot build one from an empty list)."""
    empty = COCO()
    empty.dataset = {"images": list(coco_gt.dataset["images"]), "categories": list(coco_gt.dataset["categories"]),
                     "annotations": []}
    empty.createIndex()
    return empty
