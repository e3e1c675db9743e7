"""Simulated SUTs for engine tests: completions are callbacks on a ``SimClock``."""

from __future__ import annotations

from podium.loadgen import BaseSUT
from podium.loadgen.clock import SimClock


class SimSUT(BaseSUT):
    """``workers`` FIFO servers; each sample takes ``service_ns``; answers with the QSL index as 4 LE bytes.

    ``never`` is a set of QSL-index positions (issue order) whose samples never complete; ``duplicate``
    completes every sample twice.
    """

    name = "SimSUT"

    def __init__(self, clock: SimClock, service_ns: int, workers: int = 1, never: set[int] | None = None,
                 duplicate: bool = False) -> None:
        super().__init__()
        self.clock = clock
        self.service_ns = service_ns
        self.free_at = [0] * workers
        self.never = never or set()
        self.duplicate = duplicate
        self.issued = 0
        self.flushes = 0
        self.issue_calls: list[list[tuple[int, int]]] = []

    def issue_queries(self, samples):
        self.issue_calls.append([(s.id, s.index) for s in samples])
        for s in samples:
            k = self.issued
            self.issued += 1
            if k in self.never:
                continue
            w = min(range(len(self.free_at)), key=self.free_at.__getitem__)
            start = max(self.clock.now(), self.free_at[w])
            end = start + self.service_ns
            self.free_at[w] = end
            data = int(s.index).to_bytes(4, "little")
            resp = [(s.id, data)]
            self.clock.call_at(end, lambda r=resp: self.complete(r))
            if self.duplicate:
                self.clock.call_at(end, lambda r=resp: self.complete(r))

    def flush_queries(self):
        self.flushes += 1


class SyncSUT(BaseSUT):
    """Completes inside issue_queries after advancing the simulated clock by ``service_ns`` per query."""

    name = "SyncSUT"

    def __init__(self, clock: SimClock, service_ns: int) -> None:
        super().__init__()
        self.clock = clock
        self.service_ns = service_ns

    def issue_queries(self, samples):
        self.clock.advance(self.service_ns)
        self.complete([(s.id, None) for s in samples])
