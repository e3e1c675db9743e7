"""Query samples, responses and the SUT / QSL interfaces the LoadGen engine drives.

The shapes follow the official LoadGen (spec loadgen.md §1): a ``QuerySample`` is ``(id, index)`` where ``id``
is an opaque non-zero response id and ``index`` a QSL sample index; a response carries the id and the
response bytes. Podium's ids are ``global sample sequence id + 1``, unique over a whole test.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Protocol, Sequence, runtime_checkable

import numpy as np


class QuerySample(NamedTuple):
    """One sample of a query: ``id`` to complete it with, ``index`` into the QSL."""

    id: int
    index: int  # type: ignore[assignment]  # the official field name, shadowing tuple.index


class QuerySampleResponse(NamedTuple):
    """The answer for one sample: its id, the response data (bytes, a numpy array, or None for empty) and,
    for token-latency runs (LoadGen 6.0.x rounds), how many tokens it holds."""

    id: int
    data: bytes | bytearray | memoryview | np.ndarray | None = None
    n_tokens: int = 0


ResponseData = bytes | bytearray | memoryview | np.ndarray | None

class CompleteFn(Protocol):
    """``complete(responses, t_ns=None)``: report finished samples.

    Thread-safe: callable from any thread (the SUT's workers, a network callback, or inside ``issue_queries``
    itself), in any order, once per sample, for the whole test. Each response's data is copied before
    ``complete`` returns (when it is logged), so the SUT may reuse or free its buffer afterwards, as with the
    official ``QuerySamplesComplete``. A completion after the test ended, of an unknown id, or a second one for
    a sample is counted as an error in the detail log, never raised.

    ``t_ns`` (a podium extension; the official call has none): when the samples finished, on this machine's
    ``time.perf_counter_ns`` clock, for a SUT that learns of a completion later than it happened (a client
    relaying from another process stamps on arrival there); None is the time of the call. A time after the
    call is taken as the call's.
    """

    def __call__(self, responses: Sequence[QuerySampleResponse] | Sequence[tuple[int, Any]],
                 t_ns: int | None = None) -> None: ...
#: ``complete_ids(ids, data=None)``: the fast path of ``complete``, with the same contract; ``ids`` an int64
#: array of response ids, ``data`` None (nothing to log) or one payload per id.
CompleteIdsFn = Callable[..., None]


@runtime_checkable
class SystemUnderTest(Protocol):
    """The system under test, as ``start_test`` drives it (the official ``SystemUnderTest`` in podium's shape).

    Who calls what, and when:

    * ``bind(complete, complete_ids)``: by ``start_test``, on the thread that called it, once per test before
      the first query. The SUT keeps the two callables (see ``CompleteFn``) until the next ``bind``.
    * ``issue_queries(samples)``: on the thread that called ``start_test`` (podium issues from that thread, as
      the official issues from its own single issue thread), once per query; Offline sends one query holding
      every sample of the series. It must return quickly: time spent in it delays every later query and shows
      as issue lateness (Server) or lost throughput. The list is the SUT's to keep.
      The SUT completes each sample exactly once, from any thread, now or later. Raising ends the test
      INVALID with the exception named in every log (the run still writes them).
    * ``flush_queries()``: on the same thread, after the last query of each series (official ``FlushQueries``):
      a batching SUT sends what it holds. It may block until it has sent it, not until it completes.
    * ``name``: the SUT's name for the logs (an attribute, or a method returning it).

    Optional members (the engine looks for them and uses them when present):

    * ``issue_arrays(ids, indices)``: the fast path instead of ``issue_queries``, same contract, with two int64
      arrays (``FastSystemUnderTest``). The arrays stay valid after the call (the SUT may keep them).
    * ``failed_samples`` (int): how many samples the SUT answered empty because they failed there; read by
      the engine before and after each series, any growth makes the test INVALID.
    * ``describe_failures() -> str | None``: one line on those failures for the summary (the first error).
    * ``cancel_pending()``: called once on Ctrl-C, from the ``start_test`` thread: drop queued work not yet
      started and complete it empty; must not block.
    """

    name: str

    def bind(self, complete: CompleteFn, complete_ids: CompleteIdsFn) -> None: ...

    def issue_queries(self, samples: list[QuerySample]) -> None: ...

    def flush_queries(self) -> None: ...


class FastSystemUnderTest(SystemUnderTest, Protocol):
    """A SUT that also takes queries as two int64 arrays (ids, QSL indices): no Python object per sample.

    The engine uses ``issue_arrays`` instead of ``issue_queries`` whenever the SUT has it.
    """

    def issue_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None: ...


@runtime_checkable
class QuerySampleLibrary(Protocol):
    """The data set side (the official ``QuerySampleLibrary``).

    * ``total_sample_count``: how many samples the data set has; ``performance_sample_count``: how many fit in
      memory at once (the loaded set of a performance series). Read by ``start_test`` when the test starts.
    * ``load_samples(indices)``: on the ``start_test`` thread, before the queries of a series that uses those
      samples; it blocks until they are loaded (timed outside the measured series). ``indices`` is the QSL's
      to keep. Samples stay loaded until ``unload_samples`` with the same indices, which comes after every
      sample issued from that set has completed (or the test ended).
    * Raising in either ends the test INVALID with the exception named in every log.
    """

    name: str
    total_sample_count: int
    performance_sample_count: int

    def load_samples(self, indices: list[int]) -> None: ...

    def unload_samples(self, indices: list[int]) -> None: ...


class BaseSUT:
    """Convenience base for SUTs: stores the completion callables given by ``bind``.

    Subclasses implement ``issue_queries`` (and optionally ``issue_arrays``) and call ``self.complete``.
    """

    name = "PodiumSUT"

    def __init__(self) -> None:
        self.complete: CompleteFn = _unbound
        self.complete_ids: CompleteIdsFn = _unbound

    def bind(self, complete: CompleteFn, complete_ids: CompleteIdsFn) -> None:
        self.complete = complete
        self.complete_ids = complete_ids

    def issue_queries(self, samples: list[QuerySample]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def flush_queries(self) -> None:
        pass


class SimpleQSL:
    """A QSL given by counts and optional load/unload callables (like the official ``ConstructQSL``)."""

    def __init__(
        self,
        total_sample_count: int,
        performance_sample_count: int,
        load: Callable[[list[int]], None] | None = None,
        unload: Callable[[list[int]], None] | None = None,
        name: str = "PodiumQSL",
    ) -> None:
        self.name = name
        self.total_sample_count = int(total_sample_count)
        self.performance_sample_count = int(performance_sample_count)
        self._load = load
        self._unload = unload

    def load_samples(self, indices: list[int]) -> None:
        if self._load is not None:
            self._load(indices)

    def unload_samples(self, indices: list[int]) -> None:
        if self._unload is not None:
            self._unload(indices)


def _unbound(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("SUT completion used before the LoadGen engine bound it (call start_test first)")
