"""A small HTTP/1.1 client for streamed POSTs: keep-alive connections per endpoint, chunked and
content-length bodies, TLS, and the body's bytes handed to the caller inside ``data_received``.

Written here rather than used from aiohttp/httpx on purpose: timing fidelity. A library client puts its
buffering, its stream reader and a task switch between the socket and the code that stamps the first token,
and costs about half a millisecond per request on a small machine (measured on this project's 2-core box:
0.84 ms from send to the server's handler with aiohttp against 0.33 ms here); stamping in the protocol's
``data_received`` gives the arrival time itself. Only what the OpenAI streaming APIs use is handled: one
request at a time per connection, no redirects, no compression, no HTTP/2.

Everything runs on the event loop thread of the caller (``podium.llm.client``).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Protocol
from urllib.parse import urlsplit

from podium.errors import PodiumError

_now = time.perf_counter_ns
_MAX_HEAD = 64 * 1024
_MAX_ERROR_BODY = 4096


class HTTPError(Exception):
    """The exchange failed: ``kind`` is "http" (a status other than 200), "connection" or "truncated"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Sink(Protocol):
    """Receives a 200 response's body as it arrives (on the loop thread)."""

    def data(self, chunk: bytes, t_ns: int) -> bool:
        """Body bytes that arrived at ``t_ns``; True when the caller has all it wants (the stream's end
        marker): the exchange then ends at once, the connection is reused after the message ends."""


