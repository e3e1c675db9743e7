"""The streaming OpenAI-compatible client: requests on one event-loop thread over keep-alive HTTP/1.1
connections (``podium.llm.http1``), server-sent events parsed inside the socket's ``data_received``, the
first content fragment stamped with the bytes' arrival time.

Who calls what:

* ``submit(items)``: from any thread (the LoadGen's issuing thread), any number of times; it only hands the
  items to the loop thread and returns at once. Each item is ``(tag, body)``: the caller's tag and the JSON
  request body (bytes, kept until the request ends).
* ``on_first(tag, text, t_ns)`` and ``on_done(result)``: the callables given to the constructor, called on
  the loop thread, once each per request (``on_first`` only when a non-empty content fragment arrived, always
  before ``on_done``). They must not block: every other stream waits while they run.
* ``cancel_all()``: from any thread; ends every outstanding request as a ``cancelled`` failure.
* ``close()``: once, from the thread that made the client; cancels what is left and stops the loop thread.

A request fails — never counts as a success — on an HTTP status other than 200, an ``event: error`` or an
``error`` object in the stream, a stream cut before its HTTP message ended, or one that ended with neither
``data: [DONE]`` nor a ``finish_reason`` (some servers send no ``[DONE]``), a connection error, a time-out
(``timeout_s`` without a byte, or to connect), a stream with no content at all, or cancellation.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from podium.errors import PodiumError
from podium.llm.http1 import HTTPError, Http1Pool
from podium.llm.sse import SSEParser

APIS = ("chat", "completions")
_now = time.perf_counter_ns  # the LoadGen's clock (podium.loadgen.clock.RealClock)


def endpoint_url(url: str, api: str) -> str:
    """The request URL for ``url`` (``openai+http(s)://host:port[/base]``, or plain http(s)://) and ``api``."""
    raw = url[len("openai+"):] if url.startswith("openai+") else url
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PodiumError(f"--sut-url {url}: expected openai+http://host:port or openai+https://host:port "
                          "(optionally with a base path such as /v1)")
    if api not in APIS:
        raise PodiumError(f"--api {api}: expected one of {', '.join(APIS)}")
    base = parts.path.rstrip("/") or "/v1"
    return f"{parts.scheme}://{parts.netloc}{base}/{'chat/completions' if api == 'chat' else 'completions'}"


@dataclass
class StreamResult:
    """How one request ended, with its time stamps (``perf_counter_ns``; 0 where it never happened)."""

    tag: int
    endpoint: str
    ok: bool = False
    text: str = ""
    #: the server's ``usage.completion_tokens``, when it sent one
    usage_tokens: int | None = None
    #: non-empty content fragments received
    fragments: int = 0
    reasoning_fragments: int = 0
    finish_reason: str | None = None
    #: why it failed: "http", "error-event", "truncated", "timeout", "connection", "empty", "cancelled"
    kind: str | None = None
    error: str | None = None
    t_submit_ns: int = 0
    t_send_ns: int = 0
    t_first_ns: int = 0
    t_first_reasoning_ns: int = 0
    t_done_ns: int = 0
    #: the simulated server's own account of the request (``podium serve --llm sim``), when present
    sim: dict[str, Any] | None = None


@dataclass
class EndpointStats:
    """Per-endpoint counters (read from any thread; written on the loop thread)."""

    url: str
    in_flight: int = 0
    requests: int = 0
    failures: int = 0


class _Failed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class ClientStats:
    """What the client saw over its life: requests, failures by kind, the first failures' messages."""

    requests: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)


