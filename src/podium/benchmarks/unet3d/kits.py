"""KiTS19 cases as the 3D-UNet reference pre-processes them, and the QSL over them.

Accepted layouts of ``--data-dir`` (the reference's ``build/preprocessed_data``):

- ``preprocessed_files.pkl`` (``{"file_list": [case, ...], "cases": {case: {"image_shape": ..., ...}}}``)
  with ``<case>.pkl`` (``[image (1, D, H, W) float32, label (1, D, H, W) uint8]``) and/or
  ``nifti/<case>/imaging.nii.gz`` + ``segmentation.nii.gz``; QSL index = position in ``file_list``.
- NIfTI only: ``nifti/<case>/imaging.nii.gz`` (or ``<case>/imaging.nii.gz``), cases in name order.

Images are already resampled, clipped, normalised and padded by the reference's ``preprocess.py``; podium
only reads them. Ground truth is ``nifti/<case>/segmentation.nii.gz`` when present (what the official
accuracy script reads), else the label in ``<case>.pkl``. NIfTI needs nibabel (``pip install
'podium[medical]'``). Pickles are read with an unpickler that only builds numpy arrays and plain
containers, so a crafted file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError

INDEX_FILE = "preprocessed_files.pkl"
NIFTI_DIR = "nifti"
IMAGE_FILE = "imaging.nii.gz"
LABEL_FILE = "segmentation.nii.gz"

_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
}


class KitsDataError(PodiumError):
    """A KiTS19 file is missing or not in the reference's pre-processed format."""


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS or (module == "numpy" and name.endswith("DType")) or (
                module.startswith("numpy.dtypes") and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays are expected)")


def load_pickle(path: Path) -> Any:
    """Unpickle ``path`` allowing only numpy arrays, scalars and built-in containers."""
    try:
        with open(path, "rb") as fh:
            return _ArraysOnlyUnpickler(io.BufferedReader(fh)).load()
    except FileNotFoundError:
        raise KitsDataError(f"{path}: file not found") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError) as exc:
        raise KitsDataError(f"{path}: not a reference pre-processing pickle ({exc})") from None


def _nibabel() -> Any:
    try:
        import nibabel
    except ImportError:
        raise KitsDataError("reading NIfTI files needs nibabel: pip install 'podium[medical]'") from None
    return nibabel


