"""Server-sent events, parsed incrementally from the bytes as they arrive.

Written here rather than taken from a library because the client must see each event the moment its bytes
arrive (the first token is stamped on arrival), with no buffering layer between the socket and the parser.
Follows the WHATWG rules the OpenAI streaming APIs use: lines end in LF, CRLF or CR; ``data:`` lines of one
event are joined with LF; a blank line dispatches the event; lines starting with ``:`` are comments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One dispatched event: its ``event`` name ("message" unless the stream named it) and its data."""

    event: str
    data: str


class SSEParser:
    """Feed it chunks of the response body; it returns the events they complete, in order."""

    def __init__(self) -> None:
        self._buf = b""
        self._event = ""
        self._data: list[str] = []
        self.events = 0

    def feed(self, chunk: bytes) -> list[Event]:
        """The events ``chunk`` completes (a partial line waits for the next chunk)."""
        buf = self._buf + chunk if self._buf else chunk
        out: list[Event] = []
        start = 0
        n = len(buf)
        while start < n:
            lf = buf.find(b"\n", start)
            cr = buf.find(b"\r", start, lf if lf >= 0 else n)
            if cr >= 0:
                end, nxt = cr, cr + 1
                if nxt < n and buf[nxt:nxt + 1] == b"\n":
                    nxt += 1
                elif nxt == n:  # a CR at the end may be the first half of CRLF: wait for more
                    break
            elif lf >= 0:
                end, nxt = lf, lf + 1
            else:
                break
            self._line(buf[start:end], out)
            start = nxt
        self._buf = buf[start:]
        return out

    def pending(self) -> bool:
        """Whether bytes or fields of an undispatched event remain (a stream cut mid-event)."""
        return bool(self._buf.strip() or self._data)

    def _line(self, line: bytes, out: list[Event]) -> None:
        if not line:
            if self._data:
                out.append(Event(self._event or "message", "\n".join(self._data)))
                self.events += 1
            self._event, self._data = "", []
            return
        if line[:1] == b":":
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        text = value.decode("utf-8", errors="replace")
        if name == b"data":
            self._data.append(text)
        elif name == b"event":
            self._event = text
