"""``podium serve --llm sim``: an OpenAI-compatible streaming server with known timing, for checking clients.

Each request's time to first token, time per output token and output length are drawn from the
distributions given (``podium.distributions``), from a generator seeded with the server's seed and the
request's prompt, so the same prompt always gets the same draws. ``max_tokens`` (or
``max_completion_tokens``) caps the length. With ``slots`` set, at most that many requests generate at once
and the rest queue (a saturated server); their wait counts in their TTFT, as on a real server.

Token ``k`` (0-based) is sent at ``start + ttft + k * tpot``, with ``start`` when the request got a slot; the
server keeps the time it really sent each one (``time.perf_counter_ns``, the clock the client stamps with)
and reports it: in the final usage chunk under ``podium_sim`` and at ``GET /podium/sim/requests``. Those
sent times are the truth a client's figures are checked against.

Faults for tests, each on every N-th request (1-based count of requests received): ``error_every`` sends an
``event: error`` half-way, ``truncate_every`` drops the connection half-way, ``http_error_every`` answers
HTTP 500. Plain HTTP on loopback unless told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.distributions import Distribution, parse_distribution
from podium.errors import PodiumError

_now = time.perf_counter_ns
_WORDS = ("the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
          "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they")


@dataclass
class SimConfig:
    """What the simulated server does (``podium serve --llm sim`` options)."""

    ttft_ms: Distribution = field(default_factory=lambda: parse_distribution("50", "--ttft-ms"))
    tpot_ms: Distribution = field(default_factory=lambda: parse_distribution("10", "--tpot-ms"))
    output_len: Distribution = field(default_factory=lambda: parse_distribution("64", "--output-len"))
    reasoning_len: Distribution | None = None
    seed: int = 0
    model: str = "podium-sim"
    #: requests generating at once (0: no limit)
    slots: int = 0
    #: ms added to a request's TPOT per other request generating when it starts (a batch slows every stream)
    tpot_per_active_ms: float = 0.0
    error_every: int = 0
    truncate_every: int = 0
    http_error_every: int = 0
    #: keep at most this many per-request records for /podium/sim/requests
    keep_records: int = 100_000


@dataclass
class _Draw:
    ttft_ns: int
    tpot_ns: int
    n_out: int
    n_reasoning: int


class SimServer:
    """The aiohttp application and its per-request records."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.records: list[dict[str, Any]] = []
        self.received = 0
        self.active = 0
        #: the most requests that were generating at once
        self.peak_active = 0
        self._slots: asyncio.Semaphore | None = None

    def app(self) -> Any:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/podium/sim/requests", self._requests)
        app.router.add_post("/podium/sim/reset", self._reset)
        app.on_startup.append(self._startup)
        return app

    async def _startup(self, _app: Any) -> None:
        self._slots = asyncio.Semaphore(self.config.slots) if self.config.slots else None

    def draw(self, prompt_key: bytes, max_tokens: int | None) -> _Draw:
        """The request's TTFT, TPOT and lengths: a pure function of the seed, the prompt and ``max_tokens``."""
        c = self.config
        rng = np.random.default_rng([c.seed, zlib.crc32(prompt_key)])
        ttft = float(c.ttft_ms.sample(rng)[0])
        tpot = float(c.tpot_ms.sample(rng)[0])
        n = max(1, int(round(float(c.output_len.sample(rng)[0]))))
        if max_tokens is not None:
            n = max(1, min(n, max_tokens))
        nr = int(round(float(c.reasoning_len.sample(rng)[0]))) if c.reasoning_len is not None else 0
        return _Draw(int(ttft * 1e6), int(tpot * 1e6), n, nr)

    async def _models(self, _request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"object": "list", "data": [{"id": self.config.model, "object": "model",
                                                               "owned_by": "podium-sim"}]})

    async def _health(self, _request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"status": "ok"})

    async def _requests(self, _request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"requests": self.records, "peak_active": self.peak_active})

    async def _reset(self, _request: Any) -> Any:
        from aiohttp import web

        self.records.clear()
        self.peak_active = self.active
        return web.json_response({"ok": True})

    async def _chat(self, request: Any) -> Any:
        return await self._serve(request, chat=True)

    async def _completions(self, request: Any) -> Any:
        return await self._serve(request, chat=False)

    async def _serve(self, request: Any, chat: bool) -> Any:
        from aiohttp import web

        t_recv = _now()
        self.received += 1
        seq = self.received
        c = self.config
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "request body is not JSON"}}, status=400)
        key = "messages" if chat else "prompt"
        if not isinstance(body, dict) or key not in body:
            return web.json_response({"error": {"message": f"request body needs '{key}'"}}, status=400)
        if c.http_error_every and seq % c.http_error_every == 0:
            return web.json_response({"error": {"message": "simulated server error"}}, status=500)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        d = self.draw(json.dumps(body[key], sort_keys=True).encode(), max_tokens if isinstance(max_tokens, int)
                      else None)
        if not body.get("stream"):
            return await self._whole(request, body, d, chat, t_recv, seq)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        rid = f"{'chatcmpl' if chat else 'cmpl'}-sim{seq}"
        created = int(time.time())
        obj = "chat.completion.chunk" if chat else "text_completion"

        def chunk(delta_text: str | None, reasoning: str | None = None, finish: str | None = None,
                  role: bool = False) -> bytes:
            if chat:
                delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
                if delta_text is not None:
                    delta["content"] = delta_text
                if reasoning is not None:
                    delta["reasoning_content"] = reasoning
                choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
            else:
                choice = {"index": 0, "text": delta_text or "", "finish_reason": finish}
            return b"data: " + json.dumps({"id": rid, "object": obj, "created": created, "model": c.model,
                                            "choices": [choice]}).encode() + b"\n\n"

        slots = self._slots
        if slots is not None:
            await slots.acquire()
        sent: list[int] = []
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        if c.tpot_per_active_ms:
            d.tpot_ns += int(c.tpot_per_active_ms * 1e6 * (self.active - 1))
        try:
            t_start = _now()
            if chat:
                await resp.write(chunk(None, role=True))
            total = d.n_reasoning + d.n_out
            fault_at = total // 2
            for k in range(total):
                due = t_start + d.ttft_ns + k * d.tpot_ns
                wait = due - _now()
                if wait > 0:
                    await asyncio.sleep(wait / 1e9)
                if c.error_every and seq % c.error_every == 0 and k == fault_at:
                    await resp.write(b"event: error\ndata: " + json.dumps(
                        {"error": {"message": "simulated error mid-stream", "type": "server_error"}}).encode()
                        + b"\n\n")
                    self._record(seq, t_recv, t_start, sent, d, "error-event")
                    return resp
                if c.truncate_every and seq % c.truncate_every == 0 and k == fault_at:
                    self._record(seq, t_recv, t_start, sent, d, "truncated")
                    request.transport.close() if request.transport is not None else None
                    return resp
                word = " " + _WORDS[k % len(_WORDS)]
                data = chunk(None, reasoning=word) if k < d.n_reasoning else chunk(word)
                sent.append(_now())  # the moment the bytes leave for the socket, before the write awaits drain
                await resp.write(data)
            finish = "length" if isinstance(max_tokens, int) and d.n_out >= max_tokens else "stop"
            await resp.write(chunk(None, finish=finish) if chat else chunk("", finish=finish))
            rec = self._record(seq, t_recv, t_start, sent, d, None)
            opts = body.get("stream_options") or {}
            if isinstance(opts, dict) and opts.get("include_usage", True):
                usage = {"prompt_tokens": _prompt_tokens(body[key]), "completion_tokens": total,
                         "total_tokens": _prompt_tokens(body[key]) + total}
                await resp.write(b"data: " + json.dumps({"id": rid, "object": obj, "created": created,
                                                          "model": c.model, "choices": [], "usage": usage,
                                                          "podium_sim": rec}).encode() + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except asyncio.CancelledError:  # the client went away mid-stream: a record, no traceback
            self._record(seq, t_recv, 0, sent, d, "client-gone")
            raise
        except (ConnectionResetError, ConnectionError):
            self._record(seq, t_recv, 0, sent, d, "client-gone")
            return resp
        finally:
            self.active -= 1
            if slots is not None:
                slots.release()
        return resp

    async def _whole(self, request: Any, body: dict[str, Any], d: _Draw, chat: bool, t_recv: int,
                     seq: int) -> Any:
        from aiohttp import web

        await asyncio.sleep((d.ttft_ns + (d.n_out - 1) * d.tpot_ns) / 1e9)
        text = "".join(" " + _WORDS[k % len(_WORDS)] for k in range(d.n_out))
        choice: dict[str, Any] = ({"index": 0, "message": {"role": "assistant", "content": text},
                                   "finish_reason": "stop"} if chat else {"index": 0, "text": text,
                                                                          "finish_reason": "stop"})
        return web.json_response({"id": f"sim{seq}", "object": "chat.completion" if chat else "text_completion",
                                  "model": self.config.model, "choices": [choice],
                                  "usage": {"completion_tokens": d.n_out}})

    def _record(self, seq: int, t_recv: int, t_start: int, sent: list[int], d: _Draw,
                fault: str | None) -> dict[str, Any]:
        n = len(sent)
        rec: dict[str, Any] = {
            "seq": seq, "received_ns": t_recv, "queue_ms": (t_start - t_recv) / 1e6 if t_start else None,
            "intended_ttft_ms": d.ttft_ns / 1e6, "intended_tpot_ms": d.tpot_ns / 1e6,
            "output_tokens": n, "intended_output_tokens": d.n_out + d.n_reasoning,
            "reasoning_tokens": min(n, d.n_reasoning),
            "ttft_ms": (sent[0] - t_recv) / 1e6 if sent else None,
            "tpot_ms": (sent[-1] - sent[0]) / (n - 1) / 1e6 if n > 1 else None,
            "first_sent_ns": sent[0] if sent else None, "last_sent_ns": sent[-1] if sent else None,
            "fault": fault}
        if len(self.records) < self.config.keep_records:
            self.records.append(rec)
        return rec


def _prompt_tokens(prompt: Any) -> int:
    text = prompt if isinstance(prompt, str) else json.dumps(prompt)
    return len(text.split())


def sim_config(*, ttft_ms: str = "50", tpot_ms: str = "10", output_len: str = "64", reasoning_len: str | None = None,
               seed: int = 0, model: str = "podium-sim", slots: int = 0, error_every: int = 0,
               truncate_every: int = 0, http_error_every: int = 0, tpot_per_active_ms: float = 0.0) -> SimConfig:
    """A ``SimConfig`` from option text; each mistake is a one-line ``PodiumError`` naming its option."""
    if tpot_per_active_ms < 0:
        raise PodiumError(f"--tpot-per-active-ms: expected a number >= 0, got {tpot_per_active_ms:g}")
    for name, v in (("--slots", slots), ("--error-every", error_every), ("--truncate-every", truncate_every),
                    ("--http-error-every", http_error_every)):
        if v < 0:
            raise PodiumError(f"{name}: expected an integer >= 0, got {v}")
    return SimConfig(ttft_ms=parse_distribution(ttft_ms, "--ttft-ms"), tpot_ms=parse_distribution(tpot_ms, "--tpot-ms"),
                     output_len=parse_distribution(output_len, "--output-len"),
                     reasoning_len=parse_distribution(reasoning_len, "--reasoning-len") if reasoning_len else None,
                     seed=seed, model=model, slots=slots, error_every=error_every, truncate_every=truncate_every,
                     http_error_every=http_error_every, tpot_per_active_ms=tpot_per_active_ms)


class RunningSim:
    """A sim server on its own thread and event loop (for tests and benchmarks): ``url``, ``stop()``."""

    def __init__(self, config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        import threading

        self.server = SimServer(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = port
        self.host = host
        self._runner: Any = None
        self._thread = threading.Thread(target=self._run, name="podium-llm-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise PodiumError(f"sim server: could not start ({self._error})")

    @property
    def url(self) -> str:
        return f"openai+http://{self.host}:{self.port}"

    def _run(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._runner = web.AppRunner(self.server.app(), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr,attr-defined]

        try:
            self._loop.run_until_complete(start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        """Stop serving (open streams are cut) and join the thread (bounded)."""
        async def down() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        if self._loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(down(), self._loop)
            try:
                fut.result(timeout=10)
            except Exception:
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


class SimProcess:
    """``podium serve --llm sim`` in a child process (the server's event loop then shares no GIL with the
    client under test): ``url``, ``requests()`` (the server's per-request records), ``stop()``. Its output is
    read all the time (``tail``, and ``log_path`` when given), so the child never blocks on a full pipe."""

    def __init__(self, args: list[str], host: str = "127.0.0.1", start_timeout_s: float = 30.0,
                 log_path: str | None = None) -> None:
        import re
        import subprocess
        import sys

        self.proc = subprocess.Popen([sys.executable, "-m", "podium.cli.main", "serve", "--llm", "sim", "--host", host,
                                      "--http-port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        end = time.monotonic() + start_timeout_s
        line = ""
        assert self.proc.stdout is not None
        while time.monotonic() < end:
            line = self.proc.stdout.readline()
            m = re.search(r"openai\+http://([^:]+):(\d+)", line)
            if m:
                self.url = f"openai+http://{m.group(1)}:{m.group(2)}"
                import threading

                # keep reading what the child prints (its logs): a full pipe would stop the server
                self.tail: list[str] = []
                self.log_path = log_path
                threading.Thread(target=self._drain, name="podium-sim-output", daemon=True).start()
                return
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        raise PodiumError(f"podium serve --llm sim did not start: {line.strip() or 'no output'}")

    def _drain(self) -> None:
        """The child's output: the last 50 lines in ``tail``, and all of it in ``log_path`` when given."""
        assert self.proc.stdout is not None
        fh = open(self.log_path, "w", encoding="utf-8") if self.log_path else None
        try:
            for line in self.proc.stdout:
                self.tail = (self.tail + [line])[-50:]
                if fh is not None:
                    fh.write(line)
        finally:
            if fh is not None:
                fh.close()

    def requests(self) -> list[dict[str, Any]]:
        return list(self.stats()["requests"])

    def stats(self) -> dict[str, Any]:
        """The server's per-request records and ``peak_active``."""
        import httpx

        base = self.url[len("openai+"):]
        return dict(httpx.get(f"{base}/podium/sim/requests", timeout=10).json())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
