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
    index: int


class QuerySampleResponse(NamedTuple):
    """The answer for one sample: its id and the response data (bytes, a numpy array, or None for empty)."""

    id: int
    data: bytes | bytearray | memoryview | np.ndarray | None = None


ResponseData = bytes | bytearray | memoryview | np.ndarray | None

#: ``complete(responses)``: thread-safe, callable from any thread, any order, once per sample.
CompleteFn = Callable[[Sequence[QuerySampleResponse] | Sequence[tuple[int, Any]]], None]
#: ``complete_ids(ids, data=None)``: the fast path; ``ids`` an int64 array, ``data`` None or a list of payloads.
CompleteIdsFn = Callable[..., None]


@runtime_checkable
class SystemUnderTest(Protocol):
    """What the engine needs of a SUT.

    ``bind(complete, complete_ids)`` is called once before the first query of a test; the SUT keeps the two
    callables and uses them to report finished samples. A SUT may complete synchronously inside
    ``issue_queries`` or later from any thread.
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
    """The data set side: how many samples exist, how many fit in memory, and load/unload of a set."""

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
