"""Tiny vision data sets in the official layouts, made from scikit-image's bundled photos.

``write_imagenet_val`` writes JPEGs and a ``val_map.txt`` like the ImageNet validation folder;
``write_openimages`` writes JPEGs under ``validation/data`` and ``annotations/openimages-mlperf.json`` with
boxes the tests choose. Also helpers to write ``mlperf_log_accuracy.json`` files with known content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

skimage_data = pytest.importorskip("skimage.data")
cv2 = pytest.importorskip("cv2")


def photos() -> dict[str, np.ndarray]:
    """RGB (or grayscale) uint8 photos of several shapes: landscape, portrait, square, odd sizes, gray."""
    astronaut = skimage_data.astronaut()
    return {
        "astronaut": astronaut,                      # 512 x 512 square
        "coffee": skimage_data.coffee(),             # 400 x 600 landscape
        "chelsea": skimage_data.chelsea(),           # 300 x 451 landscape, odd width
        "portrait": astronaut[:, 101:400],           # 512 x 299 portrait, odd width
        "camera": skimage_data.camera(),             # 512 x 512 grayscale
        "rocket": skimage_data.rocket(),             # 427 x 640 landscape, odd height
    }


def write_jpeg(path: Path, image: np.ndarray) -> Path:
    """Write an RGB or grayscale array as a JPEG (OpenCV wants BGR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


IMAGENET_LABELS = {"astronaut": 834, "coffee": 967, "chelsea": 285, "portrait": 834, "camera": 759, "rocket": 657}


def write_imagenet_val(root: Path) -> tuple[Path, list[str], list[int]]:
    """An ImageNet-style validation folder: ``ILSVRC2012_val_0000000N.JPEG`` files and ``val_map.txt``."""
    names, labels = [], []
    for n, (key, image) in enumerate(photos().items(), start=1):
        name = f"ILSVRC2012_val_{n:08d}.JPEG"
        write_jpeg(root / name, image)
        names.append(name)
        labels.append(IMAGENET_LABELS[key])
    (root / "val_map.txt").write_text("".join(f"{n} {lb}\n" for n, lb in zip(names, labels)))
    return root, names, labels


#: Category ids are not 0-based on purpose: responses carry them as labels, unmapped.
OPENIMAGES_CATEGORIES = [{"id": 3, "name": "Human face"}, {"id": 7, "name": "Cat"}, {"id": 11, "name": "Mug"}]


def write_openimages(root: Path, boxes: dict[str, list[tuple[int, list[float]]]] | None = None) -> Path:
    """An OpenImages-MLPerf-style folder; ``boxes`` maps a photo to ``(category id, [x, y, w, h])`` list."""
    boxes = boxes if boxes is not None else DEFAULT_BOXES
    images, annotations = [], []
    for n, (key, image) in enumerate((k, photos()[k]) for k in boxes):
        file_name = f"{n:016x}.jpg"
        write_jpeg(root / "validation" / "data" / file_name, image)
        images.append({"id": 100 + n, "file_name": file_name, "height": int(image.shape[0]),
                       "width": int(image.shape[1])})
        for cat, bbox in boxes[key]:
            annotations.append({"id": len(annotations) + 1, "image_id": 100 + n, "category_id": cat,
                                "bbox": list(map(float, bbox)), "area": float(bbox[2] * bbox[3]),
                                "iscrowd": 0, "IsGroupOf": 0})
    ann = root / "annotations" / "openimages-mlperf.json"
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(json.dumps({"images": images, "annotations": annotations,
                               "categories": OPENIMAGES_CATEGORIES}))
    return root


DEFAULT_BOXES: dict[str, list[tuple[int, list[float]]]] = {
    "astronaut": [(3, [168.0, 48.0, 96.0, 128.0])],
    "chelsea": [(7, [40.0, 20.0, 300.0, 260.0])],
    "coffee": [(11, [100.0, 50.0, 400.0, 300.0]), (11, [20.0, 300.0, 80.0, 60.0])],
}


def write_accuracy_log(path: Path, entries: list[tuple[int, bytes]]) -> Path:
    """``mlperf_log_accuracy.json`` in LoadGen's layout from ``(qsl_idx, response bytes)`` pairs."""
    lines = [f'{{ "seq_id" : {s}, "qsl_idx" : {q}, "data" : "{d.hex().upper()}" }}' for s, (q, d) in
             enumerate(entries)]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n")
    return path


def detection_bytes(qsl_idx: int, dets: list[tuple[list[float], float, int]], height: int, width: int) -> bytes:
    """Reference detection records for boxes given as COCO ``[x, y, w, h]`` pixels on an image."""
    rows = []
    for (x, y, w, h), score, label in dets:
        rows.append([qsl_idx, y / height, x / width, (y + h) / height, (x + w) / width, score, label])
    return np.asarray(rows, dtype="<f4").tobytes()


def annotations_of(root: Path) -> dict[str, Any]:
    """The annotations file written by ``write_openimages``."""
    return json.loads((root / "annotations" / "openimages-mlperf.json").read_text())
