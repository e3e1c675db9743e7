"""The ImageNet 2012 validation set in the reference layout: a folder with ``val_map.txt`` and the images.

``val_map.txt`` holds one ``<file name> <label>`` line per image (labels 0..999); QSL index ``i`` is the
``i``-th line, which is also how the official ``accuracy-imagenet.py`` looks labels up. The reference skips
listed images that are missing, which would shift every later index against that script, so podium instead
refuses a folder with missing images and names the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.errors import PodiumError

VAL_MAP = "val_map.txt"
#: Where the official data comes from, for error messages (podium never downloads it).
DATA_HINT = ("an ImageNet 2012 validation folder: the 50,000 ILSVRC2012_val_*.JPEG files (image-net.org, "
             "registration needed) and val_map.txt with one '<file> <label 0..999>' line each")


@dataclass(frozen=True)
class ImageNetVal:
    """File paths and labels of the validation images, in ``val_map.txt`` order."""

    root: Path
    files: tuple[Path, ...]
    labels: np.ndarray  # int64, one per file

    def __len__(self) -> int:
        return len(self.files)


def read_val_map(path: str | Path) -> tuple[list[str], np.ndarray]:
    """``(names, labels)`` from a ``val_map.txt``; blank lines are skipped, anything else malformed raises."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PodiumError(f"{p}: not found; --data-dir must be {DATA_HINT}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PodiumError(f"{p}: cannot read ({exc})") from None
    names: list[str] = []
    labels: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
        cols = line.split()
        if not cols:
            continue
        if len(cols) != 2:
            raise PodiumError(f"{p} line {n}: expected '<file name> <label>', got {line.strip()!r}")
        try:
            label = int(cols[1])
        except ValueError:
            raise PodiumError(f"{p} line {n}: label {cols[1]!r} is not an integer") from None
        if label < 0:
            raise PodiumError(f"{p} line {n}: label {label} is negative, expected 0..999")
        names.append(cols[0])
        labels.append(label)
    if not names:
        raise PodiumError(f"{p}: no '<file name> <label>' lines")
    return names, np.asarray(labels, dtype=np.int64)


def open_imagenet_val(data_dir: str | Path) -> ImageNetVal:
    """The validation set in ``data_dir``; raises naming the first missing image."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise PodiumError(f"--data-dir {root}: not a folder; expected {DATA_HINT}")
    names, labels = read_val_map(root / VAL_MAP)
    files = tuple(root / name for name in names)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise PodiumError(f"{root / VAL_MAP} lists {len(files)} images but {len(missing)} are missing, the first "
                          f"{missing[0]}; podium needs every listed image (sample indices follow the list)")
    return ImageNetVal(root=root, files=files, labels=labels)
