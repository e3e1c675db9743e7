"""Fixed-concurrency load: N requests always in flight (each finished request starts the next) for a
duration, the load mode of MLPerf Endpoints' Pareto points and of the LLM serving tools.

Not a LoadGen scenario, so it writes no MLPerf logs; each point's figures (``podium.llm.metrics``) and its
requests' timings are what it returns. Called from one thread, which it blocks for the point's duration plus
the drain (the requests still in flight when issuing stops, bounded by ``drain_s``; those still out after it
are cancelled and count as failed).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from podium.errors import PodiumError
from podium.llm.client import StreamingClient, StreamResult
from podium.llm.metrics import RequestTiming


@dataclass
class ConcurrencyResult:
    """What one fixed-concurrency point measured."""

    concurrency: int
    timings: list[RequestTiming]
    duration_s: float
    failures: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    #: ns from a request being due to it leaving the client, p90 (a slow client shows here)
    issue_delay_p90_ms: float = 0.0
    token_source: str = ""
    endpoints: list[dict[str, Any]] = field(default_factory=list)


def run_concurrency(urls: Sequence[str], api: str, bodies: Sequence[bytes], concurrency: int, *,
                    duration_s: float, count_tokens: Callable[[str], int] | None = None,
                    headers: dict[str, str] | None = None, timeout_s: float = 60.0, seed: int = 0,
                    max_requests: int | None = None, drain_s: float | None = None) -> ConcurrencyResult:
    """Keep ``concurrency`` requests in flight for ``duration_s`` (or until ``max_requests`` were issued)."""
    if concurrency < 1:
        raise PodiumError(f"--concurrency: expected integers >= 1, got {concurrency}")
    if not bodies:
        raise PodiumError("fixed-concurrency load: no prompts")
    order = np.random.default_rng(seed).permutation(len(bodies))
    lock = threading.Lock()
    idle = threading.Event()
    state = {"issued": 0, "open": 0, "stop": False}
    timings: list[RequestTiming] = []
    delays: list[int] = []
    failures: dict[str, int] = {}
    first_error: list[str] = []
    source = {"how": ""}
    client: StreamingClient

    def next_item() -> tuple[int, bytes] | None:
        # called with the lock held
        if state["stop"] or (max_requests is not None and state["issued"] >= max_requests):
            return None
        k = state["issued"]
        state["issued"] += 1
        state["open"] += 1
        return k, bodies[int(order[k % len(order)])]

    def on_done(res: StreamResult) -> None:
        timing = _timing(res, count_tokens, source)
        with lock:
            timings.append(timing)
            delays.append(res.t_send_ns - res.t_submit_ns if res.t_send_ns else 0)
            if not res.ok:
                failures[res.kind or "failed"] = failures.get(res.kind or "failed", 0) + 1
                if not first_error and res.error:
                    first_error.append(res.error)
            state["open"] -= 1
            if time.perf_counter() >= end:
                state["stop"] = True
            item = next_item()
            if item is None and state["open"] == 0:
                idle.set()
        if item is not None:
            client.submit([item])

    client = StreamingClient(list(urls), api, on_first=lambda *a: None, on_done=on_done, headers=headers,
                             timeout_s=timeout_s)
    try:
        t0 = time.perf_counter()
        end = t0 + duration_s
        with lock:
            first = [it for it in (next_item() for _ in range(concurrency)) if it is not None]
        client.submit(first)
        deadline = end + (drain_s if drain_s is not None else timeout_s + 5.0)
        while not idle.wait(0.05):
            if time.perf_counter() >= end:
                with lock:
                    state["stop"] = True
                    if state["open"] == 0:
                        break
            if time.perf_counter() > deadline:
                client.cancel_all()  # their on_done follows: they count as failed (cancelled)
                client.wait_idle(10)
                break
        elapsed = time.perf_counter() - t0
        eps = [{"url": e.url, "requests": e.requests, "failures": e.failures} for e in client.endpoints]
    finally:
        client.close()
    p90 = float(np.percentile(np.asarray(delays, dtype=np.float64), 90)) / 1e6 if delays else 0.0
    return ConcurrencyResult(concurrency, timings, elapsed, failures, first_error[0] if first_error else None,
                             p90, source["how"], eps)


def _timing(res: StreamResult, count: Callable[[str], int] | None, source: dict[str, str]) -> RequestTiming:
    if not res.ok:
        return RequestTiming(False, None, None, None, 0)
    if count is not None:
        n, source["how"] = count(res.text), "tokenizer"
    elif res.usage_tokens is not None:
        n, source["how"] = res.usage_tokens, "usage"
    else:
        n, source["how"] = res.fragments + res.reasoning_fragments, "fragments"
    ttft = (res.t_first_ns - res.t_submit_ns) / 1e6
    e2e = (res.t_done_ns - res.t_submit_ns) / 1e6
    tpot = (res.t_done_ns - res.t_first_ns) / 1e6 / (n - 1) if n > 1 else None
    return RequestTiming(True, ttft, tpot, e2e, n)
