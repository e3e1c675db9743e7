"""Criteo Terabyte day-23 test rows, read from the formats of the DLRM reference pipeline.

One row is one user-item pair: a click label, 13 integer ("dense") features and 26 categorical features.
The test split is the first half (rounded up) of day 23; the second half is validation. Three formats:

- ``terabyte_processed_test.bin``: the reference's binary loader file, int32 rows of 40 values
  (label, 13 dense, 26 categorical), holding the test split only. Read memory-mapped.
- ``day_23_reordered.npz``: the pre-processed day (arrays ``X_int``, ``X_cat``, ``y``; categorical values
  already mapped to table rows); the test split is its first half. The whole day is read into memory.
- ``day_23``: the raw tab-separated day (label, 13 decimal ints, 26 hexadecimal hashes; empty fields
  mean 0). Categorical hashes are reduced modulo ``MAX_IND_RANGE`` and then mapped to table rows with the
  reference's dictionaries ``day_fea_dict_<k>.npz`` (array ``unique``: row id = position). Without the
  dictionaries the reduced hashes are used as they are, which only a random-weight model can take.

Negative dense values become 0, as the reference's pre-processing does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.benchmarks.dlrm.reference import MAX_IND_RANGE, NUM_DENSE, NUM_SPARSE
from podium.errors import PodiumError

BIN_FILE = "terabyte_processed_test.bin"
NPZ_FILE = "day_23_reordered.npz"
TSV_FILE = "day_23"
DICT_FILE = "day_fea_dict_{}.npz"
_ROW_VALUES = 1 + NUM_DENSE + NUM_SPARSE


class CriteoDataError(PodiumError):
    """A Criteo data file is missing or not in the format the reference pipeline writes."""


@dataclass
class CriteoRows:
    """Test rows in file order: raw dense ints ``(N, 13)``, categorical row ids ``(N, 26)``, labels ``(N,)``.

    Arrays may be memory-mapped views; ``describe`` says which file they came from and how.
    """

    x_int: np.ndarray
    x_cat: np.ndarray
    y: np.ndarray
    describe: str
    official_ids: bool = True  # False: categorical values are reduced hashes, not the reference's row ids

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.x_int.shape != (n, NUM_DENSE) or self.x_cat.shape != (n, NUM_SPARSE):
            raise CriteoDataError(f"{self.describe}: expected {NUM_DENSE} dense and {NUM_SPARSE} categorical "
                                  f"columns for {n} rows, got {self.x_int.shape} and {self.x_cat.shape}")

    def __len__(self) -> int:
        return len(self.y)


def test_split_size(day_rows: int) -> int:
    """Rows of the test split of a day of ``day_rows`` rows: the first half, rounded up (the reference)."""
    return math.ceil(day_rows / 2.0)


def read_bin(path: str | Path) -> CriteoRows:
    """The binary test file: int32 rows of (label, 13 dense, 26 categorical), memory-mapped."""
    p = Path(path)
    size = p.stat().st_size
    row_bytes = 4 * _ROW_VALUES
    if size == 0 or size % row_bytes:
        raise CriteoDataError(f"{p}: {size} bytes is not a whole number of {row_bytes}-byte rows "
                              f"(int32 label, {NUM_DENSE} dense, {NUM_SPARSE} categorical)")
    rows = np.memmap(p, dtype="<i4", mode="r", shape=(size // row_bytes, _ROW_VALUES))
    return CriteoRows(rows[:, 1:1 + NUM_DENSE], rows[:, 1 + NUM_DENSE:], rows[:, 0],
                      describe=f"{p} (binary test split, {len(rows):,} rows)")


def read_npz(path: str | Path, test_only: bool = True) -> CriteoRows:
    """A pre-processed day (``X_int``, ``X_cat``, ``y``); ``test_only`` keeps its first half."""
    p = Path(path)
    try:
        with np.load(p) as data:
            missing = [k for k in ("X_int", "X_cat", "y") if k not in data.files]
            if missing:
                raise CriteoDataError(f"{p}: lacks the arrays {', '.join(missing)} (expected X_int, X_cat, y)")
            x_int, x_cat, y = data["X_int"], data["X_cat"], data["y"]
    except (OSError, ValueError) as exc:
        raise CriteoDataError(f"{p}: not a readable .npz file ({exc})") from None
    n = test_split_size(len(y)) if test_only else len(y)
    return CriteoRows(np.asarray(x_int[:n]), np.asarray(x_cat[:n]), np.asarray(y[:n]),
                      describe=f"{p} ({'test half, ' if test_only else ''}{n:,} rows)")


def load_dictionaries(folder: str | Path) -> list[np.ndarray] | None:
    """The 26 ``day_fea_dict_<k>.npz`` arrays (hash -> row id by position), or None when none exist."""
    d = Path(folder)
    paths = [d / DICT_FILE.format(k) for k in range(NUM_SPARSE)]
    present = [p.is_file() for p in paths]
    if not any(present):
        return None
    if not all(present):
        missing = paths[present.index(False)]
        raise CriteoDataError(f"{missing}: missing; the reference writes all {NUM_SPARSE} dictionaries "
                              f"{DICT_FILE.format('0')}..{DICT_FILE.format(NUM_SPARSE - 1)}")
    out = []
    for p in paths:
        with np.load(p) as data:
            if "unique" not in data.files:
                raise CriteoDataError(f"{p}: lacks the array 'unique' (the feature's distinct values)")
            out.append(np.asarray(data["unique"], dtype=np.int64))
    return out


def _map_to_ids(hashed: np.ndarray, dictionaries: list[np.ndarray], path: Path) -> np.ndarray:
    """Reduced hashes -> table row ids, vectorised per feature (position of the value in ``unique``)."""
    out = np.empty(hashed.shape, dtype=np.int32)
    for k, unique in enumerate(dictionaries):
        order = np.argsort(unique, kind="stable")
        sorted_u = unique[order]
        col = hashed[:, k]
        pos = np.searchsorted(sorted_u, col)
        pos_c = np.minimum(pos, len(sorted_u) - 1)
        bad = np.flatnonzero((pos >= len(sorted_u)) | (sorted_u[pos_c] != col))
        if bad.size:
            raise CriteoDataError(f"{path}: line {bad[0] + 1} feature C{k + 1} value {col[bad[0]]} is not in "
                                  f"{DICT_FILE.format(k)} (dictionaries from another pre-processing run?)")
        out[:, k] = order[pos_c]
    return out


def read_tsv(path: str | Path, dictionaries: list[np.ndarray] | None = None, test_only: bool = True,
             max_ind_range: int = MAX_IND_RANGE) -> CriteoRows:
    """The raw tab-separated day; ``test_only`` keeps its first half (the test split).

    Parsing is plain Python per line (about 60,000 lines a second here): fine for tests and samples, slow
    for the full 89 M-row split, for which the ``.bin`` file is the practical format.
    """
    p = Path(path)
    total = _count_lines(p)
    n = test_split_size(total) if test_only else total
    if n == 0:
        raise CriteoDataError(f"{p}: empty file (expected tab-separated Criteo lines)")
    y = np.empty(n, dtype=np.int32)
    x_int = np.empty((n, NUM_DENSE), dtype=np.int64)
    hashed = np.empty((n, NUM_SPARSE), dtype=np.int64)
    with open(p, encoding="ascii", errors="strict") as fh:
        i = -1
        try:
            for i, line in enumerate(fh):
                if i >= n:
                    break
                fields = line.rstrip("\n").split("\t")
                if len(fields) != _ROW_VALUES:
                    raise CriteoDataError(f"{p}: line {i + 1} has {len(fields)} tab-separated fields, "
                                          f"expected {_ROW_VALUES} (label, {NUM_DENSE} ints, {NUM_SPARSE} hashes)")
                y[i] = int(fields[0] or 0)
                x_int[i] = [int(v) if v else 0 for v in fields[1:1 + NUM_DENSE]]
                hashed[i] = [int(v, 16) % max_ind_range if v else 0 for v in fields[1 + NUM_DENSE:]]
        except ValueError as exc:
            raise CriteoDataError(f"{p}: line {i + 1} has a field that is not a number ({exc})") from None
        except UnicodeDecodeError:
            raise CriteoDataError(f"{p}: line {i + 2} is not ASCII text (a Criteo day file?)") from None
    if i + 1 < n:
        raise CriteoDataError(f"{p}: ended after {i + 1} lines, expected {n}")
    np.maximum(x_int, 0, out=x_int)  # the reference's pre-processing sets negative counts to 0
    if dictionaries is not None:
        x_cat = _map_to_ids(hashed, dictionaries, p)
        how, official = "categorical values mapped with the reference dictionaries", True
    else:
        x_cat = hashed
        how, official = (f"categorical values are hashes mod {max_ind_range:,}, no day_fea_dict_*.npz: "
                         "fine for a random-weight model, wrong for the official one"), False
    return CriteoRows(x_int, x_cat, y, describe=f"{p} ({'test half, ' if test_only else ''}{n:,} rows; {how})",
                      official_ids=official)


def _count_lines(path: Path) -> int:
    """Lines in a text file, counting a last line that lacks its newline."""
    total, last = 0, b"\n"
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 24), b""):
            total += chunk.count(b"\n")
            last = chunk[-1:]
    return total + (last != b"\n")


def find_test_rows(data_dir: str | Path) -> CriteoRows:
    """The test rows from the first format present in ``data_dir``: .bin, then .npz, then raw TSV."""
    d = Path(data_dir).expanduser()
    if not d.is_dir():
        raise CriteoDataError(f"--data-dir {d}: not a folder")
    if (d / BIN_FILE).is_file():
        return read_bin(d / BIN_FILE)
    if (d / NPZ_FILE).is_file():
        return read_npz(d / NPZ_FILE)
    if (d / TSV_FILE).is_file():
        return read_tsv(d / TSV_FILE, load_dictionaries(d))
    raise CriteoDataError(f"--data-dir {d}: holds none of {BIN_FILE}, {NPZ_FILE} or {TSV_FILE} "
                          "(Criteo Terabyte day 23, in a format of the MLPerf DLRM reference)")


def write_bin(rows: CriteoRows, path: str | Path) -> Path:
    """Write rows in the binary test format (int32 label, dense, categorical): a one-off conversion so that
    later runs memory-map the data instead of parsing or decompressing it."""
    p = Path(path)
    table = np.concatenate([np.asarray(rows.y).reshape(-1, 1), rows.x_int, rows.x_cat], axis=1)
    p.write_bytes(np.ascontiguousarray(table, dtype="<i4").tobytes())
    return p


def dense_features(x_int: np.ndarray) -> np.ndarray:
    """Model input from raw dense counts: ``log(x + 1)`` in float32, the reference's transform."""
    x = np.asarray(x_int).astype(np.float32)
    np.maximum(x, 0, out=x)
    x += np.float32(1.0)
    return np.log(x)
