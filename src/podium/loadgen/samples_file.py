"""``podium_samples.npz``: the performance series' per-query and per-sample times, for reports and plots.

Times are int64 ns from the series start: ``scheduled_ns`` and ``issued_ns`` per query, ``done_ns`` per sample
in issue order (-1 for a sample that never completed), ``samples_per_query`` (Offline: the sample count) and
``scenario``. Written after the series ends, never on the issue path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podium.files import SAMPLES_FILE, atomic_open, samples_path
from podium.loadgen.issuer import IssueOutcome
from podium.loadgen.recorder import SeriesRecorder

__all__ = ["SAMPLES_FILE", "write_samples_file"]


def write_samples_file(outdir: Path, scenario: str, out: IssueOutcome, rec: SeriesRecorder,
                       samples_per_query: int) -> Path:
    """Write the arrays of one series into ``outdir/podium/podium_samples.npz`` atomically; returns the path.

    A failed write (full disk) raises a one-line ``PodiumError`` and leaves no partial file.
    """
    start = out.start_ns
    done = rec.done_np[:out.samples_issued] - start
    done[rec.done_np[:out.samples_issued] == 0] = -1
    path = samples_path(outdir)
    with atomic_open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            scheduled_ns=out.scheduled_abs_ns - start,
            issued_ns=out.issued_ns - start,
            done_ns=done,
            samples_per_query=np.int64(samples_per_query),
            scenario=np.array(scenario),
        )
    return path