class StreamingClient:
    """Streams requests to one or more endpoints, each request to the endpoint with the fewest in flight."""

    def __init__(self, urls: Sequence[str], api: str, *, on_first: Callable[[int, str, int], None],
                 on_done: Callable[[StreamResult], None], headers: dict[str, str] | None = None,
                 timeout_s: float = 60.0, max_in_flight: int | None = None) -> None:
        if not urls:
            raise PodiumError("--sut-url: give at least one openai+http(s):// endpoint")
        self.endpoints = [EndpointStats(endpoint_url(u, api)) for u in urls]
        self.api = api
        self.timeout_s = float(timeout_s)
        self.max_in_flight = max_in_flight
        self.stats = ClientStats()
        self._on_first, self._on_done = on_first, on_done
        self._headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **(headers or {})}
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = threading.Event()
        self._pools: dict[str, Http1Pool] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._sem: asyncio.Semaphore | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="podium-llm-client", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise PodiumError("LLM client: the event loop did not start")

    # -- any thread --------------------------------------------------------------------------------
    def submit(self, items: Sequence[tuple[int, bytes]]) -> None:
        """Start these requests (see the module docstring); returns at once."""
        if self._closed:
            raise PodiumError("LLM client: submit after close")
        t = _now()
        self._loop.call_soon_threadsafe(self._start, list(items), t)

    def in_flight(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> None:
        """End every outstanding request as cancelled (their ``on_done`` follows on the loop thread)."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._cancel_tasks)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no request is outstanding, or ``timeout_s`` passed; whether it became idle."""
        end = time.monotonic() + timeout_s
        while self._tasks and time.monotonic() < end:
            time.sleep(0.005)
        return not self._tasks

    def close(self) -> None:
        """Cancel what is outstanding, close the connections and stop the loop thread (bounded: 10 s)."""
        if self._closed:
            return
        self._closed = True
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception:  # a hung shutdown must not hang the run: the thread is a daemon
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- loop thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._pools = {e.url: Http1Pool(e.url, self._headers, self.timeout_s) for e in self.endpoints}
        self._sem = asyncio.Semaphore(self.max_in_flight) if self.max_in_flight else None
        self._watchdog = self._loop.create_task(self._watch())

    async def _watch(self) -> None:
        """Fail the requests that received no byte for ``timeout_s``."""
        every = min(1.0, max(0.05, self.timeout_s / 4))
        while True:
            await asyncio.sleep(every)
            for pool in self._pools.values():
                for ex in pool.expired():
                    ex.fail(HTTPError("timeout", f"timed out: no byte for {self.timeout_s:g} s"))

    async def _shutdown(self) -> None:
        self._cancel_tasks()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._watchdog is not None:
            self._watchdog.cancel()
        for pool in self._pools.values():
            pool.close()

    def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _start(self, items: list[tuple[int, bytes]], t_submit: int) -> None:
        for tag, body in items:
            task = self._loop.create_task(self._request(tag, body, t_submit))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _pick(self) -> EndpointStats:
        eps = self.endpoints
        return eps[0] if len(eps) == 1 else min(eps, key=lambda e: (e.in_flight, e.requests))

    async def _request(self, tag: int, body: bytes, t_submit: int) -> None:
        res = StreamResult(tag=tag, endpoint="", t_submit_ns=t_submit)
        try:
            if self._sem is not None:
                async with self._sem:
                    await self._stream(res, body)
            else:
                await self._stream(res, body)
        except asyncio.CancelledError:
            self._fail(res, "cancelled", "cancelled: the run ended before the response")
        except _Failed as exc:
            self._fail(res, exc.kind, str(exc))
        except asyncio.TimeoutError:
            self._fail(res, "timeout", f"timed out: no byte for {self.timeout_s:g} s")
        except Exception as exc:  # OSError and the like from the transport
            self._fail(res, "connection", f"connection: {type(exc).__name__}: {exc}".rstrip(": "))
        res.t_done_ns = res.t_done_ns or _now()
        self.stats.requests += 1
        try:
            self._on_done(res)
        except Exception as exc:  # a callback bug must surface, not kill the loop
            self._note(f"on_done raised {type(exc).__name__}: {exc}")

    def _fail(self, res: StreamResult, kind: str, message: str) -> None:
        res.ok, res.kind = False, kind
        res.error = f"{res.endpoint or 'request'}: {message}"
        self.stats.failures[kind] = self.stats.failures.get(kind, 0) + 1
        self._note(res.error)
        for ep in self.endpoints:
            if ep.url == res.endpoint:
                ep.failures += 1

    def _note(self, message: str) -> None:
        if len(self.stats.first_errors) < 5:
            self.stats.first_errors.append(message)

    async def _stream(self, res: StreamResult, body: bytes) -> None:
        ep = self._pick()
        res.endpoint = ep.url
        ep.in_flight += 1
        ep.requests += 1
        sink = _StreamSink(self, res)
        try:
            res.t_send_ns = _now()
            try:
                res.t_send_ns = await self._pools[ep.url].post(body, sink)
            except HTTPError as exc:
                if exc.kind == "truncated":
                    raise _Failed("truncated", f"truncated stream: the connection broke after {res.fragments} "
                                               f"fragments ({exc})") from None
                raise _Failed(exc.kind, str(exc)) from None
        finally:
            ep.in_flight -= 1
        if sink.error is not None:
            raise sink.error
        # a stream without data: [DONE] (transformers serve sends none) is whole when its HTTP message ended
        # and a finish_reason came; it ends with its last bytes
        res.t_done_ns = sink.t_done or sink.t_last or _now()
        res.text = "".join(sink.texts)
        if not sink.finished and (res.finish_reason is None or sink.parser.pending()):
            cut = " mid-event" if sink.parser.pending() else ""
            raise _Failed("truncated", f"truncated stream: ended{cut} after {sink.parser.events} events without "
                                       "a finish_reason or data: [DONE]")
        if not res.fragments:
            raise _Failed("empty", "the stream held no content" + (" (only reasoning)" if res.reasoning_fragments
                                                                   else ""))
        res.ok = True


class _StreamSink:
    """The SSE body of one request, handled as its bytes arrive (inside the connection's data_received)."""

    def __init__(self, client: StreamingClient, res: StreamResult) -> None:
        self.client, self.res = client, res
        self.parser = SSEParser()
        self.texts: list[str] = []
        self.chat = client.api == "chat"
        self.finished = False
        self.error: _Failed | None = None
        self.t_done = 0
        self.t_last = 0

    def data(self, chunk: bytes, t: int) -> bool:
        self.t_last = t
        try:
            for ev in self.parser.feed(chunk):
                if self._event(ev.event, ev.data, t):
                    self.finished, self.t_done = True, t
                    return True
        except _Failed as exc:
            self.error = exc
            return True
        return False

    def _event(self, name: str, data: str, t: int) -> bool:
        res = self.res
        if data == "[DONE]":
            return True
        if name == "error":
            raise _Failed("error-event", f"error event: {data[:300]}")
        try:
            obj = json.loads(data)
        except ValueError:
            raise _Failed("error-event", f"not JSON in the stream: {data[:120]!r}") from None
        if not isinstance(obj, dict):
            return False
        if "error" in obj:
            err = obj["error"]
            msg = err.get("message", err) if isinstance(err, dict) else err
            raise _Failed("error-event", f"error in the stream: {str(msg)[:300]}")
        choices = obj.get("choices") or ()
        if choices and isinstance(choices[0], dict):
            c0 = choices[0]
            if self.chat:
                delta = c0.get("delta") or {}
                text = delta.get("content")
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            else:
                text, reasoning = c0.get("text"), None
            if reasoning:
                if not res.t_first_reasoning_ns:
                    res.t_first_reasoning_ns = t
                res.reasoning_fragments += 1
            if text:
                if not res.fragments:
                    res.t_first_ns = t
                    self.client._on_first(res.tag, text, t)
                res.fragments += 1
                self.texts.append(text)
            if c0.get("finish_reason"):
                res.finish_reason = c0["finish_reason"]
        usage = obj.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            res.usage_tokens = usage["completion_tokens"]
        sim = obj.get("podium_sim")
        if isinstance(sim, dict):
            res.sim = sim
        return False
