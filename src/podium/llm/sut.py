"""``OpenAISUT``: the LoadGen's system under test over OpenAI-compatible streaming endpoints.

Each query sample becomes one streamed request; the first non-empty content fragment is reported with
``first_token_complete`` as it arrives (TTFT), the end of the stream with ``complete`` carrying ``n_tokens``
(TPOT). Threads: ``issue_queries`` runs on the LoadGen's issuing thread and only hands requests to the
client's loop thread; both callbacks run on that loop thread. A failed request is completed empty and
counted in ``failed_samples`` (the engine then ends the test INVALID), its reason kept for the summary.

With ``processes`` > 1 the requests go out from that many worker processes (``podium.llm.workers``) under
the same schedule; their arrival stamps are what the LoadGen records.

Output tokens are counted with the model's tokenizer when one is given (the MLPerf way), else taken from
the server's ``usage``, else the number of content fragments; when both a tokenizer and ``usage`` are there,
samples where they disagree are counted and reported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from podium.llm.client import EndpointStats, StreamingClient, StreamResult
from podium.llm.metrics import RequestTiming, percentiles
from podium.llm.workers import ClientWorkers
from podium.loadgen import first_token_complete
from podium.loadgen.types import BaseSUT, QuerySample, QuerySampleResponse



@dataclass
class Tally:
    """What the SUT saw of the requests of one test (``OpenAISUT.take_tally``)."""

    requests: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    token_source: str = ""
    usage_disagrees: int = 0
    usage_compared: int = 0
    output_tokens: int = 0
    #: ns from ``issue_queries`` to the request leaving (client overhead and, Offline, the in-flight cap)
    issue_delay_ns: list[int] = field(default_factory=list)
    #: ns from the request leaving to its first reasoning fragment (reasoning models), and to first content
    reasoning_ttft_ns: list[int] = field(default_factory=list)
    send_ttft_ns: list[int] = field(default_factory=list)
    #: the simulated server's own TTFT/TPOT per request (ms), when it sent them
    sim_ttft_ms: list[float] = field(default_factory=list)
    sim_tpot_ms: list[float] = field(default_factory=list)
    #: every request's timing as the client saw it, TTFT from issue_queries (for goodput)
    timings: list[RequestTiming] = field(default_factory=list)


def failure_line(t: Tally) -> str | None:
    """One line on a tally's failed requests (None: none failed)."""
    if not t.failed:
        return None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(t.failures.items()))
    return f"{t.failed} of {t.requests} LLM requests failed ({kinds}); first: {t.first_error}"