class _Exchange:
    """The response side of one request: framing, then body bytes to the sink."""

    def __init__(self, sink: Sink, loop: asyncio.AbstractEventLoop) -> None:
        self.sink = sink
        self.done: asyncio.Future[None] = loop.create_future()
        self.head = b""
        self.status = 0
        self.chunked = False
        self.remaining = -1  # content-length bytes still due (-1: until close, chunked: the chunk's)
        self.chunk_left = 0
        self.chunk_state = "size"  # size | data | crlf | trailer
        self.error_body = b""
        self.keep_alive = True
        self.message_done = False
        self.last_activity = time.monotonic()
        self.buf = b""

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def feed(self, data: bytes, t: int) -> None:
        self.last_activity = time.monotonic()
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > _MAX_HEAD:
                    self.fail(HTTPError("connection", "response headers too large"))
                return
            data = self.head[end + 4:]
            self._parse_head(self.head[:end].decode("latin-1"))
            if self.done.done():
                return
        if data:
            self._body(data, t)

    def _parse_head(self, text: str) -> None:
        lines = text.split("\r\n")
        parts = lines[0].split(" ", 2)
        try:
            self.status = int(parts[1])
        except (IndexError, ValueError):
            self.status = -1
            self.fail(HTTPError("connection", f"not an HTTP response: {lines[0][:80]!r}"))
            return
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "transfer-encoding" and "chunked" in value.lower():
                self.chunked = True
            elif name == "content-length":
                try:
                    self.remaining = int(value)
                except ValueError:
                    pass
            elif name == "connection" and value.lower() == "close":
                self.keep_alive = False
        if self.chunked:
            self.remaining = -1
        if not self.chunked and self.remaining < 0:
            self.keep_alive = False  # the body ends when the connection closes
        if not self.chunked and self.remaining == 0:
            self._message_end()

    def _deliver(self, data: bytes, t: int) -> None:
        if self.status == 200:
            if not self.done.done() and self.sink.data(data, t):
                self.finish()
        elif len(self.error_body) < _MAX_ERROR_BODY:
            self.error_body += data[:_MAX_ERROR_BODY - len(self.error_body)]

    def _body(self, data: bytes, t: int) -> None:
        if not self.chunked:
            if self.remaining >= 0:
                take, data = data[:self.remaining], data[self.remaining:]
                self.remaining -= len(take)
                self._deliver(take, t)
                if self.remaining == 0:
                    self._message_end()
            else:
                self._deliver(data, t)
            return
        buf = self.buf + data if self.buf else data
        self.buf = b""
        i, n = 0, len(buf)
        while i < n and not self.message_done:
            if self.chunk_state == "data":
                size = min(self.chunk_left, n - i)
                self._deliver(buf[i:i + size], t)
                self.chunk_left -= size
                i += size
                if self.chunk_left == 0:
                    self.chunk_state = "crlf"
            elif self.chunk_state == "crlf":
                if n - i < 2:
                    break
                i += 2
                self.chunk_state = "size"
            else:  # size line, or the trailer after the last chunk
                j = buf.find(b"\r\n", i)
                if j < 0:
                    break
                line = buf[i:j]
                i = j + 2
                if self.chunk_state == "trailer":
                    if not line:
                        self._message_end()
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.fail(HTTPError("truncated", f"bad chunk size line {line[:40]!r}"))
                    return
                if size == 0:
                    self.chunk_state = "trailer"
                else:
                    self.chunk_left, self.chunk_state = size, "data"
        self.buf = buf[i:]

    def _message_end(self) -> None:
        self.message_done = True
        if self.status != 200:
            text = self.error_body.decode("utf-8", errors="replace")[:300].replace("\n", " ")
            self.fail(HTTPError("http", f"HTTP {self.status}: {text}"))
        else:
            self.finish()  # a 200 whose body ended: the caller judges whether the stream was complete

    def lost(self, exc: BaseException | None) -> None:
        self.keep_alive = False
        if self.done.done():
            return
        if self.status == 200 and not self.chunked and self.remaining < 0 and exc is None:
            self.finish()  # a body delimited by the connection's end
            return
        if self.status and self.status != 200:
            self._message_end()
            return
        why = f"{type(exc).__name__}: {exc}" if exc else "the server closed the connection"
        kind = "truncated" if self.status == 200 else "connection"
        self.fail(HTTPError(kind, why))


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.exchange: _Exchange | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        t = _now()  # the arrival time, before any parsing
        ex = self.exchange
        if ex is not None:
            ex.feed(data, t)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.exchange is not None:
            self.exchange.lost(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http1Pool:
    """Keep-alive connections to one endpoint (``url``: http(s)://host:port/path)."""

    def __init__(self, url: str, headers: dict[str, str], timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PodiumError(f"{url}: expected an http:// or https:// URL")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.path = parts.path or "/"
        self.timeout_s = timeout_s
        host = parts.netloc
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._prefix = f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\n{head}".encode("latin-1")
        self._idle: list[_Connection] = []
        self.live: set[_Exchange] = set()
        self.open_connections: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _t, proto = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port, ssl=self.ssl), self.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPError("connection", f"cannot connect to {self.host}:{self.port} in {self.timeout_s:g} s") from None
        except OSError as exc:
            raise HTTPError("connection", f"cannot connect to {self.host}:{self.port} ({exc.strerror or exc})") from None
        self.open_connections.add(proto)
        return proto

    async def post(self, body: bytes, sink: Sink) -> int:
        """Send one POST and feed its 200 body to ``sink`` until the sink is satisfied or the body ends;
        returns the time the request was written (``perf_counter_ns``). Raises ``HTTPError``."""
        conn = None
        while self._idle:
            c = self._idle.pop()
            if not c.closed:
                conn = c
                break
        if conn is None:
            conn = await self._connect()
        loop = asyncio.get_running_loop()
        ex = _Exchange(sink, loop)
        conn.exchange = ex
        self.live.add(ex)
        assert conn.transport is not None
        t_sent = _now()
        conn.transport.write(self._prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            await ex.done
        except asyncio.CancelledError:
            conn.close()  # mid-stream: the connection cannot be reused
            raise
        except BaseException:
            conn.close()
            raise
        finally:
            self.live.discard(ex)
        if ex.message_done and ex.keep_alive and not conn.closed:
            conn.exchange = None
            self._idle.append(conn)
        elif not ex.message_done and ex.keep_alive and not conn.closed:
            # the sink is done before the message ended (data: [DONE] before the last chunk): the rest is
            # read and dropped, then the connection goes back to the pool
            conn.exchange = _Tail(self, conn, ex)
        else:
            conn.close()
        return t_sent

    def expired(self) -> list[_Exchange]:
        """Exchanges with no byte for ``timeout_s``."""
        now = time.monotonic()
        return [ex for ex in self.live if now - ex.last_activity > self.timeout_s]

    def close(self) -> None:
        for c in list(self.open_connections):
            c.close()
        self._idle.clear()


class _Tail(_Exchange):
    """Reads the rest of a message whose caller stopped listening, then returns the connection to the pool."""

    def __init__(self, pool: Http1Pool, conn: _Connection, prev: _Exchange) -> None:
        self.__dict__.update(prev.__dict__)
        self.pool, self.conn = pool, conn
        self.done = asyncio.get_running_loop().create_future()

    def _deliver(self, data: bytes, t: int) -> None:
        pass

    def _message_end(self) -> None:
        self.message_done = True
        self.conn.exchange = None
        if self.keep_alive and not self.conn.closed:
            self.pool._idle.append(self.conn)

    def lost(self, exc: BaseException | None) -> None:
        self.conn.exchange = None
