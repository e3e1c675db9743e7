"""DLRM data: Criteo day-23 files in the reference's formats, the aggregation trace, and the user QSL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.dlrm import criteo, trace
from podium.benchmarks.dlrm.qsl import DlrmQSL
from podium.benchmarks.dlrm.reference import MAX_IND_RANGE, TEST_ROWS
from podium.errors import PodiumError

# Items per sample (in hundreds) of the first 100 samples of the reference's trace, as listed in
# tools/dist_trace_verification.txt of the v2.1 reference (facts, not code).
REFERENCE_FIRST_100 = [int(c) * 100 for c in (
    "2222572115321313732142522223422221212222212222623222274232221226526517224522222222272232722253222132")]


def _line(label: str, ints: list[str], cats: list[str]) -> str:
    assert len(ints) == 13 and len(cats) == 26
    return "\t".join([label, *ints, *cats]) + "\n"


def _criteo_lines() -> list[str]:
    cats0 = ["68fd1e64", "80e26c9b", "fb936136", "7b4723c4", "25c83c98", "7e0ccccf", "de7995b8", "1f89b562",
             "a73ee510", "a8cd5504", "b2cb9c98", "37c9c164", "2824a5f6", "1adce6ef", "8ba8b39a", "891b62e7",
             "e5ba7672", "f54016b9", "21ddcdc9", "b1252a9d", "07b5194c", "", "3a171ecb", "c5c50484",
             "e8b83407", "9727dd16"]
    lines = [_line("0", ["1", "1", "5", "0", "1382", "4", "15", "2", "181", "1", "2", "", "2"], cats0)]
    for i in range(1, 9):  # more rows with varied values; negative counts must become 0
        ints = [str(i * 3 - 5), "", str(i)] + [str(k * i) for k in range(10)]
        cats = [format(0x1000 * i + k, "x") for k in range(26)]
        lines.append(_line(str(i % 2), ints, cats))
    return lines


@pytest.fixture
def tsv(tmp_path: Path) -> Path:
    p = tmp_path / criteo.TSV_FILE
    p.write_text("".join(_criteo_lines()), encoding="ascii")
    return p


def test_tsv_parses_the_reference_way(tsv: Path) -> None:
    rows = criteo.read_tsv(tsv)
    assert len(rows) == 5  # 9 lines: the test split is the first ceil(9 / 2)
    assert rows.y.tolist() == [0, 1, 0, 1, 0]
    # empty fields are 0; negative counts become 0
    assert rows.x_int[0].tolist() == [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, 0, 2]
    assert rows.x_int[1, :3].tolist() == [0, 0, 1]  # 1*3-5 = -2 -> 0
    assert rows.x_int[4, 0] == 7
    # hex hashes reduced modulo 40,000,000: 0x68fd1e64 = 1,761,418,852 -> 1,418,852
    assert rows.x_cat[0, 0] == 0x68fd1e64 % MAX_IND_RANGE == 1_418_852
    assert rows.x_cat[0, 21] == 0  # empty categorical field
    assert rows.x_cat[2, 5] == 0x2005
    assert not rows.official_ids and "no day_fea_dict" in rows.describe
    full = criteo.read_tsv(tsv, test_only=False)
    assert len(full) == 9


def test_tsv_maps_hashes_with_the_reference_dictionaries(tsv: Path, tmp_path: Path) -> None:
    hashed = criteo.read_tsv(tsv, test_only=False).x_cat
    rng = np.random.default_rng(0)
    for k in range(26):
        unique = np.unique(hashed[:, k])
        unique = np.concatenate([unique, unique.max() + 1 + np.arange(3)])[rng.permutation(unique.size + 3)]
        np.savez_compressed(tmp_path / criteo.DICT_FILE.format(k), unique=unique.astype(np.int32))
    dicts = criteo.load_dictionaries(tmp_path)
    rows = criteo.read_tsv(tsv, dicts)
    assert rows.official_ids
    for k in (0, 7, 25):
        # the id is the value's position in `unique`
        assert [int(dicts[k][i]) for i in rows.x_cat[:, k]] == hashed[:5, k].tolist()


def test_tsv_errors_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "day_23"
    p.write_text(_criteo_lines()[0] + "1\t2\t3\n", encoding="ascii")
    with pytest.raises(criteo.CriteoDataError, match="line 2 has 3 tab-separated fields"):
        criteo.read_tsv(p, test_only=False)
    p.write_text(_criteo_lines()[0].replace("68fd1e64", "zz"), encoding="ascii")
    with pytest.raises(criteo.CriteoDataError, match="line 1 .*not a number"):
        criteo.read_tsv(p)
    (tmp_path / criteo.DICT_FILE.format(0)).write_bytes(b"")
    with pytest.raises(criteo.CriteoDataError, match="day_fea_dict_1.npz: missing"):
        criteo.load_dictionaries(tmp_path)


def test_npz_and_bin_formats(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 7
    x_int = rng.integers(0, 100, size=(n, 13)).astype(np.float64)  # the reference's reordered files are float
    x_cat = rng.integers(0, 1000, size=(n, 26)).astype(np.float64)
    y = rng.integers(0, 2, size=n).astype(np.float64)
    np.savez_compressed(tmp_path / criteo.NPZ_FILE, X_int=x_int, X_cat=x_cat, y=y)
    rows = criteo.find_test_rows(tmp_path)
    assert len(rows) == 4 and np.array_equal(rows.x_cat, x_cat[:4])  # the test split: first ceil(7 / 2)
    # The reference's binary test file: int32 rows of (label, 13 dense, 26 categorical).
    table = np.concatenate([y[:4, None], x_int[:4], x_cat[:4]], axis=1).astype("<i4")
    (tmp_path / criteo.BIN_FILE).write_bytes(table.tobytes())
    b = criteo.find_test_rows(tmp_path)  # .bin wins over .npz
    assert "binary" in b.describe and isinstance(b.y, np.memmap)
    assert np.array_equal(b.x_int, x_int[:4]) and np.array_equal(b.x_cat, x_cat[:4]) and np.array_equal(b.y, y[:4])
    out = criteo.write_bin(rows, tmp_path / "copy.bin")
    assert out.read_bytes() == table.tobytes()
    (tmp_path / "bad.bin").write_bytes(b"\0" * 161)
    with pytest.raises(criteo.CriteoDataError, match="not a whole number of 160-byte rows"):
        criteo.read_bin(tmp_path / "bad.bin")
    (tmp_path / "empty").mkdir()
    with pytest.raises(criteo.CriteoDataError, match="holds none of"):
        criteo.find_test_rows(tmp_path / "empty")


def test_dense_transform_is_log1p_in_float32() -> None:
    x = np.array([[0, 1, 3, 1382, -4]], dtype=np.int32)
    got = criteo.dense_features(x)
    assert got.dtype == np.float32
    assert np.array_equal(got, np.log(np.array([[1, 2, 4, 1383, 1]], dtype=np.float32)))


def test_trace_matches_the_reference() -> None:
    offsets = trace.generate_offsets(TEST_ROWS)
    assert np.diff(offsets[:101]).tolist() == REFERENCE_FIRST_100
    assert offsets.size - 1 == 330_067  # users in the official test split
    assert offsets[-1] == TEST_ROWS and offsets[0] == 0
    assert np.all(np.diff(offsets) > 0) and np.diff(offsets).max() <= 700


def test_trace_file_round_trip_and_errors(tmp_path: Path) -> None:
    offsets = trace.generate_offsets(2000)
    assert offsets[-1] == 2000
    p = trace.write_trace(offsets, tmp_path / "t.txt")
    assert p.read_text().splitlines()[:3] == ["0, 200, 200", "200, 400, 200", "400, 600, 200"]
    assert np.array_equal(trace.read_trace(p), offsets)
    p.write_text("0, 200, 200\n200, 300, 200\n")
    with pytest.raises(trace.TraceError, match="line 2"):
        trace.read_trace(p)
    p.write_text("0; 200; 200\n")
    with pytest.raises(trace.TraceError, match="line 1 is"):
        trace.read_trace(p)
    assert trace.fixed_offsets(10, 3).tolist() == [0, 3, 6, 9, 10]


def _rows(n: int) -> criteo.CriteoRows:
    x_int = np.arange(n * 13, dtype=np.int32).reshape(n, 13) % 50
    x_cat = (np.arange(n * 26, dtype=np.int64).reshape(n, 26) * 7919) + MAX_IND_RANGE * (np.arange(n)[:, None] % 2)
    return criteo.CriteoRows(x_int, x_cat, (np.arange(n) % 3 == 0).astype(np.int32), describe="test rows")


def test_qsl_sample_is_a_users_row_range() -> None:
    rows = _rows(20)
    offsets = np.array([0, 3, 4, 9, 15, 20])
    qsl = DlrmQSL("t", rows, offsets, performance_sample_count=204800)
    assert qsl.total_sample_count == 5 and qsl.performance_sample_count == 5
    qsl.load_samples([3, 1, 0])
    batch = qsl.get_batch(np.array([3, 0, 1, 3]))
    want = np.r_[9:15, 0:3, 3:4, 9:15]
    assert batch.lengths.tolist() == [6, 3, 1, 6]
    assert np.array_equal(batch.dense, criteo.dense_features(rows.x_int[want]))
    assert batch.sparse.shape == (26, 16) and batch.sparse.dtype == np.int64
    assert np.array_equal(batch.sparse, (rows.x_cat[want] % MAX_IND_RANGE).T)
    assert np.array_equal(batch.labels, rows.y[want].astype(np.float32))
    with pytest.raises(PodiumError, match=r"samples \[2\] were not loaded"):
        qsl.get_batch(np.array([2]))
    qsl.unload_samples([0])
    qsl.load_samples([4, 2])
    again = qsl.get_batch(np.array([1, 4, 3, 2]))
    assert np.array_equal(again.labels, rows.y[np.r_[3:4, 15:20, 9:15, 4:9]].astype(np.float32))
    assert qsl.loaded_count == 4
    qsl.unload_samples([1, 2, 3, 4])
    assert qsl.loaded_count == 0
    with pytest.raises(PodiumError, match="sample index 5"):
        qsl.load_samples([5])


def test_qsl_rejects_a_trace_longer_than_the_data() -> None:
    with pytest.raises(PodiumError, match="covers 30 rows"):
        DlrmQSL("t", _rows(20), np.array([0, 10, 30]), 10)
