"""The cheapest stand-in for the LoadGen engine in the harness benchmarks: counts completions and signals
when all N are in (shared by ``harness_efficiency.py``, ``vision_perf.py`` and ``backends.py``)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class Completions:
    """``complete``/``complete_ids`` as a SUT's ``bind`` takes them; ``done`` is set at the ``expect``-th."""

    def __init__(self, expect: int) -> None:
        self.expect, self.count, self.done, self._lock = expect, 0, threading.Event(), threading.Lock()

    def complete(self, responses: Any, t_ns: int | None = None) -> None:
        self._add(len(responses))

    def complete_ids(self, ids: np.ndarray, data: Any = None, n_tokens: Any = None) -> None:
        self._add(len(ids))

    def _add(self, n: int) -> None:
        with self._lock:
            self.count += n
            if self.count >= self.expect:
                self.done.set()
