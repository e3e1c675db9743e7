"""BackendSUT with a fake backend: batching per scenario, both completion paths, errors, shutdown.

No test sleeps for more than a few milliseconds and none asserts on timing: batching is made
deterministic with long wait windows plus flush, events and gates.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import pytest

from podium.errors import PodiumError
from podium.harness import BackendSUT
from podium.loadgen.types import QuerySample

TIMEOUT = 10.0  # generous upper bound for waits that normally end in microseconds


class FakeQSL:
    """get_batch returns the QSL indices themselves, so outputs can be checked."""

    def get_batch(self, indices: np.ndarray) -> np.ndarray:
        return np.asarray(indices, dtype=np.int64) * 10


class FakeBackend:
    """Records batch sizes; optional gate (blocks each run until set), barrier, and failing indices."""

    def __init__(self, gate: threading.Event | None = None, fail_on: int | None = None,
                 barrier: threading.Barrier | None = None) -> None:
        self.sizes: list[int] = []
        self.gate = gate
        self.fail_on = fail_on
        self.barrier = barrier
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self.sizes.append(len(batch))
        self.started.release()
        if self.barrier is not None:
            self.barrier.wait(TIMEOUT)
        if self.gate is not None:
            assert self.gate.wait(TIMEOUT)
        if self.fail_on is not None and self.fail_on * 10 in batch:
            raise ValueError("boom")
        return [batch + 1]


def postprocess(outputs: list[np.ndarray], indices: np.ndarray) -> list[bytes]:
    return [int(v).to_bytes(4, "little") for v in outputs[0]]


class Collector:
    """Stands in for the LoadGen engine's completion callables."""

    def __init__(self, expect: int | None = None) -> None:
        self.data: dict[int, Any] = {}
        self.calls: list[tuple[str, int]] = []
        self.expect = expect
        self.done = threading.Event()
        self._lock = threading.Lock()

    def _add(self, kind: str, pairs: list[tuple[int, Any]]) -> None:
        with self._lock:
            self.calls.append((kind, len(pairs)))
            for i, d in pairs:
                assert i not in self.data, f"id {i} completed twice"
                self.data[i] = d
            if self.expect is not None and len(self.data) >= self.expect:
                self.done.set()

    def complete(self, responses: list[tuple[int, Any]]) -> None:
        self._add("complete", [(int(i), d) for i, d in responses])

    def complete_ids(self, ids: np.ndarray, data: list[bytes] | None = None) -> None:
        assert isinstance(ids, np.ndarray)
        rows = data if data is not None else [None] * len(ids)
        self._add("complete_ids", list(zip(ids.tolist(), rows)))

    def value(self, i: int) -> int:
        return int.from_bytes(self.data[i], "little")


def _sut(backend: FakeBackend, col: Collector, **kw: Any) -> BackendSUT:
    sut = BackendSUT(backend, FakeQSL(), postprocess, **kw)
    sut.bind(col.complete, col.complete_ids)
    return sut


def test_offline_splits_one_issue_into_max_size_batches() -> None:
    be, col = FakeBackend(), Collector()
    with _sut(be, col, scenario_hint="Offline", max_batch_size=32, workers=2) as sut:
        n = 100
        sut.issue_arrays(np.arange(1, n + 1, dtype=np.int64), np.arange(n, dtype=np.int64) % 7)
        assert sut.drain(TIMEOUT)
    assert sorted(be.sizes) == [4, 32, 32, 32]
    assert {k for k, _ in col.calls} == {"complete_ids"} and len(col.calls) == 4  # one call per batch
    assert all(col.value(i + 1) == (i % 7) * 10 + 1 for i in range(n))
    assert sut.stats()["batches"] == 4 and sut.errors == 0


def test_large_issue_queries_uses_complete_with_pairs() -> None:
    be, col = FakeBackend(), Collector()
    with _sut(be, col, scenario_hint="Offline", max_batch_size=16, workers=3) as sut:
        sut.issue_queries([QuerySample(i + 1, i) for i in range(200)])
        assert sut.drain(TIMEOUT)
    assert sorted(be.sizes) == [8] + [16] * 12
    assert {k for k, _ in col.calls} == {"complete"}
    assert [col.value(i + 1) for i in range(200)] == [i * 10 + 1 for i in range(200)]


