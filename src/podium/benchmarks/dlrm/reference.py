"""Facts of the MLPerf Inference v2.1 DLRM benchmark (reference: recommendation/dlrm/pytorch, tag v2.1).

These are numbers and formats, not code: the model's shape (the "official" 40M-row Criteo Terabyte model
``tb00_40M``), the sample-aggregation distribution and seed, the size of the test split and the accuracy
reference. Each constant names where it comes from.
"""

from __future__ import annotations

#: Rows of the 26 embedding tables of the official model (``--max-ind-range=40000000``), in feature order.
TABLE_ROWS: tuple[int, ...] = (
    39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346, 10, 2208, 11938,
    155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36,
)
#: Every categorical value is reduced modulo this before the table look-up (``--max-ind-range``).
MAX_IND_RANGE = 40_000_000
EMBEDDING_DIM = 128
NUM_DENSE = 13
NUM_SPARSE = 26
#: Bottom MLP (dense features -> embedding dim, ReLU after every layer).
BOTTOM_MLP: tuple[int, ...] = (13, 512, 256, 128)
#: Top MLP (ReLU after every layer but the last, which is followed by a sigmoid). 479 = 128 + 27*26/2.
TOP_MLP: tuple[int, ...] = (479, 1024, 1024, 512, 256, 1)

#: ``tools/dist_quantile.txt``: the inverse CDF of the number of user-item pairs in one LoadGen sample.
QUANTILE: tuple[int, ...] = (100, 100, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 300, 300,
                             400, 500, 600, 700)
#: ``main.py --numpy-rand-seed`` default: the aggregation trace is drawn with numpy's legacy global RNG
#: seeded with this, one ``randint(0, len(QUANTILE))`` per sample.
TRACE_SEED = 123
#: Rows of day_23 of Criteo Terabyte; the test split is the first half (ceil), the rest is validation.
DAY_23_ROWS = 178_274_637
TEST_ROWS = (DAY_23_ROWS + 1) // 2  # 89,137,319
#: File the reference writes (and Zenodo record 3941795 publishes) with one "start, end, count" line per sample.
TRACE_FILE = "dlrm_trace_of_aggregated_samples.txt"

#: FP32 ROC AUC of tb00_40M on the test split, percent; dlrm-99 / dlrm-99.9 need 99 % / 99.9 % of it.
REFERENCE_AUC = 80.25
#: ``dlrm.*.performance_sample_count_override`` in the v2.1 mlperf.conf (samples = users, not rows).
PERFORMANCE_SAMPLE_COUNT = 204_800
#: Bytes of the full official model's tables in FP32 (~96 GB), for messages.
FULL_TABLE_BYTES = sum(TABLE_ROWS) * EMBEDDING_DIM * 4

#: Official model files of the reference README (for messages only: podium never downloads them).
OFFICIAL_ONNX = "tb00_40M.onnx"
OFFICIAL_CHECKPOINT = "tb00_40M.pt"
