"""The MLPerf OpenImages validation subset in the reference layout.

``<data-dir>/annotations/openimages-mlperf.json`` (COCO format, written by the reference's
``openimages_mlperf.sh`` through FiftyOne: 24,781 images, 264 classes) and the images under
``<data-dir>/validation/data/<file_name>``. QSL index ``i`` is the ``i``-th entry of the JSON's ``images``
list, which is also how ``accuracy-openimages.py`` maps a response to its image. The reference skips listed
images whose file is missing, which would shift later indices against that script; podium refuses such a
folder instead and names the first missing file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError

ANNOTATIONS = Path("annotations") / "openimages-mlperf.json"
IMAGES = Path("validation") / "data"
DATA_HINT = ("the MLPerf OpenImages validation subset: annotations/openimages-mlperf.json and "
             "validation/data/*.jpg, made by the reference's vision/classification_and_detection/tools/"
             "openimages_mlperf.sh (MLPerf Inference v2.1), which downloads them through FiftyOne")


@dataclass(frozen=True)
class OpenImagesVal:
    """Image files, ids and sizes (from the annotations) in ``images`` order."""

    root: Path
    annotations: Path
    files: tuple[Path, ...]
    image_ids: tuple[Any, ...]
    sizes: np.ndarray  # (N, 2) int64: height, width as the annotations give them

    def __len__(self) -> int:
        return len(self.files)


def read_images(annotations: Path) -> list[dict[str, Any]]:
    """The ``images`` list of the annotations file, each entry checked for id, file_name, height, width."""
    try:
        doc = json.loads(annotations.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PodiumError(f"{annotations}: not found; --data-dir must hold {DATA_HINT}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PodiumError(f"{annotations}: not readable JSON ({exc})") from None
    images = doc.get("images") if isinstance(doc, dict) else None
    if not isinstance(images, list) or not images:
        raise PodiumError(f"{annotations}: expected a COCO-format object with a non-empty 'images' list")
    seen: set[Any] = set()
    for n, img in enumerate(images):
        if not isinstance(img, dict) or any(k not in img for k in ("id", "file_name", "height", "width")):
            raise PodiumError(f"{annotations}: images[{n}] lacks one of id, file_name, height, width")
        if not all(isinstance(img[k], int) and img[k] > 0 for k in ("height", "width")):
            raise PodiumError(f"{annotations}: images[{n}] has height/width {img['height']!r}/{img['width']!r}, "
                              "expected positive integers")
        if img["id"] in seen:
            raise PodiumError(f"{annotations}: images[{n}] repeats image id {img['id']!r}")
        seen.add(img["id"])
    return images


def open_openimages(data_dir: str | Path) -> OpenImagesVal:
    """The data set in ``data_dir``; raises naming the first missing file."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise PodiumError(f"--data-dir {root}: not a folder; expected {DATA_HINT}")
    annotations = root / ANNOTATIONS
    images = read_images(annotations)
    files = tuple(root / IMAGES / img["file_name"] for img in images)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise PodiumError(f"{annotations} lists {len(files)} images but {len(missing)} are missing, the first "
                          f"{missing[0]}; podium needs every listed image (sample indices follow the list)")
    sizes = np.array([[img["height"], img["width"]] for img in images], dtype=np.int64)
    return OpenImagesVal(root=root, annotations=annotations, files=files,
                         image_ids=tuple(img["id"] for img in images), sizes=sizes)