def test_server_batches_what_arrived_and_flush_pushes_partials() -> None:
    be, col = FakeBackend(), Collector()
    # A 60 s window never expires in the test: batches form only when full or flushed.
    with _sut(be, col, scenario_hint="Server", max_batch_size=4, max_wait_us=60_000_000, workers=2) as sut:
        for i in range(6):
            sut.issue_queries([QuerySample(i + 1, i)])
        assert be.started.acquire(timeout=TIMEOUT)  # the full batch of 4 ran without a flush
        assert sut.drain(TIMEOUT)  # drain flushes the remaining 2
        assert be.started.acquire(timeout=TIMEOUT)
        assert be.sizes == [4, 2]
        assert sut.stats()["mean_batch_size"] == 3.0
        # A new series after the flush waits again for its window.
        sut.issue_queries([QuerySample(7, 0)])
        assert not be.started.acquire(timeout=0.005)
        sut.flush_queries()
        assert be.started.acquire(timeout=TIMEOUT) and sut.drain(TIMEOUT)
    assert be.sizes == [4, 2, 1] and len(col.data) == 7


def test_server_wait_window_expires_without_flush() -> None:
    be, col = FakeBackend(), Collector(expect=1)
    with _sut(be, col, scenario_hint="Server", max_batch_size=8, max_wait_us=1000, workers=1) as sut:
        sut.issue_queries([QuerySample(1, 3)])
        assert col.done.wait(TIMEOUT)
    assert be.sizes == [1] and col.value(1) == 31


def test_server_combines_issues_queued_while_workers_are_busy() -> None:
    gate = threading.Event()
    be, col = FakeBackend(gate=gate), Collector()
    with _sut(be, col, scenario_hint="Server", max_batch_size=8, max_wait_us=0, workers=1) as sut:
        sut.issue_queries([QuerySample(1, 0)])
        assert be.started.acquire(timeout=TIMEOUT)  # the only worker is now blocked on the gate
        for i in range(1, 6):
            sut.issue_arrays(np.array([i + 1]), np.array([i]))
        gate.set()
        assert sut.drain(TIMEOUT)
    assert be.sizes == [1, 5]  # the five queued issues became one batch
    assert [col.value(i + 1) for i in range(6)] == [i * 10 + 1 for i in range(6)]


def test_single_stream_runs_inline_with_batch_one() -> None:
    be, col = FakeBackend(), Collector()
    with _sut(be, col, scenario_hint="SingleStream") as sut:
        sut.issue_queries([QuerySample(5, 2)])
        assert col.data == {5: (21).to_bytes(4, "little")}  # completed before issue_queries returned
        sut.issue_queries([QuerySample(6, 1), QuerySample(7, 2)])
    assert be.sizes == [1, 1, 1] and not sut._threads


def test_workers_run_batches_concurrently() -> None:
    # Both batches must be inside run() together to pass the barrier.
    be, col = FakeBackend(barrier=threading.Barrier(2)), Collector()
    with _sut(be, col, scenario_hint="Offline", max_batch_size=2, workers=2) as sut:
        sut.issue_arrays(np.arange(1, 5), np.arange(4))
        assert sut.drain(TIMEOUT)
    assert sut.errors == 0 and len(col.data) == 4


def test_failed_batch_completes_empty_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    be, col = FakeBackend(fail_on=5), Collector()
    with caplog.at_level(logging.ERROR, logger="podium.harness"):
        with _sut(be, col, scenario_hint="Offline", max_batch_size=4, workers=2) as sut:
            sut.issue_arrays(np.arange(1, 13), np.arange(12))
            assert sut.drain(TIMEOUT)
    assert len(col.data) == 12
    assert [i for i, d in col.data.items() if d is None] == [5, 6, 7, 8]  # the batch holding index 5
    assert (sut.errors, sut.failed_samples) == (1, 4)
    assert sut.last_error == "ValueError: boom"
    assert "batch of 4 samples failed" in caplog.text


