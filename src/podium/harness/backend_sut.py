"""``BackendSUT``: the system under test that runs a backend on batches read from a QSL's cache.

Flow: ``issue_queries`` / ``issue_arrays`` append a *span* (the ids and QSL indices of one issue call) to a
bounded queue; worker threads take up to ``max_batch_size`` samples from the head spans, read the inputs
with ``qsl.get_batch(indices)`` (one fancy-indexing copy), run the backend (which releases the GIL), turn
the outputs into response bytes once per batch with ``postprocess`` and complete the whole batch with one
call. A span is kept as the caller's arrays and sliced in place, so the Offline scenario's single call with
every sample costs one queue entry, not one per batch or per sample.

A batch that fails (QSL, backend or post-processing error) is logged, its samples are completed with empty
data so that the run ends, and ``errors`` / ``failed_samples`` count it so the run can be marked.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from podium.errors import PodiumError
from podium.harness.batching import BatchingPolicy, policy_for
from podium.loadgen.types import BaseSUT, QuerySample

log = logging.getLogger("podium.harness")

#: How many failed batches get a full traceback in the log; later ones only count (a broken model would
#: otherwise flood the log with one identical traceback per batch).
_TRACEBACKS_LOGGED = 3


class BatchSource(Protocol):
    """What the SUT needs of a QSL: the pre-processed inputs of a batch of QSL indices."""

    def get_batch(self, indices: np.ndarray) -> Any: ...


class InferenceBackend(Protocol):
    """What the SUT needs of a backend: run one batch, get one array per output."""

    def run(self, batch: Any) -> list[np.ndarray]: ...


#: ``postprocess(outputs, indices) -> [bytes per sample]``: the batch's backend outputs and its QSL indices (an
#: int64 array, batch order); called on the worker thread that ran the batch. None completes every sample with
#: empty data.
PostProcess = Callable[[list[np.ndarray], np.ndarray], Sequence[bytes]]


class BackendSUT(BaseSUT):
    """A SUT that batches samples and runs them on a backend with a pool of worker threads.

    ``scenario_hint`` ("SingleStream", "MultiStream", "Server", "Offline") picks a batching policy (see
    ``podium.harness.batching``); ``max_batch_size``, ``max_wait_us`` and ``workers`` override it.
    ``max_queued_issues`` bounds the queue of issue calls not yet taken by a worker; when full, an issue call
    blocks until a worker frees a slot (back-pressure rather than unbounded memory). Use as a context manager
    or call ``close()`` to stop the workers.
    """

    def __init__(
        self,
        backend: InferenceBackend,
        qsl: BatchSource,
        postprocess: PostProcess | None,
        *,
        scenario_hint: Any = None,
        max_batch_size: int | None = None,
        max_wait_us: int | None = None,
        workers: int | None = None,
        max_queued_issues: int = 65536,
        name: str = "BackendSUT",
        policy: BatchingPolicy | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.backend = backend
        self.qsl = qsl
        self.postprocess = postprocess
        # a policy worked out by the caller is taken as it is (then scenario_hint and the overrides are unused)
        self.policy: BatchingPolicy = policy or policy_for(scenario_hint, max_batch_size=max_batch_size,
                                                           max_wait_us=max_wait_us, workers=workers)
        if max_queued_issues < 1:
            raise PodiumError(f"harness max_queued_issues: expected >= 1, got {max_queued_issues}")
        self._max_batch = self.policy.max_batch_size
        self._wait_ns = self.policy.max_wait_us * 1000
        self._max_queued = max_queued_issues

        lock = threading.Lock()
        self._lock = lock
        self._work_cv = threading.Condition(lock)   # workers wait here for samples
        self._space_cv = threading.Condition(lock)  # issuers wait here when the queue is full
        self._idle_cv = threading.Condition(lock)   # drain() waits here for pending + in-flight to reach 0
        # span: [ids, indices, next position, arrival ns, via complete_ids]
        self._spans: collections.deque[list[Any]] = collections.deque()
        self._pending = 0
        self._inflight = 0
        self._flush = False
        self._stopping = False

        #: Batches that failed, and the samples in them (completed with empty data).
        self.errors = 0
        self.failed_samples = 0
        self.last_error: str | None = None
        self.batches = 0
        self.samples = 0

        self._threads = [threading.Thread(target=self._worker, name=f"podium-worker-{i}", daemon=True)
                         for i in range(self.policy.workers)]
        for t in self._threads:
            t.start()

    # -- issuing (called by the LoadGen engine) ----------------------------------------------------
    def issue_queries(self, samples: list[QuerySample]) -> None:
        """Queue the samples; they complete through ``self.complete`` with ``(id, bytes)`` pairs."""
        if not samples:
            return
        if len(samples) > 64:  # large (Offline) issues: two arrays beat two big lists for slicing
            pairs = np.fromiter(itertools.chain.from_iterable(samples), dtype=np.int64,
                                count=2 * len(samples)).reshape(-1, 2)
            ids: Any = pairs[:, 0].tolist()
            idx: Any = np.ascontiguousarray(pairs[:, 1])
        else:
            ids = [s[0] for s in samples]
            idx = [s[1] for s in samples]
        self._enqueue(ids, idx, via_ids=False)

    def issue_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        """Fast path: ids and QSL indices as int64 arrays; completes through ``self.complete_ids``."""
        if len(ids) != len(indices):
            raise PodiumError(f"issue_arrays: {len(ids)} ids but {len(indices)} indices")
        if len(ids):
            self._enqueue(ids, indices, via_ids=True)

    def flush_queries(self) -> None:
        """Push out partial batches now instead of waiting for ``max_wait_us``."""
        with self._lock:
            if self._pending:
                self._flush = True
                self._work_cv.notify_all()

    def _enqueue(self, ids: Any, idx: Any, via_ids: bool) -> None:
        if not self._threads:  # inline: run in the caller's thread, in max-size batches
            if self._stopping:
                raise PodiumError(f"{self.name}: issue after close()")
            n = len(ids)
            for start in range(0, n, self._max_batch):
                stop = min(start + self._max_batch, n)
                with self._lock:
                    self._inflight += 1
                self._process(ids[start:stop], idx[start:stop], via_ids)
            return
        arrival = time.perf_counter_ns() if self._wait_ns else 0
        n = len(ids)
        with self._lock:
            while len(self._spans) >= self._max_queued and not self._stopping:
                self._space_cv.wait()
            if self._stopping:  # checked after any wait too: workers may be gone
                raise PodiumError(f"{self.name}: issue after close()")
            self._spans.append([ids, idx, 0, arrival, via_ids])
            self._pending += n
            # Wake as many workers as there are full batches to run, at least one.
            self._work_cv.notify(min(len(self._threads), max(1, n // self._max_batch)))

    # -- workers -----------------------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            job = self._next_batch()
            if job is None:
                return
            self._process(*job)

    def _next_batch(self) -> tuple[Any, Any, bool] | None:
        """Block until a batch is due (full, flushed, waited long enough or wait 0); None when stopping."""
        with self._lock:
            while True:
                if self._pending:
                    if self._pending >= self._max_batch or not self._wait_ns or self._flush or self._stopping:
                        break
                    remaining = self._spans[0][3] + self._wait_ns - time.perf_counter_ns()
                    if remaining <= 0:
                        break
                    self._work_cv.wait(remaining / 1e9)
                elif self._stopping:
                    return None
                else:
                    self._work_cv.wait()
            parts: list[tuple[Any, Any]] = []
            via_ids = True
            taken = 0
            while self._spans and taken < self._max_batch:
                span = self._spans[0]
                pos = span[2]
                k = min(len(span[0]) - pos, self._max_batch - taken)
                parts.append((span[0][pos:pos + k], span[1][pos:pos + k]))
                via_ids = via_ids and span[4]
                taken += k
                if pos + k == len(span[0]):
                    self._spans.popleft()
                    self._space_cv.notify()
                else:
                    span[2] = pos + k
            self._pending -= taken
            self._inflight += 1
            if not self._pending:
                self._flush = False
            else:
                self._work_cv.notify()  # more is due: let another worker start on it
        if len(parts) == 1:
            return parts[0][0], parts[0][1], via_ids
        if via_ids:
            return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), True)
        ids = [i for p in parts for i in (p[0].tolist() if isinstance(p[0], np.ndarray) else p[0])]
        idx = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
        return ids, idx, False

    def _process(self, ids: Any, idx: Any, via_ids: bool) -> None:
        """Run one batch and complete its samples; never raises (errors are counted and logged)."""
        n = len(ids)
        failed = False
        data: Sequence[bytes] | None = None
        try:
            idx_np = idx if isinstance(idx, np.ndarray) else np.asarray(idx, dtype=np.int64)
            inputs = self.qsl.get_batch(idx_np)
            outputs = self.backend.run(inputs)
            if self.postprocess is not None:
                data = self.postprocess(outputs, idx_np)
                if len(data) != n:
                    raise RuntimeError(f"postprocess returned {len(data)} responses for a batch of {n}")
        except Exception as exc:  # the run must go on: complete with empty data, count, log
            failed, data = True, None
            self._record_error(exc, n)
        try:
            if via_ids:
                self.complete_ids(ids, data)
            elif data is None:
                self.complete([(i, None) for i in ids])
            else:
                self.complete(list(zip(ids, data)))
        except Exception as exc:
            if not failed:
                self._record_error(exc, n)
        with self._lock:
            self.batches += 1
            self.samples += n
            self._inflight -= 1
            if not self._inflight and not self._pending:
                self._idle_cv.notify_all()

    def _record_error(self, exc: BaseException, n: int) -> None:
        with self._lock:
            self.errors += 1
            self.failed_samples += n
            self.last_error = f"{type(exc).__name__}: {exc}"
            count = self.errors
        if count <= _TRACEBACKS_LOGGED:
            log.error("%s: batch of %d samples failed; completed with empty responses", self.name, n,
                      exc_info=exc)
        else:
            log.error("%s: batch of %d samples failed (%s); %d failed batches so far", self.name, n,
                      self.last_error, count)

    # -- control -----------------------------------------------------------------------------------
    def cancel_pending(self) -> int:
        """Drop every queued sample no worker has taken yet; returns how many were dropped.

        Called by the engine after Ctrl-C (from the main thread, never from a signal handler), so ``close()``
        then only waits for the batches already running. Dropped samples are never completed: the engine has
        stopped waiting for them.
        """
        with self._lock:
            dropped = sum(len(span[0]) - span[2] for span in self._spans)
            self._spans.clear()
            self._pending = 0
            self._flush = False
            self._space_cv.notify_all()
            if not self._inflight:
                self._idle_cv.notify_all()
        return dropped

    def drain(self, timeout: float | None = None) -> bool:
        """Flush and wait until every queued sample is completed; False if ``timeout`` (s) ran out."""
        self.flush_queries()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._pending or self._inflight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle_cv.wait(left)
        return True

    def stats(self) -> dict[str, Any]:
        """Counters for result files: batches, samples, mean batch size, errors, policy."""
        with self._lock:
            return {
                "batches": self.batches,
                "samples": self.samples,
                "mean_batch_size": self.samples / self.batches if self.batches else 0.0,
                "errors": self.errors,
                "failed_samples": self.failed_samples,
                "last_error": self.last_error,
                "max_batch_size": self.policy.max_batch_size,
                "max_wait_us": self.policy.max_wait_us,
                "workers": self.policy.workers,
            }

    def close(self, timeout: float | None = 10.0) -> None:
        """Run what is queued, then stop and join the workers (idempotent)."""
        with self._lock:
            self._stopping = True
            self._work_cv.notify_all()
            self._space_cv.notify_all()
        for t in self._threads:
            t.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("%s: workers %s still busy after %s s; left running as daemon threads",
                        self.name, ", ".join(alive), timeout)

    def __enter__(self) -> BackendSUT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