class OpenAISUT(BaseSUT):
    """The SUT (see the module docstring); ``close()`` once at the end."""

    def __init__(self, urls: Sequence[str], api: str, bodies: Sequence[bytes], *,
                 count_tokens: Callable[[str], int] | None = None, headers: dict[str, str] | None = None,
                 timeout_s: float = 60.0, max_in_flight: int | None = None, name: str | None = None,
                 processes: int = 1) -> None:
        super().__init__()
        self.name = name or f"OpenAISUT({', '.join(urls)})"
        self._bodies = bodies
        self._count = count_tokens
        self._lock = threading.Lock()
        self._tally = Tally()
        self.failed_samples = 0
        self._probe: Callable[[StreamResult], None] | None = None
        self.processes = processes
        self.client: StreamingClient | None = None
        self.workers: ClientWorkers | None = None
        if processes > 1:
            self.workers = ClientWorkers(processes, urls, api, bodies, on_first=self._first, on_done=self._done,
                                         headers=headers, timeout_s=timeout_s, max_in_flight=max_in_flight)
        else:
            self.client = StreamingClient(urls, api, on_first=self._first, on_done=self._done, headers=headers,
                                          timeout_s=timeout_s, max_in_flight=max_in_flight)

    @property
    def endpoints(self) -> list[EndpointStats]:
        return self.client.endpoints if self.client is not None else self.workers.endpoints if self.workers else []

    def _submit(self, items: list[tuple[int, int]]) -> None:
        if self.client is not None:
            bodies = self._bodies
            self.client.submit([(tag, bodies[i]) for tag, i in items])
        elif self.workers is not None:
            self.workers.submit(items)

    # -- LoadGen side ------------------------------------------------------------------------------
    def issue_queries(self, samples: list[QuerySample]) -> None:
        self._submit([(s.id, s.index) for s in samples])

    def flush_queries(self) -> None:
        pass

    def cancel_pending(self) -> None:
        if self.client is not None:
            self.client.cancel_all()
        if self.workers is not None:
            self.workers.cancel_all()

    def describe_failures(self) -> str | None:
        return failure_line(self._tally)

    # -- probes (calibration), outside any test ----------------------------------------------------
    def probe(self, indices: Sequence[int], timeout_s: float) -> list[StreamResult]:
        """Send these samples' requests outside the LoadGen and wait for them (bounded by ``timeout_s``)."""
        got: list[StreamResult] = []
        done = threading.Event()

        def on(res: StreamResult) -> None:
            got.append(res)
            if len(got) == len(indices):
                done.set()

        self._probe = on
        try:
            self._submit([(-1 - k, int(i)) for k, i in enumerate(indices)])
            if not done.wait(timeout_s):
                self.cancel_pending()
                done.wait(10)
        finally:
            self._probe = None
        return got

    # -- loop thread -------------------------------------------------------------------------------
    def _first(self, tag: int, text: str, t_ns: int) -> None:
        if self._probe is None:  # stamped on arrival: the LoadGen takes that time, not this call's
            first_token_complete([QuerySampleResponse(tag, text.encode("utf-8"))], t_ns=t_ns)

    def _done(self, res: StreamResult) -> None:
        if self._probe is not None:
            self._probe(res)
            return
        with self._lock:
            t = self._tally
            t.requests += 1
            t.issue_delay_ns.append(res.t_send_ns - res.t_submit_ns if res.t_send_ns else 0)
            if res.t_first_reasoning_ns:
                t.reasoning_ttft_ns.append(res.t_first_reasoning_ns - res.t_send_ns)
            if res.sim is not None and res.ok:
                if res.sim.get("ttft_ms") is not None:
                    t.sim_ttft_ms.append(float(res.sim["ttft_ms"]))
                if res.sim.get("tpot_ms") is not None:
                    t.sim_tpot_ms.append(float(res.sim["tpot_ms"]))
            if not res.ok:
                t.failed += 1
                self.failed_samples += 1
                kind = res.kind or "failed"
                t.failures[kind] = t.failures.get(kind, 0) + 1
                t.first_error = t.first_error or res.error
                n = 0
                t.timings.append(RequestTiming(False, None, None, None, 0))
            else:
                t.send_ttft_ns.append(res.t_first_ns - res.t_send_ns)
                n = self._tokens(res, t)
                t.output_tokens += n
                t.timings.append(RequestTiming(
                    True, (res.t_first_ns - res.t_submit_ns) / 1e6,
                    (res.t_done_ns - res.t_first_ns) / 1e6 / (n - 1) if n > 1 else None,
                    (res.t_done_ns - res.t_submit_ns) / 1e6, n))
        data = res.text.encode("utf-8") if res.ok else b""
        self.complete([QuerySampleResponse(res.tag, data, n)], t_ns=res.t_done_ns if res.ok else None)

    def _tokens(self, res: StreamResult, t: Tally) -> int:
        if self._count is not None:
            n = self._count(res.text)
            t.token_source = "tokenizer"
            if res.usage_tokens is not None:
                t.usage_compared += 1
                # the reasoning tokens are in usage but not in the content the tokenizer counts
                if abs(n + res.reasoning_fragments - res.usage_tokens) > max(1, 0.02 * res.usage_tokens):
                    t.usage_disagrees += 1
            return n
        if res.usage_tokens is not None:
            t.token_source = "usage"
            return res.usage_tokens
        t.token_source = "fragments"
        return res.fragments + res.reasoning_fragments

    def take_tally(self) -> Tally:
        """The tally since the last call (one test's), and a fresh one for the next."""
        with self._lock:
            t, self._tally = self._tally, Tally()
        return t

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.workers is not None:
            self.workers.close()


def percentiles_ms(values_ns: Sequence[int] | Sequence[float], scale: float = 1e-6) -> dict[str, float] | None:
    """p50/p90/p99 and mean of ``values_ns`` in ms (None when empty)."""
    return percentiles((np.asarray(values_ns, dtype=np.float64) * scale).tolist())
