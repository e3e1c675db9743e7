"""KiTS19 cases in the reference's pre-processed layouts (NIfTI and pickles) and the case QSL."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.unet3d.kits import KitsCases, KitsDataError, KitsQSL, load_pickle
from podium.errors import PodiumError

nib = pytest.importorskip("nibabel")

AFFINE = np.diag([-1.6, -1.2, 1.2, 1.0])  # the reference's reshaped affine: target spacing (1.6, 1.2, 1.2) mm


def make_case(shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A pre-processed image (1, D, H, W) and its segmentation: a kidney block with a tumor block inside."""
    rng = np.random.default_rng(seed)
    label = np.zeros(shape, dtype=np.uint8)
    d, h, w = shape
    label[d // 4: 3 * d // 4, h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 1
    label[d // 2: 3 * d // 4, h // 2: 3 * h // 4, w // 2: 3 * w // 4] = 2
    image = (rng.normal(0, 0.1, size=shape) + label).astype(np.float32)
    return image[np.newaxis], label


def write_nifti_cases(root: Path, cases: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """``nifti/<case>/imaging.nii.gz`` and ``segmentation.nii.gz``, as the reference's preprocess.py saves."""
    for case, (image, label) in cases.items():
        d = root / "nifti" / case
        d.mkdir(parents=True)
        nib.save(nib.Nifti1Image(np.squeeze(image, 0), affine=AFFINE), str(d / "imaging.nii.gz"))
        nib.save(nib.Nifti1Image(label, affine=AFFINE), str(d / "segmentation.nii.gz"))
    return root


def write_pickles(root: Path, cases: dict[str, tuple[np.ndarray, np.ndarray]], order: list[str]) -> Path:
    """``<case>.pkl`` = [image, label] and ``preprocessed_files.pkl``, as the reference's preprocess.py saves."""
    root.mkdir(parents=True, exist_ok=True)
    aux = {}
    for case, (image, label) in cases.items():
        with open(root / f"{case}.pkl", "wb") as fh:
            pickle.dump([image, label[np.newaxis]], fh)
        aux[case] = {"image_shape": image.shape, "reshaped_affine": AFFINE, "original_affine": AFFINE,
                     "zoom_factor": np.array([1.0, 1.0, 1.0]), "case": case}
    with open(root / "preprocessed_files.pkl", "wb") as fh:
        pickle.dump({"file_list": order, "cases": aux}, fh)
    return root


@pytest.fixture
def two_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {"case_00003": make_case((16, 8, 12), 0), "case_00000": make_case((8, 12, 8), 1)}


def test_nifti_layout(tmp_path: Path, two_cases: dict) -> None:
    cases = KitsCases(write_nifti_cases(tmp_path, two_cases))
    assert cases.cases == ["case_00000", "case_00003"]  # no index file: name order
    assert cases.image_shape(1) == (16, 8, 12)
    img = cases.load_image(1)
    assert img.shape == (1, 16, 8, 12) and img.dtype == np.float32
    assert np.array_equal(img, two_cases["case_00003"][0])
    assert np.array_equal(cases.load_label(0), two_cases["case_00000"][1])
    assert "2 cases" in cases.describe()


def test_pickle_layout_keeps_the_file_list_order(tmp_path: Path, two_cases: dict) -> None:
    root = write_pickles(tmp_path / "pre", two_cases, ["case_00003", "case_00000"])
    cases = KitsCases(root)
    assert cases.cases == ["case_00003", "case_00000"]
    assert cases.image_shape(1) == (8, 12, 8)
    assert np.array_equal(cases.load_image(0), two_cases["case_00003"][0])
    assert np.array_equal(cases.load_label(1), two_cases["case_00000"][1])  # from the pickle: no NIfTI here
    write_nifti_cases(root, {"case_00000": (two_cases["case_00000"][0], np.ones((8, 12, 8), np.uint8))})
    assert cases.load_label(1).sum() == 8 * 12 * 8  # the NIfTI segmentation wins, as in accuracy_kits.py


class _Evil:
    def __reduce__(self):  # would run a command when unpickled by a plain pickle.load
        return (os.system, ("echo pwned",))


def test_pickles_cannot_run_code(tmp_path: Path) -> None:
    p = tmp_path / "preprocessed_files.pkl"
    with open(p, "wb") as fh:
        pickle.dump({"file_list": ["case_00000"], "cases": {"x": _Evil()}}, fh)
    with pytest.raises(KitsDataError, match="refusing to load posix.system|refusing to load os.system"):
        load_pickle(p)
    arrays = tmp_path / "a.pkl"
    with open(arrays, "wb") as fh:
        pickle.dump([np.arange(6, dtype=np.float32).reshape(1, 6), (1, 2)], fh, protocol=5)
    assert load_pickle(arrays)[0].tolist() == [[0, 1, 2, 3, 4, 5]]


def test_missing_or_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(KitsDataError, match="not a folder"):
        KitsCases(tmp_path / "nope")
    with pytest.raises(KitsDataError, match="no cases; expected preprocessed_files.pkl"):
        KitsCases(tmp_path)


def test_qsl_loads_whole_cases(tmp_path: Path, two_cases: dict) -> None:
    cases = KitsCases(write_nifti_cases(tmp_path, two_cases))
    qsl = KitsQSL("3d-unet", cases)
    assert qsl.total_sample_count == qsl.performance_sample_count == 2
    qsl.load_samples([1])
    (vol,) = qsl.get_batch(np.array([1]))
    assert vol.shape == (1, 16, 8, 12)
    with pytest.raises(PodiumError, match="sample 0 was not loaded"):
        qsl.get_batch(np.array([0]))
    with pytest.raises(PodiumError, match="sample index 2"):
        qsl.load_samples([2])
    qsl.unload_samples([1])
    assert qsl.loaded_count == 0
