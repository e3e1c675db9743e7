"""The LLM SUT provider: OpenAI-compatible streaming endpoints (``podium run --benchmark llm --sut-url
openai+http://...``), for benchmarks whose QSL holds prompts (``podium.benchmarks.llm``)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.benchmarks.base import Benchmark
from podium.benchmarks.llm import LLMBenchmark, PromptQSL
from podium.benchmarks.llm.prompts import Prompt
from podium.errors import PodiumError
from podium.llm import LLMRecorder, OpenAISUT
from podium.llm.client import StreamResult, endpoint_url
from podium.llm.metrics import SLO
from podium.loadgen.record import RecordContributor
from podium.loadgen.settings import Scenario
from podium.loadgen.types import QuerySampleLibrary
from podium.suite.calibrate import Calibration
from podium.suite.provider import Stage

#: requests in flight per endpoint in Offline when the user sets no cap
OFFLINE_IN_FLIGHT = 64


def request_body(p: Prompt, api: str, model: str, extra: dict[str, Any]) -> bytes:
    """The JSON body of one streamed request for prompt ``p``."""
    body: dict[str, Any] = {"model": model, "stream": True, "stream_options": {"include_usage": True}}
    if api == "chat":
        body["messages"] = p.as_messages()
    else:
        body["prompt"] = p.as_text()
    if p.max_tokens is not None:
        body["max_tokens"] = p.max_tokens
    body.update(extra)
    return json.dumps(body).encode("utf-8")


def served_model(url: str, headers: dict[str, str], timeout_s: float) -> str:
    """The first model ``GET /v1/models`` lists; a one-line error when the server cannot be reached."""
    import httpx

    models_url = endpoint_url(url, "completions").rsplit("/", 1)[0] + "/models"
    try:
        r = httpx.get(models_url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise PodiumError(f"--sut-url {url}: cannot reach the server ({type(exc).__name__}: {exc})") from None
    try:
        data = r.json().get("data") or []
        return str(data[0]["id"])
    except Exception:
        raise PodiumError(f"--sut-url {url}: GET {models_url} gave HTTP {r.status_code} and no model list; "
                          "name the model with --model") from None


class OpenAISession:
    """An ``OpenAISUT`` over the endpoints with its record contributor (a ``SutSession``)."""

    def __init__(self, sut: OpenAISUT, info: dict[str, Any], qsl_size: int, slo: SLO | None = None) -> None:
        self.sut = sut
        self.info = info
        self.recorder = LLMRecorder(sut, info, slo)
        self.contributors: list[RecordContributor] = [self.recorder]
        self.labels = [f"LLM SUT: {', '.join(info['urls'])} ({info['api']} API, model {info['model']}); "
                       "latencies include the network and the client"]
        self._n = qsl_size

    def calibrate(self, qsl: QuerySampleLibrary, scenario: Scenario) -> Calibration:
        """One warm-up request, then the scenario's own shape: SingleStream times requests one at a time;
        MultiStream sends a query's eight at once (the suite sizes a query as eight of ``batch1_latency_s``, so
        that is the query's time over eight); Offline as many at once as it will keep in flight (up to 64);
        Server eight at once (its rate)."""
        spq = 8
        width = {Scenario.Offline: min(self.info.get("max_in_flight") or 64, 64)}.get(scenario, spq)
        n = min(max(width, 4), self._n)
        idx = list(range(n))
        qsl.load_samples(idx)
        try:
            limit = max(30.0, self.info["timeout_s"])
            self._good(self.sut.probe(idx[:1], timeout_s=limit))
            if scenario is Scenario.SingleStream:
                good = [r for i in idx[:4] for r in self._good(self.sut.probe([i], timeout_s=limit))]
                lat = float(np.median([(r.t_done_ns - r.t_send_ns) / 1e9 for r in good]))
                return Calibration(samples_per_second=1.0 / max(lat, 1e-6), batch1_latency_s=lat, batch_size=1)
            t0 = time.perf_counter()
            good = self._good(self.sut.probe(idx, timeout_s=limit))
            elapsed = time.perf_counter() - t0
        finally:
            qsl.unload_samples(idx)
        if scenario is Scenario.MultiStream:
            return Calibration(samples_per_second=len(good) / max(elapsed, 1e-6),
                               batch1_latency_s=elapsed / len(idx), batch_size=1)
        lat = float(np.median([(r.t_done_ns - r.t_send_ns) / 1e9 for r in good]))
        return Calibration(samples_per_second=len(good) / max(elapsed, 1e-6), batch1_latency_s=lat, batch_size=1)

    @staticmethod
    def _good(got: list[StreamResult]) -> list[StreamResult]:
        good = [r for r in got if r.ok]
        if not good:
            first = next((r.error for r in got if r.error), "no answer")
            raise PodiumError(f"--sut-url: the calibration requests failed ({first})")
        return good

    def record_info(self, stage: Stage) -> dict[str, Any]:
        return {"backend": {"name": "openai", "servers": self.info["urls"], "model": self.info["model"]}}

    def unusable(self) -> str | None:
        t = self.sut.failed_samples
        return f"the LLM server failed {t} requests" if t else None

    def accuracy_spoiled(self) -> str | None:
        return self.unusable()

    def close(self) -> list[str]:
        self.sut.close()
        return list(self.recorder.notes)


@dataclass
class OpenAIProvider:
    """A ``SutProvider`` for OpenAI-compatible endpoints; the fields are ``podium run``'s options."""

    urls: tuple[str, ...]
    api: str = "chat"
    model: str | None = None
    timeout_s: float = 60.0
    #: requests in flight at most, over all endpoints (None: Offline 64 per endpoint, other scenarios no cap)
    max_in_flight: int | None = None
    #: environment variable holding the API key (sent as a bearer token when set)
    api_key_env: str = "OPENAI_API_KEY"
    extra_body: dict[str, Any] = field(default_factory=dict)
    #: the SLOs goodput is measured against (every test's record, ``llm.figures``)
    slo: SLO = field(default_factory=SLO)
    #: client processes issuing the requests (``podium.llm.workers``)
    processes: int = 1
    kind: str = field(default="network", init=False)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def load(self, benchmark: Benchmark, stage: Stage) -> None:
        if not isinstance(benchmark, LLMBenchmark):
            raise PodiumError(f"--sut-url {self.urls[0]}: an openai+ endpoint serves LLM benchmarks (--benchmark "
                              f"llm), not {benchmark.name}; KServe v2 endpoints are http(s):// or grpc(s)://")
        for u in self.urls:
            endpoint_url(u, self.api)  # a malformed URL or API fails before anything loads
        stage("connecting")
        if self.model is None:
            self.model = served_model(self.urls[0], self._headers(), min(self.timeout_s, 10.0))

    def open(self, benchmark: Benchmark, qsl: QuerySampleLibrary, scenario: Scenario,
             stage: Stage) -> OpenAISession:
        assert isinstance(benchmark, LLMBenchmark) and isinstance(qsl, PromptQSL)
        model = self.model or "default"
        bodies = [request_body(p, self.api, model, self.extra_body) for p in qsl.prompts]
        tok = benchmark.tokenizer()
        cap = self.max_in_flight
        if cap is None and scenario is Scenario.Offline:
            cap = OFFLINE_IN_FLIGHT * len(self.urls)
        sut = OpenAISUT(list(self.urls), self.api, bodies, count_tokens=tok.count if tok else None,
                        headers=self._headers(), timeout_s=self.timeout_s, max_in_flight=cap,
                        name=f"OpenAI({model})", processes=self.processes)
        info = {"api": self.api, "model": model, "urls": list(self.urls), "max_in_flight": cap,
                "timeout_s": self.timeout_s, "client_processes": self.processes, "tokenizer": str(tok.path) if tok else None,
                "extra_body": self.extra_body, "slo": self.slo.to_json() if self.slo.given else None}
        return OpenAISession(sut, info, qsl.total_sample_count, self.slo)
