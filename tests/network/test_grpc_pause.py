"""A gRPC server that pauses for less than the client's timeout costs no request.

Issue 13: a 5 s pause of ``podium serve`` failed gRPC requests with CANCELLED although ``--sut-timeout`` was
30 s. The cause: the client sent every request at once (it ignored ``--sut-concurrency``), and grpc core on the
server cancels calls beyond 1,000 waiting to be picked up; after a pause they all arrive in one burst. The
client now keeps at most ``concurrency`` calls in flight per endpoint, and podium's server raises grpc's
pending-call limits, so that a client which does fire everything at once (other clients) is not cancelled
either. Here ``podium serve`` runs in a subprocess that is stopped (SIGSTOP) for about 2 s while requests are
queued, with a 10 s timeout and a keepalive ping interval short enough that pings fall in the pause.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from podium.network.endpoints import CANCELLED, InferJob, connect
from podium.network.tensors import TensorMeta
from tests.network.serve_process import listening_urls, start_serve, stop_serve

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP/SIGCONT")

#: More than grpc core's default of 1,000 pending calls: the old client lost requests to it after a pause.
REQUESTS = 2500
PAUSE_S = 2.0
X = np.zeros((1, 1, 8, 8), np.float32)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = start_serve("--no-http", "--grpc-port", "0", "--backend-option", "intra_op_threads=1")
    try:
        urls = listening_urls(proc)
        assert urls, "podium serve did not start"
        yield proc, urls[0]
    finally:
        stop_serve(proc)


def _through_a_pause(proc: subprocess.Popen[str], url: str, concurrency: int) -> tuple[dict[str, int], list[str],
                                                                                     int]:
    """Queue REQUESTS requests while the server is stopped, resume it after PAUSE_S, wait for every answer."""
    ep = connect(url, 10.0, concurrency=concurrency, keepalive_s=0.5)
    try:
        ep.server_metadata()  # the connection is up before the pause
        counts: collections.Counter[str] = collections.Counter()
        errors: list[str] = []
        lock = threading.Lock()
        most = [0]
        all_done = threading.Event()

        def done(outputs: Any, error: str | None) -> None:
            with lock:
                counts["ok" if error is None else "failed"] += 1
                if error is not None and len(errors) < 5:
                    errors.append(error)
                most[0] = max(most[0], getattr(ep, "in_flight", 0))
                if sum(counts.values()) == REQUESTS:
                    all_done.set()

        os.kill(proc.pid, signal.SIGSTOP)
        try:
            t = time.monotonic()
            for _ in range(REQUESTS):
                ep.submit(InferJob("digits", [(TensorMeta("input", "FP32", X.shape), X)], ["mlperf_response"],
                                   done))
            time.sleep(max(0.0, PAUSE_S - (time.monotonic() - t)))
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert all_done.wait(30), f"not every request was answered: {dict(counts)}"
        return dict(counts), errors, most[0]
    finally:
        ep.close()


def test_a_pause_shorter_than_the_timeout_costs_no_grpc_request(served: Any) -> None:
    proc, url = served
    counts, errors, most = _through_a_pause(proc, url, concurrency=8)
    assert counts == {"ok": REQUESTS}, errors
    assert most <= 8  # the client's window: --sut-concurrency calls in flight


def test_the_server_rides_out_a_burst_from_a_client_without_a_window(served: Any) -> None:
    # Like a client that sends everything at once (tritonclient's async calls, podium before the fix).
    proc, url = served
    counts, errors, _ = _through_a_pause(proc, url, concurrency=REQUESTS)
    assert counts == {"ok": REQUESTS}, errors


class _Answers:
    """The errors the endpoint's ``done`` callbacks report (None for an answer), from any thread."""

    def __init__(self) -> None:
        self.errors: list[str | None] = []
        self._lock = threading.Lock()

    def done(self, outputs: Any, error: str | None) -> None:
        with self._lock:
            self.errors.append(error)

    def wait(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.errors) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def _submit_while_stopped(proc: subprocess.Popen[str], url: str, count: int, then: Any,
                          aborted: Any = None) -> tuple[Any, _Answers]:
    """Stop the server, submit ``count`` jobs through a 2-call window, run ``then(ep, answers)``, resume it."""
    ep = connect(url, 10.0, concurrency=2)
    ep.server_metadata()
    answers = _Answers()
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        for _ in range(count):
            extra = (aborted,) if aborted is not None else ()
            ep.submit(InferJob("digits", [(TensorMeta("input", "FP32", X.shape), X)], None, answers.done, *extra))
        then(ep, answers)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    return ep, answers


def test_queued_jobs_are_dropped_unsent_after_an_abort_and_answered_on_close(served: Any) -> None:
    proc, url = served
    aborted = threading.Event()

    def abort(ep: Any, answers: _Answers) -> None:
        assert ep.in_flight == 2 and answers.errors == []  # two sent, eight waiting in the client
        aborted.set()

    ep, answers = _submit_while_stopped(proc, url, 10, abort, aborted.is_set)
    answers.wait(10, 20)
    ep.close()
    assert answers.errors.count(None) == 2 and answers.errors.count(CANCELLED) == 8
    late: list[str | None] = []
    ep.submit(InferJob("digits", [], None, lambda o, e: late.append(e)))
    assert late and "endpoint closed" in str(late[0])


def test_close_answers_waiting_and_in_flight_jobs(served: Any) -> None:
    proc, url = served

    def close(ep: Any, answers: _Answers) -> None:
        ep.close()  # while the server is stopped: nothing can be answered by it
        answers.wait(10, 10)

    ep, answers = _submit_while_stopped(proc, url, 10, close)
    errors = answers.errors
    assert len(errors) == 10 and all(e is not None and "endpoint" in e for e in errors), errors
    assert sum("endpoint closed" in str(e) for e in errors) == 8
    assert ep.in_flight == 0
