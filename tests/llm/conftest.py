"""The simulated LLM server in a child process, as the LLM tests talk to it (loopback, stopped after)."""

from __future__ import annotations

import pytest

from podium.llm.sim_server import SimProcess


@pytest.fixture
def sim_process():
    procs: list[SimProcess] = []

    def make(*args: str) -> SimProcess:
        p = SimProcess(list(args))
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.stop()
