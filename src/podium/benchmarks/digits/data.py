"""The digits data set (scikit-learn's bundled 1,797 labelled 8×8 images) and its fixed train/test split.

The split is stratified and seeded: draw one permutation of all sample indices with
``numpy.random.RandomState(SPLIT_SEED)`` (the legacy generator, whose stream NumPy keeps stable across
versions), then for each class 0..9 put the first ``round(TEST_FRACTION × class size)`` of its members in
permutation order into the test split. That gives 539 test and 1,258 training images. QSL index ``i`` is
the ``i``-th test image in data-set order.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

SPLIT_SEED = 0
TEST_FRACTION = 0.3


@functools.lru_cache(maxsize=1)
def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All images as float64 (1797, 8, 8) with values 0..16, and int64 labels (read-only arrays)."""
    from sklearn.datasets import load_digits  # imported lazily: sklearn takes ~0.5 s to import

    bunch = load_digits()
    images = np.ascontiguousarray(bunch.images, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@functools.lru_cache(maxsize=4)
def split_indices(seed: int = SPLIT_SEED, test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices into the data set, each sorted ascending (see the module docstring)."""
    _, labels = load_digits_arrays()
    perm = np.random.RandomState(seed).permutation(labels.size)
    test: list[np.ndarray] = []
    for cls in range(10):
        members = perm[labels[perm] == cls]
        test.append(members[: int(round(members.size * test_fraction))])
    test_idx = np.sort(np.concatenate(test))
    train_mask = np.ones(labels.size, dtype=bool)
    train_mask[test_idx] = False
    train_idx = np.flatnonzero(train_mask)
    test_idx.flags.writeable = False
    train_idx.flags.writeable = False
    return train_idx, test_idx


def preprocess(images: np.ndarray) -> np.ndarray:
    """Images (N, 8, 8) with values 0..16 → model input float32 (N, 1, 8, 8) scaled to 0..1."""
    x = np.asarray(images, dtype=np.float32) / np.float32(16.0)
    return np.ascontiguousarray(x.reshape(-1, 1, 8, 8))


def test_images() -> np.ndarray:
    """The raw test split images (N, 8, 8), in QSL order."""
    images, _ = load_digits_arrays()
    return images[split_indices()[1]]


def test_labels() -> np.ndarray:
    """Ground-truth labels of the test split, in QSL order."""
    _, labels = load_digits_arrays()
    return labels[split_indices()[1]]


def split_fingerprint(indices: np.ndarray) -> str:
    """sha256 of the int64 little-endian index list: recorded in the model metadata to detect a changed split."""
    return hashlib.sha256(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()
