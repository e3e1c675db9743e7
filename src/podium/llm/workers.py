"""Client worker processes: the same streaming client in N child processes, fed by the one LoadGen schedule of
the parent, for when one process cannot keep up (``--client-processes N``).

The parent hands each sample to the worker with the fewest requests outstanding (a pipe message, ~0.1 ms);
each worker streams its requests on its own event loop and sends back the first-token and completion events
with the times it stamped on arrival there (``time.perf_counter_ns``: one clock for every process of a Linux
machine), which the parent reports to the LoadGen as those times (``t_ns``), not as the relay's.

Threads of the parent: ``submit`` from any thread; one reader thread per worker calls ``on_first`` and
``on_done``. ``close()`` stops the workers (bounded: they are terminated after 10 s).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from multiprocessing.connection import Connection
from typing import Any, Callable, Sequence

from podium.errors import PodiumError
from podium.llm.client import EndpointStats, StreamingClient, StreamResult


def _worker(conn: Connection, urls: list[str], api: str, bodies: list[bytes], headers: dict[str, str],
            timeout_s: float, max_in_flight: int | None) -> None:
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(msg)

    client = StreamingClient(urls, api, on_first=lambda tag, text, t: send(("first", tag, text, t)),
                             on_done=lambda res: send(("done", res)), headers=headers, timeout_s=timeout_s,
                             max_in_flight=max_in_flight)
    send(("ready",))
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "submit":
                client.submit([(tag, bodies[i]) for tag, i in msg[1]])
            elif msg[0] == "cancel":
                client.cancel_all()
            elif msg[0] == "close":
                break
    except EOFError:
        pass
    finally:
        client.close()
        try:
            send(("closed",))
        except OSError:
            pass


class ClientWorkers:
    """N worker processes behind one ``submit`` (see the module docstring)."""

    def __init__(self, n: int, urls: Sequence[str], api: str, bodies: Sequence[bytes], *,
                 on_first: Callable[[int, str, int], None], on_done: Callable[[StreamResult], None],
                 headers: dict[str, str] | None = None, timeout_s: float = 60.0,
                 max_in_flight: int | None = None) -> None:
        if n < 1:
            raise PodiumError(f"--client-processes: expected an integer >= 1, got {n}")
        ctx = mp.get_context("spawn")  # no fork: the parent has threads
        per = -(-max_in_flight // n) if max_in_flight else None
        self.n = n
        self._on_first, self._on_done = on_first, on_done
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self._outstanding = [0] * n
        self._owner: dict[int, int] = {}
        self._lock = threading.Lock()
        self._send_locks = [threading.Lock() for _ in range(n)]
        self.endpoints = [EndpointStats(u) for u in urls]
        for _ in range(n):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(child, list(urls), api, list(bodies), dict(headers or {}),
                                                  timeout_s, per), daemon=True)
            p.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(p)
        for k, c in enumerate(self._conns):
            if not c.poll(60) or c.recv() != ("ready",):
                self.close()
                raise PodiumError(f"LLM client worker {k}: did not start")
        self._readers = [threading.Thread(target=self._read, args=(k,), name=f"podium-llm-worker-{k}", daemon=True)
                         for k in range(n)]
        for t in self._readers:
            t.start()

    def submit(self, items: Sequence[tuple[int, int]]) -> None:
        """``(tag, body index)`` pairs, each to the worker with the fewest outstanding."""
        batches: dict[int, list[tuple[int, int]]] = {}
        with self._lock:
            for tag, index in items:
                k = min(range(self.n), key=self._outstanding.__getitem__)
                self._outstanding[k] += 1
                self._owner[tag] = k
                batches.setdefault(k, []).append((tag, index))
        for k, batch in batches.items():
            with self._send_locks[k]:
                self._conns[k].send(("submit", batch))

    def cancel_all(self) -> None:
        for k, c in enumerate(self._conns):
            try:
                with self._send_locks[k]:
                    c.send(("cancel",))
            except OSError:
                pass

    def _read(self, k: int) -> None:
        conn = self._conns[k]
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "first":
                self._on_first(msg[1], msg[2], msg[3])
            elif msg[0] == "done":
                res: StreamResult = msg[1]
                with self._lock:
                    self._outstanding[k] -= 1
                    self._owner.pop(res.tag, None)
                    for ep in self.endpoints:
                        if ep.url == res.endpoint:
                            ep.requests += 1
                            ep.failures += 0 if res.ok else 1
                self._on_done(res)
            elif msg[0] == "closed":
                return

    def close(self) -> None:
        for k, c in enumerate(self._conns):
            try:
                with self._send_locks[k]:
                    c.send(("close",))
            except OSError:
                pass
        for p in self._procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        for c in self._conns:
            c.close()