class KitsCases:
    """The cases of a pre-processed KiTS19 folder, in QSL order."""

    def __init__(self, data_dir: str | Path) -> None:
        d = Path(data_dir).expanduser()
        if not d.is_dir():
            raise KitsDataError(f"--data-dir {d}: not a folder")
        self.root = d
        self._aux: dict[str, dict[str, Any]] = {}
        index = d / INDEX_FILE
        if index.is_file():
            content = load_pickle(index)
            if not isinstance(content, dict) or not isinstance(content.get("file_list"), (list, tuple)):
                raise KitsDataError(f"{index}: expected a dict with 'file_list' (and 'cases')")
            self.cases = [str(c) for c in content["file_list"]]
            aux = content.get("cases") or {}
            self._aux = {str(k): v for k, v in aux.items() if isinstance(v, dict)}
            self.layout = "reference pre-processed (preprocessed_files.pkl)"
        else:
            nifti = d / NIFTI_DIR if (d / NIFTI_DIR).is_dir() else d
            self.cases = sorted(p.name for p in nifti.iterdir() if (p / IMAGE_FILE).is_file())
            self.layout = f"NIfTI ({nifti})"
        if not self.cases:
            raise KitsDataError(f"--data-dir {d}: no cases; expected {INDEX_FILE} or "
                                f"{NIFTI_DIR}/<case>/{IMAGE_FILE} (KiTS19 pre-processed by the reference)")

    def __len__(self) -> int:
        return len(self.cases)

    def _nifti(self, case: str, file: str) -> Path | None:
        for base in (self.root / NIFTI_DIR / case, self.root / case):
            if (base / file).is_file():
                return base / file
        return None

    def image_shape(self, index: int) -> tuple[int, int, int]:
        """``(D, H, W)`` of a case, from the index file or the NIfTI header (no voxels read)."""
        case = self.cases[index]
        shape = self._aux.get(case, {}).get("image_shape")
        if shape is not None:
            return tuple(int(s) for s in shape)[-3:]  # type: ignore[return-value]
        path = self._nifti(case, IMAGE_FILE) or self._nifti(case, LABEL_FILE)
        if path is not None:
            return tuple(int(s) for s in _nibabel().load(str(path)).shape)[:3]  # type: ignore[return-value]
        return tuple(self._case_pickle(case)[0].shape[-3:])

    def load_image(self, index: int) -> np.ndarray:
        """The pre-processed image ``(1, D, H, W)`` float32."""
        case = self.cases[index]
        pkl = self.root / f"{case}.pkl"
        if pkl.is_file():
            image = np.asarray(self._case_pickle(case)[0], dtype=np.float32)
        else:
            path = self._nifti(case, IMAGE_FILE)
            if path is None:
                raise KitsDataError(f"{self.root}: case {case} has neither {case}.pkl nor "
                                    f"{NIFTI_DIR}/{case}/{IMAGE_FILE}")
            image = np.asarray(_nibabel().load(str(path)).get_fdata(dtype=np.float32), dtype=np.float32)
        image = image.reshape(1, *image.shape[-3:]) if image.ndim in (3, 4) else image
        if image.ndim != 4 or image.shape[0] != 1:
            raise KitsDataError(f"{self.root}: case {case} image has shape {image.shape}, expected (1, D, H, W)")
        return np.ascontiguousarray(image)

    def load_label(self, index: int) -> np.ndarray:
        """Ground-truth segmentation ``(D, H, W)`` uint8: 0 background, 1 kidney, 2 tumor."""
        case = self.cases[index]
        path = self._nifti(case, LABEL_FILE)
        if path is not None:
            # get_fdata then uint8, as the official accuracy script reads it
            return np.asarray(_nibabel().load(str(path)).get_fdata(), dtype=np.float64).astype(np.uint8)
        if (self.root / f"{case}.pkl").is_file():
            label = np.asarray(self._case_pickle(case)[1])
            return label.reshape(label.shape[-3:]).astype(np.uint8)
        raise KitsDataError(f"{self.root}: case {case} has no ground truth ({NIFTI_DIR}/{case}/{LABEL_FILE} "
                            f"or {case}.pkl)")

    def _case_pickle(self, case: str) -> Sequence[Any]:
        content = load_pickle(self.root / f"{case}.pkl")
        if not isinstance(content, (list, tuple)) or len(content) < 1:
            raise KitsDataError(f"{self.root / f'{case}.pkl'}: expected [image, label] arrays")
        return content

    def describe(self) -> str:
        """One line for labels: folder, layout and case count."""
        return f"KiTS19 {self.layout}, {len(self)} cases"


class KitsQSL:
    """The QSL over cases (``podium.loadgen.types.QuerySampleLibrary``); ``get_batch`` gives a list of
    ``(1, D, H, W)`` volumes, one per index (cases differ in shape, so they are not stacked)."""

    def __init__(self, name: str, source: Any, performance_sample_count: int | None = None) -> None:
        self.name = name
        self.source = source  # anything with __len__ and load_image(index)
        self.total_sample_count = len(source)
        pc = performance_sample_count or self.total_sample_count
        self.performance_sample_count = int(min(pc, self.total_sample_count))
        self._loaded: dict[int, np.ndarray] = {}

    def load_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        for i in self._check(indices, "load_samples"):
            if i not in self._loaded:
                self._loaded[i] = self.source.load_image(i)

    def unload_samples(self, indices: Sequence[int] | np.ndarray) -> None:
        for i in self._check(indices, "unload_samples"):
            self._loaded.pop(i, None)

    @property
    def loaded_count(self) -> int:
        """Cases held in memory now."""
        return len(self._loaded)

    def get_batch(self, indices: np.ndarray) -> list[np.ndarray]:
        """The loaded volumes of these cases, in order."""
        out = []
        for i in np.asarray(indices, dtype=np.int64).reshape(-1).tolist():
            vol = self._loaded.get(i)
            if vol is None:
                if not 0 <= i < self.total_sample_count:
                    raise PodiumError(f"QSL {self.name}: sample index {i} out of range, expected "
                                      f"0..{self.total_sample_count - 1}")
                raise PodiumError(f"QSL {self.name}: sample {i} was not loaded (load_samples first)")
            out.append(vol)
        return out

    def _check(self, indices: Sequence[int] | np.ndarray, what: str) -> list[int]:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = idx[(idx < 0) | (idx >= self.total_sample_count)]
        if bad.size:
            raise PodiumError(f"QSL {self.name}: {what} got sample index {bad[0]}, expected "
                              f"0..{self.total_sample_count - 1}")
        return idx.tolist()