def test_bad_postprocess_and_failing_complete_do_not_kill_workers() -> None:
    be, col = FakeBackend(), Collector()
    sut = BackendSUT(be, FakeQSL(), lambda outs, idx: [b""], scenario_hint="Offline", max_batch_size=2, workers=1)
    sut.bind(col.complete, col.complete_ids)
    sut.issue_arrays(np.array([1, 2]), np.array([0, 1]))
    assert sut.drain(TIMEOUT)
    assert col.data == {1: None, 2: None} and "postprocess returned 1 responses" in sut.last_error

    def broken(ids: np.ndarray, data: Any = None) -> None:
        raise RuntimeError("engine gone")

    sut.bind(col.complete, broken)
    sut.issue_arrays(np.array([3]), np.array([0]))
    assert sut.drain(TIMEOUT)
    assert sut.errors == 2 and all(t.is_alive() for t in sut._threads)
    sut.close()


def test_unloaded_sample_is_an_error_not_a_hang() -> None:
    class StrictQSL:
        def get_batch(self, indices: np.ndarray) -> np.ndarray:
            raise PodiumError("QSL toy: samples [3] were not loaded")

    col = Collector()
    with BackendSUT(FakeBackend(), StrictQSL(), postprocess, scenario_hint="Server", workers=1) as sut:
        sut.bind(col.complete, col.complete_ids)
        sut.issue_queries([QuerySample(1, 3)])
        assert sut.drain(TIMEOUT)
    assert col.data == {1: None} and sut.errors == 1


def test_close_drains_pending_and_stops_workers() -> None:
    be, col = FakeBackend(), Collector()
    sut = _sut(be, col, scenario_hint="Server", max_batch_size=8, max_wait_us=60_000_000, workers=3)
    sut.issue_queries([QuerySample(1, 0), QuerySample(2, 1)])
    sut.close()
    assert not any(t.is_alive() for t in sut._threads)
    assert sorted(col.data) == [1, 2]
    sut.close()  # idempotent
    with pytest.raises(PodiumError, match="issue after close"):
        sut.issue_queries([QuerySample(3, 0)])


def test_bounded_queue_blocks_the_issuer_until_a_worker_frees_a_slot() -> None:
    gate = threading.Event()
    be, col = FakeBackend(gate=gate), Collector()
    sut = _sut(be, col, scenario_hint="Server", max_batch_size=1, max_wait_us=0, workers=1, max_queued_issues=2)
    sut.issue_queries([QuerySample(1, 0)])
    assert be.started.acquire(timeout=TIMEOUT)  # worker holds sample 1; the queue is empty
    sut.issue_queries([QuerySample(2, 0)])
    sut.issue_queries([QuerySample(3, 0)])  # queue now full (2)
    returned = threading.Event()

    def issue_fourth() -> None:
        sut.issue_queries([QuerySample(4, 0)])
        returned.set()

    t = threading.Thread(target=issue_fourth)
    t.start()
    assert not returned.wait(0.005)
    gate.set()
    assert returned.wait(TIMEOUT)
    t.join()
    assert sut.drain(TIMEOUT) and sorted(col.data) == [1, 2, 3, 4]
    sut.close()


def test_issue_arrays_length_mismatch() -> None:
    with _sut(FakeBackend(), Collector(), scenario_hint="Offline") as sut:
        with pytest.raises(PodiumError, match="3 ids but 2 indices"):
            sut.issue_arrays(np.arange(3), np.arange(2))


def test_no_postprocess_completes_empty() -> None:
    col = Collector()
    with BackendSUT(FakeBackend(), FakeQSL(), None, scenario_hint="Offline", workers=1) as sut:
        sut.bind(col.complete, col.complete_ids)
        sut.issue_arrays(np.arange(1, 4), np.arange(3))
        assert sut.drain(TIMEOUT)
    assert col.data == {1: None, 2: None, 3: None} and sut.errors == 0
