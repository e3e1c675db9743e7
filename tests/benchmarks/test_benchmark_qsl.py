"""ArrayQSL: load/unload/get_batch with arrays and dicts, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from podium.benchmarks import ArrayQSL
from podium.errors import PodiumError
from podium.loadgen.types import QuerySampleLibrary


def _qsl(calls: list[list[int]] | None = None) -> ArrayQSL:
    def load(idx: np.ndarray) -> np.ndarray:
        if calls is not None:
            calls.append(idx.tolist())
        return (idx[:, None] * 10 + np.arange(3)).astype(np.float32)

    return ArrayQSL("toy", 20, 8, load)


def test_is_a_query_sample_library() -> None:
    qsl = _qsl()
    assert isinstance(qsl, QuerySampleLibrary)
    assert (qsl.name, qsl.total_sample_count, qsl.performance_sample_count) == ("toy", 20, 8)


def test_get_batch_reads_rows_in_request_order() -> None:
    calls: list[list[int]] = []
    qsl = _qsl(calls)
    qsl.load_samples([5, 3, 9, 3])
    assert calls == [[3, 5, 9]]  # unique, pre-processed once
    batch = qsl.get_batch(np.array([9, 3, 5, 9]))
    np.testing.assert_array_equal(batch[:, 0], [90, 30, 50, 90])
    assert batch.dtype == np.float32 and batch.flags.c_contiguous


def test_incremental_load_keeps_cache_and_skips_reloads() -> None:
    calls: list[list[int]] = []
    qsl = _qsl(calls)
    qsl.load_samples([1, 2])
    qsl.load_samples([2, 4])
    assert calls == [[1, 2], [4]]
    assert qsl.loaded_count == 3
    np.testing.assert_array_equal(qsl.get_batch(np.array([4, 1]))[:, 0], [40, 10])


def test_unload_frees_and_partial_unload_compacts() -> None:
    qsl = _qsl()
    qsl.load_samples(range(6))
    qsl.unload_samples([0, 2, 4])
    assert qsl.loaded_count == 3
    np.testing.assert_array_equal(qsl.get_batch(np.array([5, 1, 3]))[:, 0], [50, 10, 30])
    with pytest.raises(PodiumError, match=r"samples \[2\] were not loaded"):
        qsl.get_batch(np.array([1, 2]))
    qsl.unload_samples([1, 3, 5])
    assert qsl.loaded_count == 0 and qsl._data is None
    with pytest.raises(PodiumError, match=r"samples \[1\] were not loaded"):
        qsl.get_batch(np.array([1]))
    with pytest.raises(PodiumError, match=r"sample index 25 out of range, expected 0..19"):
        qsl.get_batch(np.array([25]))


def test_index_out_of_range() -> None:
    with pytest.raises(PodiumError, match=r"QSL toy: load_samples got sample index 20, expected 0..19"):
        _qsl().load_samples([0, 20])


def test_dict_samples_for_multi_input_models() -> None:
    def load(idx: np.ndarray) -> dict[str, np.ndarray]:
        return {"ids": idx[:, None].repeat(4, 1), "mask": np.ones((idx.size, 4), dtype=np.int64)}

    qsl = ArrayQSL("bert-ish", 10, 10, load)
    qsl.load_samples([7, 2])
    qsl.load_samples([3])
    batch = qsl.get_batch(np.array([3, 7]))
    assert set(batch) == {"ids", "mask"}
    np.testing.assert_array_equal(batch["ids"][:, 0], [3, 7])


def test_loader_with_wrong_row_count_is_caught() -> None:
    qsl = ArrayQSL("bad", 5, 5, lambda idx: np.zeros((1, 2)))
    with pytest.raises(PodiumError, match="loader returned 1 rows for 3 samples"):
        qsl.load_samples([0, 1, 2])
