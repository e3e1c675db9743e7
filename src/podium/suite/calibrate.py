"""A quick throughput/latency estimate of a backend on real samples, to size a short run's schedule.

The official LoadGen needs the user to state the expected QPS (Offline) or latency (SingleStream); a wrong
guess makes the run INVALID (too short) or needlessly long. ``podium run`` measures it instead, unless the
user gives it, and says so in the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Calibration:
    """Measured throughput at the batch size the harness will use, and batch-1 latency."""

    samples_per_second: float
    batch1_latency_s: float
    batch_size: int


def calibrate(backend: Any, qsl: Any, batch_size: int, budget_s: float = 0.6, min_runs: int = 3,
              measure_batch: bool = True) -> Calibration:
    """Run the backend on loaded samples for about ``budget_s`` (at least ``min_runs`` runs) and measure it.

    Throughput is measured at min(batch_size, 8): per-sample cost barely changes past that on a CPU, and a
    batch of 32 multi-second samples (BERT-Large) would make calibration take minutes. Without
    ``measure_batch`` only batch-1 latency is timed and throughput is its inverse: for callers that measure
    the throughput through the harness afterwards (a batch of 8 BERT-Large samples took 39 s of a 60 s run).
    """
    batch_size = max(1, min(batch_size, 8))
    n = int(min(qsl.total_sample_count, max(batch_size, 8 if min_runs < 3 else 64)))
    idx = np.arange(n, dtype=np.int64)
    qsl.load_samples(idx)
    try:
        one = qsl.get_batch(idx[:1])
        backend.run(one)  # warm-up
        t0 = time.perf_counter()
        runs = 0
        while runs < min_runs or (time.perf_counter() - t0 < budget_s / 3 and runs < 1000):
            backend.run(one)
            runs += 1
        lat1 = (time.perf_counter() - t0) / runs
        if not measure_batch:
            return Calibration(samples_per_second=1 / lat1 if lat1 > 0 else 0.0, batch1_latency_s=lat1,
                               batch_size=1)
        b = min(batch_size, n)
        batch = qsl.get_batch(idx[:b])
        if min_runs >= 3:
            backend.run(batch)  # warm-up at this batch size (skipped for models whose runs take seconds)
        t0 = time.perf_counter()
        runs = 0
        while runs < min(2, min_runs) or (time.perf_counter() - t0 < budget_s * 2 / 3 and runs < 10000):
            backend.run(batch)
            runs += 1
        sps = runs * b / (time.perf_counter() - t0)
    finally:
        qsl.unload_samples(idx)
    return Calibration(samples_per_second=sps, batch1_latency_s=lat1, batch_size=b)
