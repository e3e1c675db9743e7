"""A quick throughput/latency estimate through the network, to size a short run when no model runs locally.

The runner's ``calibrate`` times a local backend; in network mode the model is on the SUT nodes, so this sends
real samples through the client SUT instead: single-sample requests one after another (latency of a query), then
full requests kept in flight on every endpoint (throughput). Failures raise, naming the endpoint.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from podium.loadgen.types import QuerySample
from podium.network.errors import EndpointError


def calibrate_remote(sut: Any, qsl: Any, budget_s: float = 1.0, batch: int = 32) -> tuple[float, float, int]:
    """``(samples per second, single-sample latency in s, samples per request)`` measured through ``sut``."""
    n = int(min(qsl.total_sample_count, max(batch * 4, 64)))
    qsl.load_samples(list(range(n)))
    lock = threading.Lock()
    state = {"done": 0, "target": 0}
    event = threading.Event()

    def complete(responses: Any) -> None:
        with lock:
            state["done"] += len(responses)
            if state["done"] >= state["target"]:
                event.set()

    def complete_ids(ids: Any, data: Any = None) -> None:
        complete(list(ids))

    def wait_for(count: int, samples: list[QuerySample]) -> None:
        with lock:
            state["done"], state["target"] = 0, count
            event.clear()
        step = batch if count > 1 else 1
        for start in range(0, len(samples), step):
            sut.issue_queries(samples[start:start + step])
        if not event.wait(sut.endpoints[0].timeout_s + 1):
            raise EndpointError(f"calibration: no answer from {', '.join(e.url for e in sut.endpoints)}")

    sut.bind(complete, complete_ids)
    sut.reset_counters()
    aborting = sut.abort_on_failure
    sut.abort_on_failure = False  # no test is running: nothing to abort
    try:
        wait_for(1, [QuerySample(1, 0)])  # warm-up: connections, first inference
        t0 = time.perf_counter()
        runs = 0
        while runs < 3 or (time.perf_counter() - t0 < budget_s / 3 and runs < 500):
            wait_for(1, [QuerySample(1, runs % n)])
            runs += 1
        latency = (time.perf_counter() - t0) / runs
        samples = [QuerySample(i + 1, int(i % n)) for i in range(n * len(sut.endpoints))]
        t0 = time.perf_counter()
        rounds = 0
        while rounds < 2 or (time.perf_counter() - t0 < budget_s * 2 / 3 and rounds < 200):
            wait_for(len(samples), samples)
            rounds += 1
        rate = rounds * len(samples) / (time.perf_counter() - t0)
        if sut.failed_requests:
            raise EndpointError(f"calibration: {sut.errors[0] if sut.errors else 'requests failed'}")
    finally:
        sut.abort_on_failure = aborting
        sut.reset_counters()
        qsl.unload_samples(list(range(n)))
    return float(rate), float(latency), batch
