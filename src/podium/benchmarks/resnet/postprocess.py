"""ResNet50 outputs → the predicted ImageNet label (0..999) as response bytes, the reference way.

The official ONNX model has 1001 classes with background at 0 and returns both ``ArgMax:0`` (int64) and
``softmax_tensor:0``; the reference takes the arg-max and adds an offset of -1 (``PostProcessCommon(
offset=-1)``), then writes each label as a float32 (``np.array([label], np.float32).tobytes()``), which is why
``accuracy-imagenet.py`` reads float32 unless told ``--dtype int32|int64``. Which output is which is decided
from the arrays, not from names: an integer vector is the arg-max, a float matrix the scores; its width
gives the offset (1001 → -1, 1000 → 0). A model with only an arg-max output is taken as the official 1001-class
layout, as the reference does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from podium.errors import PodiumError

RESPONSE_DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "int64": np.dtype("<i8")}
BACKGROUND_CLASSES = 1001


def response_dtype(name: str) -> np.dtype:
    """The response element type for a name ``accuracy-imagenet.py --dtype`` accepts."""
    if name not in RESPONSE_DTYPES:
        raise PodiumError(f"resnet response dtype {name!r}: expected one of {', '.join(RESPONSE_DTYPES)}")
    return RESPONSE_DTYPES[name]


def predicted_labels(outputs: list[np.ndarray]) -> np.ndarray:
    """The label per sample (int64, 0-based ImageNet classes) from one batch of model outputs."""
    argmax: np.ndarray | None = None
    scores: np.ndarray | None = None
    for out in outputs:
        arr = np.asarray(out)
        if arr.dtype.kind in "iu" and (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
            argmax = arr.reshape(-1) if argmax is None else argmax
        elif arr.dtype.kind == "f" and arr.ndim == 2 and arr.shape[1] > 1:
            scores = arr if scores is None else scores
    if argmax is None and scores is None:
        shapes = ", ".join(f"{np.asarray(o).dtype}{list(np.shape(o))}" for o in outputs)
        raise PodiumError(f"resnet post-processing: expected an integer arg-max vector or an (N, classes) score "
                          f"matrix among the model outputs, got {shapes}")
    classes = scores.shape[1] if scores is not None else BACKGROUND_CLASSES
    offset = -1 if classes == BACKGROUND_CLASSES else 0
    raw = argmax if argmax is not None else scores.argmax(axis=1)  # type: ignore[union-attr]
    return raw.astype(np.int64) + offset


def label_responses(labels: np.ndarray, dtype: np.dtype) -> list[bytes]:
    """One response per label: the label as a single little-endian ``dtype`` value."""
    raw = np.asarray(labels).astype(dtype).tobytes()
    size = dtype.itemsize
    return [raw[i:i + size] for i in range(0, len(raw), size)]
