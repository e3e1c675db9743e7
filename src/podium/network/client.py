"""The client SUT: LoadGen on this node, the system under test behind KServe v2 endpoints on others.

``NetworkSUT`` is what MLPerf calls the QDL (query dispatch library): it implements the SUT interface of
``podium.loadgen.types``, turns each query into inference requests (never merging samples of different queries:
the v2.1 rules allow no batching in the QDL; a large query, e.g. Offline's, is split into requests of
``request_samples``), sends them to the endpoints through a balancing policy, and completes the samples from
the transports' I/O threads when the answers arrive, so LoadGen's latencies include the network.

Failures: a request that is refused, times out, gets an error or loses its connection is completed with empty
data (so LoadGen never waits for it), counted in ``failed_requests`` / ``failed_samples``, described in
``errors`` (each message names the endpoint) and, by default, ends the running test at once
(``podium.loadgen.abort_test``), which makes the run INVALID with its logs written. Nothing is retried.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from podium.errors import PodiumError
from podium.loadgen.session import abort_test
from podium.loadgen.settings import Scenario
from podium.loadgen.types import BaseSUT, QuerySample
from podium.network.balancing import Balancer
from podium.network.endpoints import CANCELLED, Endpoint, InferJob, connect
from podium.network.errors import EndpointError, ProtocolError
from podium.network.model import RESPONSE_OUTPUT, RawForm, as_raw_form
from podium.network.tensors import TensorMeta, check_against, datatype_of

log = logging.getLogger("podium.network")

SEND_MODES = ("preprocessed", "raw")
#: Errors kept word for word; later ones are only counted.
MAX_ERRORS_KEPT = 50
#: Samples per request when a query is larger (Offline): big enough to amortise a round trip.
OFFLINE_REQUEST_SAMPLES = 32

#: ``decode(outputs by name, sample count) -> response bytes per sample``.
#: ``decode(outputs, n, indices)``: a response's outputs -> one payload per sample (``indices``: its QSL indices)
Decoder = Callable[[dict[str, np.ndarray], int, np.ndarray], Sequence[bytes]]


class NetworkSUT(BaseSUT):
    """A SUT whose inference runs on remote KServe v2 endpoints (see the module docstring)."""

    def __init__(self, endpoints: list[Endpoint], model: str, inputs: list[TensorMeta],
                 fetch: Callable[[np.ndarray], Any], outputs: list[str] | None, decode: Decoder, *,
                 policy: str = "round_robin", request_samples: int | None = None, abort_on_failure: bool = True,
                 info: dict[str, Any] | None = None, max_request_samples: int | None = None) -> None:
        super().__init__()
        if not endpoints:
            raise PodiumError("--sut-url: at least one endpoint is needed")
        if request_samples is not None and request_samples < 1:
            raise PodiumError(f"--sut-request-samples: expected >= 1, got {request_samples}")
        self.endpoints = endpoints
        self.model = model
        self.inputs = inputs
        self.fetch = fetch
        self.outputs = outputs
        self.decode = decode
        self.balancer = Balancer(len(endpoints), policy)
        self.request_samples = request_samples
        #: The most samples the endpoints take in one request (their ``max_batch_size``): larger queries are
        #: split into requests of at most this many (splitting, never merging, is what the QDL may do).
        self.max_request_samples = max_request_samples
        self.abort_on_failure = abort_on_failure
        self.info = dict(info or {})
        self.name = f"podium-network {model} x{len(endpoints)} (Network SUT)"
        self._lock = threading.Lock()
        self.requests = 0
        self.failed_requests = 0
        self.failed_samples = 0
        self.cancelled_samples = 0
        self.errors: list[str] = []
        self.failed_by_endpoint = [0] * len(endpoints)
        self.aborted = False

    # -- the SUT interface ---------------------------------------------------------------------------------
    def bind(self, complete: Any, complete_ids: Any) -> None:
        """Called by the engine at the start of every test: a new test starts un-aborted (counters kept)."""
        super().bind(complete, complete_ids)
        self.aborted = False

    def issue_queries(self, samples: list[QuerySample]) -> None:
        if len(samples) == 1:
            self._send([samples[0][0]], np.array([samples[0][1]], dtype=np.int64))
            return
        ids = [s[0] for s in samples]
        idx = np.fromiter((s[1] for s in samples), dtype=np.int64, count=len(samples))
        step = min(self.request_samples or len(ids), self.max_request_samples or len(ids))
        for start in range(0, len(ids), step):
            self._send(ids[start:start + step], idx[start:start + step])

    def flush_queries(self) -> None:
        """Nothing to flush: every request is sent as soon as its query is issued."""

    # -- one request ---------------------------------------------------------------------------------------
    def _send(self, ids: list[int], idx: np.ndarray) -> None:
        if self.aborted:
            self._cancelled(ids)
            return
        try:
            tensors = self._tensors(self.fetch(idx))
        except (PodiumError, ValueError, IndexError, TypeError) as exc:
            self._failed(ids, f"LoadGen node: cannot build the request for samples {idx[:3].tolist()} ({exc})", None)
            return
        k = self.balancer.acquire()
        with self._lock:
            self.requests += 1
        self.endpoints[k].submit(InferJob(self.model, tensors, self.outputs, functools.partial(self._done, k, ids, idx),
                                          self._is_aborted))

    def _is_aborted(self) -> bool:
        return self.aborted

    def _tensors(self, batch: Any) -> list[tuple[TensorMeta, np.ndarray]]:
        arrays = batch if isinstance(batch, dict) else {self.inputs[0].name if self.inputs else "input": batch}
        out = []
        for name, arr in arrays.items():
            meta = TensorMeta(name, datatype_of(arr.dtype), tuple(arr.shape))
            expected = next((m for m in self.inputs if m.name == name), None)
            if self.inputs and expected is None:
                raise ProtocolError(f"the model has no input {name!r}")
            if expected is not None:
                check_against(expected, meta.datatype, meta.shape)
            out.append((meta, arr))
        return out

    def _done(self, k: int, ids: list[int], idx: np.ndarray, outputs: dict[str, np.ndarray] | None,
              error: str | None) -> None:
        self.balancer.release(k)
        if error is CANCELLED:
            self._cancelled(ids)
            return
        if error is None:
            try:
                payloads = self.decode(outputs or {}, len(ids), idx)
                if len(payloads) != len(ids):
                    raise ValueError(f"{len(payloads)} responses for {len(ids)} samples")
            except Exception as exc:
                error = self.endpoints[k].fail(f"response does not fit the benchmark ({type(exc).__name__}: {exc})")
        if error is not None:
            self._failed(ids, error, k)
            return
        self.complete(list(zip(ids, payloads)))

    def _failed(self, ids: list[int], message: str, k: int | None) -> None:
        with self._lock:
            self.failed_requests += 1
            self.failed_samples += len(ids)
            if k is not None:
                self.failed_by_endpoint[k] += 1
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(message)
            count = self.failed_requests
        if count <= 3:
            log.error("%s (%d samples completed empty)", message, len(ids))
        if self.abort_on_failure:
            # Before completing: the engine must see the abort when the last sample arrives. Requests queued
            # after this are dropped unsent (counted as cancelled) rather than each waiting for its timeout.
            self.aborted = True
            abort_test()
        self.complete([(i, None) for i in ids])

    def cancel_pending(self) -> None:
        """Drop requests not yet sent (called by the engine after Ctrl-C); they complete empty, unsent."""
        self.aborted = True

    def _cancelled(self, ids: list[int]) -> None:
        with self._lock:
            self.cancelled_samples += len(ids)
        self.complete([(i, None) for i in ids])

    # -- reporting and shutdown ----------------------------------------------------------------------------
    def reset_counters(self) -> None:
        """Zero the counts and clear the aborted state (the runner calls it before each test)."""
        with self._lock:
            self.requests = self.failed_requests = self.failed_samples = self.cancelled_samples = 0
            self.errors = []
            self.failed_by_endpoint = [0] * len(self.endpoints)
            self.aborted = False

    def describe_failures(self) -> str | None:
        """One line for the summary when requests failed (the engine calls it): count and first error."""
        from podium.network.report import failure_line

        report = self.report()
        return failure_line(report) if report["failed_requests"] else None

    def report(self) -> dict[str, Any]:
        """What the result files record: endpoints, policy, what was sent, requests and failures."""
        with self._lock:
            return {**self.info, "requests": self.requests, "failed_requests": self.failed_requests,
                    "failed_samples": self.failed_samples, "errors": list(self.errors),
                    "aborted": self.aborted, "cancelled_samples": self.cancelled_samples,
                    "requests_by_endpoint": dict(zip((e.url for e in self.endpoints), self.balancer.sent)),
                    "failed_by_endpoint": dict(zip((e.url for e in self.endpoints), self.failed_by_endpoint))}

    def close(self) -> None:
        for e in self.endpoints:
            e.close()

    def __enter__(self) -> NetworkSUT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client_sut(urls: Sequence[str], benchmark: Any, qsl: Any, scenario: str | Scenario,
                    policy: str = "round_robin", send: str = "preprocessed", timeout_s: float = 30.0, *,
                    model_name: str | None = None, token: str | None = None,
                    output_names: Sequence[str] | None = None, postprocess: str = "auto",
                    request_samples: int | None = None, concurrency: int = 8, ca_cert: str | None = None,
                    binary: bool | None = None, abort_on_failure: bool = True) -> NetworkSUT:
    """Connect to every endpoint, check each serves the model, and return the client SUT.

    ``send``: "preprocessed" sends the QSL's pre-processed tensors; "raw" sends the benchmark's raw samples
    (``benchmark.raw_form()``) to the model ``<benchmark>-raw``, leaving pre-processing to the server node.
    ``postprocess``: "auto" uses the server's ``mlperf_response`` output when it offers one (post-processing
    on the SUT node), else requests ``output_names`` (default: the model's outputs) and runs
    ``benchmark.postprocess`` here; "server" / "client" force one. An endpoint that refuses, is not ready, or
    serves a different model raises ``EndpointError`` naming it, before any test starts.
    """
    if not urls:
        raise PodiumError("--sut-url: at least one endpoint is needed")
    scen = Scenario.parse(scenario) if isinstance(scenario, str) else Scenario(scenario)
    if send not in SEND_MODES:
        raise PodiumError(f"--send {send!r}: expected one of {', '.join(SEND_MODES)}")
    if postprocess not in ("auto", "server", "client"):
        raise PodiumError(f"--sut-postprocess {postprocess!r}: expected auto, server or client")
    raw: RawForm | None = None
    if send == "raw":
        maker = getattr(benchmark, "raw_form", None)
        raw = as_raw_form(maker()) if callable(maker) else None
        if raw is None:
            raise PodiumError(f"--send raw: benchmark {benchmark.name} has no raw (un-preprocessed) sample form; "
                              "use --send preprocessed")
    model = model_name or (f"{benchmark.name}-raw" if raw is not None else benchmark.name)

    endpoints: list[Endpoint] = []
    try:
        metas = []
        servers = []
        for url in urls:
            ep = connect(url, timeout_s, token, concurrency=concurrency, ca_cert=ca_cert, binary=binary)
            endpoints.append(ep)
            servers.append(ep.server_metadata())
            metas.append(ep.model_metadata(model))
        first = metas[0]
        for ep, meta in zip(endpoints[1:], metas[1:]):
            if meta.get("inputs") != first.get("inputs"):
                raise EndpointError(ep.fail(f"model {model!r} has inputs {meta.get('inputs')}, but "
                                            f"{endpoints[0].url} has {first.get('inputs')}; all endpoints must "
                                            "serve the same model"))
        inputs = [TensorMeta.from_json(t, f"endpoint {endpoints[0].url}: model input")
                  for t in first.get("inputs") or []]
        offered = [t.get("name") for t in first.get("outputs") or [] if isinstance(t, dict)]
        server_post = all(RESPONSE_OUTPUT in [t.get("name") for t in m.get("outputs") or []] for m in metas)
        if postprocess == "server" and not server_post:
            raise EndpointError(f"--sut-postprocess server: model {model!r} offers no {RESPONSE_OUTPUT} output "
                                f"on every endpoint (outputs: {', '.join(map(str, offered)) or 'none listed'})")
        use_server = server_post and postprocess != "client" and not output_names
        if use_server:
            outputs: list[str] | None = [RESPONSE_OUTPUT]
            decode: Decoder = _server_responses
        else:
            outputs = (list(output_names) if output_names
                       else [str(n) for n in offered if n is not None and n != RESPONSE_OUTPUT] or None)
            decode = functools.partial(_client_postprocess, benchmark.postprocess, outputs)
    except BaseException:
        for ep in endpoints:
            ep.close()
        raise

    cap = _request_cap(metas, inputs)
    if request_samples is not None and cap is not None and request_samples > cap:
        for ep in endpoints:
            ep.close()
        raise EndpointError(f"--sut-request-samples {request_samples}: the endpoints take at most {cap} samples "
                            "per request (their model's max_batch_size); give at most that")
    fetch = raw.load if raw is not None else qsl.get_batch
    if request_samples is None and scen is Scenario.Offline:
        request_samples = min(OFFLINE_REQUEST_SAMPLES, cap or OFFLINE_REQUEST_SAMPLES)
    rest = [ep for ep in endpoints if ep.address.protocol == "rest"]
    info = {
        "endpoints": [ep.url for ep in endpoints],
        "servers": [f"{s.get('name', '?')} {s.get('version', '')}".strip() for s in servers],
        "model": model,
        "policy": Balancer(1, policy).policy,
        "send": send,
        "preprocessing_on": "SUT node (server)" if raw is not None else "LoadGen node (QSL, untimed)",
        "postprocessing_on": "SUT node (server)" if use_server else "LoadGen node (client)",
        "outputs": outputs,
        "request_samples": request_samples or "one request per query",
        "max_request_samples": cap,
        "timeout_s": timeout_s,
        "rest_encoding": sorted({"binary" if getattr(ep, "binary", False) else "json" for ep in rest}) or None,
        "retries": 0,
    }
    return NetworkSUT(endpoints, model, inputs, fetch, outputs, decode, policy=policy,
                      request_samples=request_samples, abort_on_failure=abort_on_failure, info=info,
                      max_request_samples=cap)


def _request_cap(metas: list[dict[str, Any]], inputs: list[TensorMeta]) -> int | None:
    """The most samples every endpoint takes per request: the smallest ``properties.max_batch_size`` (podium
    serve publishes it) and the batch the model's inputs fix; None when nothing limits it."""
    caps = [m.shape[0] for m in inputs if m.shape and m.shape[0] > 0]
    for meta in metas:
        props = meta.get("properties")
        value = props.get("max_batch_size") if isinstance(props, dict) else None
        try:
            if value is not None and int(value) > 0:
                caps.append(int(value))
        except (TypeError, ValueError):
            pass  # another server's property of that name, not a number: not a limit podium can use
    return min(caps) if caps else None


def _server_responses(outputs: dict[str, np.ndarray], n: int, indices: np.ndarray) -> list[bytes]:
    arr = outputs[RESPONSE_OUTPUT]
    return [bytes(x) for x in arr.reshape(-1).tolist()]


def _client_postprocess(postprocess: Callable[[list[np.ndarray], np.ndarray], Sequence[bytes]],
                        names: list[str] | None, outputs: dict[str, np.ndarray], n: int,
                        indices: np.ndarray) -> Sequence[bytes]:
    arrays = [outputs[k] for k in names] if names else list(outputs.values())
    return postprocess(arrays, indices)
