"""A small HTTP server on 127.0.0.1 for the fetch tests: serves bytes, honours Range, misbehaves on request."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.fetch import Policy, parse_catalogue

#: quick tries for tests: every failing test ends within a couple of seconds
FAST = Policy(attempts=3, backoff=0.01, timeout=1.0)


@dataclass
class Behaviour:
    """How the server answers one path: its bytes, a status to fail with, drops, stalls, range support."""

    body: bytes = b""
    status: int | None = None          # always answer with this status (404, 500, ...)
    fail_first: int = 0                # answer 500 to the first N requests, then serve
    drop_first: int = 0                # send only half the body (full Content-Length) then close, N times
    stall_s: float = 0.0               # wait this long before sending the body (a stalled server)
    ranges: bool = True                # honour Range requests (else always 200 with the whole body)
    seen: int = 0


@dataclass
class State:
    """What the server serves and what it was asked."""

    paths: dict[str, Behaviour] = field(default_factory=dict)
    log: list[tuple[str, str | None]] = field(default_factory=list)

    def requests(self, path: str) -> list[str | None]:
        """The Range headers of the requests for ``path`` (None where there was none)."""
        return [r for p, r in self.log if p == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        state: State = self.server.state  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        rng = self.headers.get("Range")
        state.log.append((path, rng))
        b = state.paths.get(path)
        if b is None:
            return self._status(404)
        b.seen += 1
        if b.status is not None:
            return self._status(b.status)
        if b.seen <= b.fail_first:
            return self._status(500)
        body, start, code = b.body, 0, 200
        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m and b.ranges:
            start = int(m.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        part = body[start:]
        self.send_response(code)
        self.send_header("Content-Length", str(len(part)))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if b.stall_s:
            time.sleep(b.stall_s)
        if b.seen <= b.fail_first + b.drop_first:
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server():
    """``(base_url, state)`` of a server on 127.0.0.1 for this test."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = State()  # type: ignore[attr-defined]
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def asset(name: str, kind: str, file: str, urls: list[str], **extra: Any) -> dict[str, Any]:
    """One catalogue entry as the JSON holds it."""
    return {"name": name, "kind": kind, "file": file, "urls": urls, **extra}


def catalogue(assets: list[dict[str, Any]], paths: dict[str, str] | None = None, key: str = "tb"):
    """A one-benchmark catalogue (``tb``, alias ``tb-99``) holding ``assets``."""
    return parse_catalogue({"benchmarks": {key: {"aliases": [key, f"{key}-99"], "title": "test benchmark",
                                                 "paths": paths or {}, "assets": assets}}}, "test catalogue")
