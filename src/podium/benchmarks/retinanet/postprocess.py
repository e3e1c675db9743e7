"""RetinaNet outputs → the reference's detection records, one float32 array of 7-value rows per image.

Each row is ``image index, ymin, xmin, ymax, xmax, score, label`` with the box divided by the model input's
height/width (the model returns x1, y1, x2, y2 in input pixels), the reference's
``PostProcessOpenImagesRetinanet`` layout; rows stop at the first score below 0.05 (the model already sorts
by score); an image without detections answers with no bytes. Which output is which is decided from the
arrays (boxes: float, last dim 4; labels: integer; scores: the other float), so export order and names do
not matter. The official model handles one image per call (N detections, unbatched); a batched export with
padded (B, N, …) outputs is read too.

The image index is the sample's QSL index, which the outputs do not carry: the harness and the network
client pass the batch's indices (``postprocess(outputs, indices)``). A server post-processing a request
(which carries no indices) cannot make these records; the client post-processes instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from podium.errors import PodiumError

SCORE_THRESHOLD = 0.05
RECORD_SIZE = 7

def split_outputs(outputs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes, scores, labels)`` picked from the model outputs by element type and shape."""
    arrays = [np.asarray(o) for o in outputs]
    ints = [a for a in arrays if a.dtype.kind in "iu"]
    floats = [a for a in arrays if a.dtype.kind == "f"]
    # boxes have one more dimension than scores, so rank (not order or a last dim that happens to be 4) decides
    boxes = max((a for a in floats if a.ndim >= 2 and a.shape[-1] == 4), key=lambda a: a.ndim, default=None)
    scores = next((a for a in floats if a is not boxes), None)
    labels = ints[0] if ints else None
    if boxes is None or scores is None or labels is None:
        shapes = ", ".join(f"{np.asarray(o).dtype}{list(np.shape(o))}" for o in outputs)
        raise PodiumError(f"retinanet post-processing: expected boxes (..., 4), scores and integer labels among the "
                          f"model outputs, got {shapes}")
    return boxes, scores, labels


def image_records(index: int, boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, height: int,
                  width: int) -> bytes:
    """The response of one image: its detections as 7-float32 rows, or no bytes."""
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    below = np.flatnonzero(scores < SCORE_THRESHOLD)
    n = int(below[0]) if below.size else scores.size  # the reference stops at the first low score
    if n == 0:
        return b""
    b = np.asarray(boxes[:n], dtype=np.float32)
    rec = np.empty((n, RECORD_SIZE), dtype=np.float32)
    rec[:, 0] = index
    rec[:, 1] = b[:, 1] / np.float32(height)
    rec[:, 2] = b[:, 0] / np.float32(width)
    rec[:, 3] = b[:, 3] / np.float32(height)
    rec[:, 4] = b[:, 2] / np.float32(width)
    rec[:, 5] = scores[:n]
    rec[:, 6] = np.asarray(labels[:n]).reshape(-1)
    return rec.astype("<f4", copy=False).tobytes()


def detection_responses(outputs: Sequence[np.ndarray], indices: np.ndarray, height: int,
                        width: int) -> list[bytes]:
    """One response per image of the batch, in batch order."""
    boxes, scores, labels = split_outputs(outputs)
    if boxes.ndim == 2:  # the official export: detections of a single image
        if len(indices) != 1:
            raise PodiumError(f"retinanet post-processing: the model returns the detections of one image but the "
                              f"batch holds {len(indices)}; run it with batch size 1")
        return [image_records(int(indices[0]), boxes, scores, labels, height, width)]
    if boxes.ndim != 3 or boxes.shape[0] != len(indices):
        raise PodiumError(f"retinanet post-processing: boxes of shape {list(boxes.shape)} do not match a batch of "
                          f"{len(indices)} images")
    return [image_records(int(i), boxes[k], scores[k], labels[k], height, width) for k, i in enumerate(indices)]
