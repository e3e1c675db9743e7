"""Moving bytes: one asset's URL(s) into a ``.part`` file, resumed with HTTP Range, bounded in tries and time.

A try that fails half-way leaves what it received in the ``.part`` file and the next try asks for the rest
(``Range: bytes=N-``); a server that ignores the range (200 instead of 206) is read again from the start.
Transient failures (connection errors, timeouts, dropped connections, HTTP 408/429/5xx) are retried a few
times with growing pauses; other HTTP errors (404, 403, ...) are final for that URL at once. Every read has a
timeout, so a stalled server ends in an error, never a hang. Checking the bytes is the caller's job.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

import podium
from podium.fetch.messages import FetchError

USER_AGENT = f"podium-fetch/{podium.__version__}"
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class Progress(Protocol):
    """What a download reports to: a bar on a terminal, plain lines when piped, nothing in tests."""

    def start(self, name: str, total: int | None, done: int) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    """Reports nothing."""

    def start(self, name: str, total: int | None, done: int) -> None:
        """Nothing."""

    def update(self, done: int) -> None:
        """Nothing."""

    def finish(self) -> None:
        """Nothing."""


@dataclass(frozen=True)
class Policy:
    """How hard to try: ``attempts`` per URL, pauses ``backoff * 2**k`` seconds, ``timeout`` per connect/read."""

    attempts: int = 4
    backoff: float = 1.0
    timeout: float = 30.0


class _Transient(Exception):
    """A failure worth another try (the message says what happened)."""


class _Final(Exception):
    """A failure another try at the same URL will not cure."""


def _total_from(resp: httpx.Response, have: int) -> int | None:
    if resp.status_code == 206:
        m = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
        if not m:
            raise _Transient("206 without a usable Content-Range")
        if int(m.group(1)) != have:
            raise _Transient(f"asked for bytes from {have}, got a range from {m.group(1)}")
        return None if m.group(3) == "*" else int(m.group(3))
    length = resp.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def _one_try(client: httpx.Client, url: str, part: Path, name: str, progress: Progress) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 416 and have:
            # the part may already hold the whole file: the server says how long the file is
            m = re.match(r"bytes\s+\*/(\d+)", resp.headers.get("content-range", ""))
            if m and int(m.group(1)) == have:
                return
            part.unlink()
            raise _Transient("the partial file is longer than the server's file; starting again")
        if resp.status_code >= 400:
            msg = f"HTTP {resp.status_code} {resp.reason_phrase}".strip()
            raise (_Transient if resp.status_code in _RETRY_STATUS else _Final)(msg)
        if resp.status_code != 206:
            have = 0  # the server sent the whole file: it replaces what was there
        total = _total_from(resp, have)  # the whole file's length (Content-Range, or a 200's Content-Length)
        progress.start(name, total, have)
        with open(part, "ab" if have else "wb") as fh:
            # raw bytes: a .tar.gz served with Content-Encoding: gzip must not be decoded on the way
            for chunk in resp.iter_raw():  # as the bytes arrive: a drop loses none of what came
                fh.write(chunk)
                have += len(chunk)
                progress.update(have)
        if total is not None and have < total:
            raise _Transient(f"connection ended after {have} of {total} bytes")


def download(urls: Sequence[str], part: str | Path, name: str, *, policy: Policy = Policy(),
             progress: Progress | None = None, sleep: Callable[[float], None] = time.sleep,
             transport: httpx.BaseTransport | None = None) -> str:
    """Fetch the first URL that works into ``part`` (resuming what is there); returns the URL used.

    Raises ``FetchError`` (one line: asset, URL, tries, last failure) when every URL failed.
    """
    part = Path(part)
    try:
        part.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"asset {name}: cannot create {part.parent} ({exc.strerror or exc})") from None
    progress = progress or NoProgress()
    try:
        return _download(urls, part, name, policy, progress, sleep, transport)
    finally:
        progress.finish()  # also on Ctrl-C: the bar stops, the .part stays for the next run to resume


def _download(urls: Sequence[str], part: Path, name: str, policy: Policy, progress: Progress,
              sleep: Callable[[float], None], transport: httpx.BaseTransport | None) -> str:
    timeout = httpx.Timeout(policy.timeout, connect=min(policy.timeout, 15.0))
    failures: list[str] = []
    with httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                      headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}) as client:
        for url in urls:
            last = ""
            tries = 0
            for attempt in range(max(1, policy.attempts)):
                tries = attempt + 1
                try:
                    _one_try(client, url, part, name, progress)
                    return url
                except _Final as exc:
                    last = str(exc)
                    break
                except _Transient as exc:
                    last = str(exc)
                except httpx.TimeoutException:
                    last = f"no answer within {policy.timeout:g} s"
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {str(exc) or 'connection failed'}"
                except OSError as exc:
                    raise FetchError(f"asset {name}: cannot write {part} ({exc.strerror or exc})") from None
                if attempt + 1 < policy.attempts:
                    sleep(policy.backoff * (2 ** attempt))
            failures.append(f"{url}: {last} ({tries} {'try' if tries == 1 else 'tries'})")
    raise FetchError(f"asset {name}: download failed: " + "; ".join(failures))
