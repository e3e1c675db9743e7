"""A sleeping SUT: worker threads that take each sample for a fixed service time, then complete it.

It behaves like a real accelerator queue (queueing delay, worker contention) without any model.
Run: ``python examples/sleeping_sut.py --scenario Server --qps 1500 --workers 2 --service-ms 1``.
"""

from __future__ import annotations

import argparse
import queue
import tempfile
import threading
import time

from podium.loadgen import BaseSUT, LogSettings, Scenario, SimpleQSL, start_test

try:
    from examples.null_sut import settings_for
except ImportError:  # run as a script from the examples folder
    from null_sut import settings_for  # type: ignore[no-redef]


class SleepingSUT(BaseSUT):
    """``workers`` threads; each sample sleeps ``service_s`` then completes with its index as 4 bytes."""

    name = "SleepingSUT"

    def __init__(self, workers: int = 2, service_s: float = 0.001) -> None:
        super().__init__()
        self.service_s = service_s
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        for t in self._threads:
            t.start()

    def issue_queries(self, samples):
        for s in samples:
            self._q.put(s)

    def _work(self) -> None:
        while True:
            s = self._q.get()
            if s is None:
                return
            time.sleep(self.service_s)
            self.complete([(s.id, int(s.index).to_bytes(4, "little"))])

    def close(self) -> None:
        for _ in self._threads:
            self._q.put(None)
        for t in self._threads:
            t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", default="Server", type=Scenario.parse)
    ap.add_argument("--qps", type=float, default=1500.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--service-ms", type=float, default=1.0)
    ap.add_argument("--duration-ms", type=int, default=5000)
    ap.add_argument("--outdir", default=None)
    args = ap.parse_args()
    outdir = args.outdir or tempfile.mkdtemp(prefix="podium-sleep-")
    sut = SleepingSUT(args.workers, args.service_ms / 1000)
    try:
        settings = settings_for(args.scenario, args.qps, args.duration_ms)
        settings.server_target_latency_ns = 100_000_000
        result = start_test(sut, SimpleQSL(1024, 1024), settings, LogSettings(outdir=outdir))
    finally:
        sut.close()
    print(open(result.log_paths["summary"]).read())
    print(f"logs in {outdir}")


if __name__ == "__main__":
    main()
