"""``podium_samples.npz``: the performance series' per-query and per-sample times, for reports and plots.

Times are int64 ns from the series start: ``scheduled_ns`` and ``issued_ns`` per query, ``done_ns`` per sample
in issue order (-1 for a sample that never completed), ``samples_per_query`` (Offline: the sample count) and
``scenario``. Written after the series ends, never on the issue path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podium.loadgen.issuer import IssueOutcome
from podium.loadgen.recorder import SeriesRecorder

SAMPLES_FILE = "podium_samples.npz"


def write_samples_file(outdir: Path, scenario: str, out: IssueOutcome, rec: SeriesRecorder,
                       samples_per_query: int) -> Path:
    """Write the arrays of one series into ``outdir / podium_samples.npz``; returns the path."""
    start = out.start_ns
    done = rec.done_np[:out.samples_issued] - start
    done[rec.done_np[:out.samples_issued] == 0] = -1
    path = Path(outdir) / SAMPLES_FILE
    np.savez_compressed(
        path,
        scheduled_ns=out.scheduled_abs_ns - start,
        issued_ns=out.issued_ns - start,
        done_ns=done,
        samples_per_query=np.int64(samples_per_query),
        scenario=np.array(scenario),
    )
    return path
