"""The ``llm`` part of each test's record: requests, failures, token counting, and whether the client held
the run back.

A record contributor (``podium.loadgen.record``): ``test_starting`` on the ``start_test`` thread before any
log opens (it starts a fresh tally), ``test_ended`` after the logs are closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.llm.metrics import SLO, point_figures
from podium.llm.sut import OpenAISUT, Tally, failure_line, percentiles_ms
from podium.loadgen.record import RecordPart
from podium.loadgen.run import TestResult
from podium.loadgen.settings import Scenario, TestSettings

#: the client limited a run when requests left this late after the LoadGen issued them (p90) ...
CLIENT_LAG_MS = 2.0
#: ... and that lag is more than this share of the TTFT the client measured (p50)
CLIENT_LAG_SHARE = 0.05


def client_limited(t: Tally, scenario: Scenario | None) -> str | None:
    """Why the client, not the server, limited the test (None: it did not). Offline is left out: there the
    in-flight cap holds requests back on purpose."""
    if scenario is Scenario.Offline:
        return None
    lag = percentiles_ms(t.issue_delay_ns)
    ttft = percentiles_ms(t.send_ttft_ns)
    if lag is None or ttft is None:
        return None
    if lag["p90"] > CLIENT_LAG_MS and lag["p90"] > CLIENT_LAG_SHARE * ttft["p50"]:
        return (f"client-limited: requests left the client {lag['p90']:.1f} ms (p90) after the LoadGen issued "
                f"them, {100 * lag['p90'] / ttft['p50']:.0f} % of the TTFT; the latencies include that delay "
                "(more --client-processes, or a machine with more cores)")
    return None


class LLMRecorder:
    """Record contributor for an ``OpenAISUT``; ``notes`` gathers, over every test, lines for people."""

    def __init__(self, sut: OpenAISUT, info: dict[str, Any], slo: SLO | None = None) -> None:
        self.sut = sut
        self.info = info
        self.slo = slo or SLO()
        self.notes: list[str] = []
        self._scenario: Scenario | None = None

    def test_starting(self, outdir: Path, settings: TestSettings) -> None:
        self.sut.take_tally()
        self._scenario = settings.scenario

    def test_ended(self, result: TestResult) -> RecordPart:
        t = self.sut.take_tally()
        part: dict[str, Any] = {
            **self.info, "requests": t.requests, "failed_requests": t.failed, "failures": t.failures,
            "first_error": t.first_error, "output_tokens": t.output_tokens,
            "token_count_source": t.token_source or None,
            "issue_delay_ms": percentiles_ms(t.issue_delay_ns),
            "ttft_from_send_ms": percentiles_ms(t.send_ttft_ns),
            "reasoning_ttft_from_send_ms": percentiles_ms(t.reasoning_ttft_ns),
            "client_processes": self.sut.processes,
            "endpoints": [{"url": e.url, "requests": e.requests, "failures": e.failures}
                          for e in self.sut.endpoints],
        }
        perf = result.performance
        dur = perf.final_query_all_samples_done_time_s if perf is not None else 0.0
        # the client's figures of the test (TTFT from issue_queries): tokens/s per user and goodput
        part["figures"] = point_figures(t.timings, dur, self.slo)
        if t.sim_ttft_ms:
            part["server_reported_ttft_ms"] = percentiles_ms(t.sim_ttft_ms, 1.0)
        if t.sim_tpot_ms:
            part["server_reported_tpot_ms"] = percentiles_ms(t.sim_tpot_ms, 1.0)
        labels, reasons, notes = [], [], []
        if t.usage_compared:
            part["usage_compared"] = t.usage_compared
            part["usage_disagrees"] = t.usage_disagrees
            if t.usage_disagrees:
                notes.append(f"output tokens: the tokenizer and the server's usage disagree on {t.usage_disagrees} "
                             f"of {t.usage_compared} samples (the tokenizer's count is used)")
        if t.token_source == "fragments":
            labels.append("output tokens counted as stream fragments (no --tokenizer and no usage from the server)")
        limited = client_limited(t, self._scenario)
        part["client_limited"] = limited
        if limited:
            labels.append(limited)
        if t.failed:
            line = failure_line(t) or f"{t.failed} LLM requests failed"
            reasons.append(line)
            notes.append(line)
        self.notes.extend(notes)
        return RecordPart(values={"llm": part}, labels=labels, invalid_reasons=reasons, notes=notes)
