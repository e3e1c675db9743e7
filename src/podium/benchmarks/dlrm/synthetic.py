"""Synthetic Criteo-like rows for performance-only DLRM runs (no data set on the machine).

Users follow the reference's aggregation distribution (100..700 items each), so batches have the official
item counts; dense counts are heavy-tailed small integers; categorical ids are skewed (a few popular rows,
a long tail) over each official table's id range; about 3 % of labels are clicks. Nothing here resembles
real Criteo statistics closely enough for accuracy: the AUC of a synthetic run means nothing.
"""

from __future__ import annotations

import numpy as np

from podium.benchmarks.dlrm.criteo import CriteoRows
from podium.benchmarks.dlrm.reference import NUM_DENSE, QUANTILE, TABLE_ROWS
from podium.benchmarks.dlrm.trace import generate_offsets

#: Users of a default synthetic set: ~1.1 M items, ~170 MB once cached.
DEFAULT_USERS = 4096
CLICK_RATE = 0.03


def synthetic_rows(users: int = DEFAULT_USERS, seed: int = 0) -> tuple[CriteoRows, np.ndarray]:
    """``(rows, offsets)`` for ``users`` synthetic users drawn with ``seed``."""
    if users <= 0:
        raise ValueError(f"synthetic DLRM data: expected a positive number of users, got {users}")
    q = np.asarray(QUANTILE, dtype=np.int64)
    # Enough rows for `users` samples of the largest size; the trace is then cut after `users` samples.
    offsets = generate_offsets(int(users * q.max()), seed=seed)[: users + 1]
    n = int(offsets[-1])
    rng = np.random.default_rng(seed)
    x_int = np.minimum(rng.geometric(0.05, size=(n, NUM_DENSE)) - 1, 1 << 20).astype(np.int32)
    tables = np.asarray(TABLE_ROWS, dtype=np.int64)
    # Pareto-shaped ranks: small ids (popular rows) come up often, the tail is spread over the whole table.
    ranks = np.floor(rng.pareto(1.2, size=(n, len(TABLE_ROWS))) * 50).astype(np.int64)
    x_cat = (ranks % tables).astype(np.int32)
    y = (rng.random(n) < CLICK_RATE).astype(np.int32)
    rows = CriteoRows(x_int, x_cat, y, describe=f"synthetic Criteo-like data ({users:,} users, {n:,} items, "
                                                f"seed {seed})", official_ids=False)
    return rows, offsets
