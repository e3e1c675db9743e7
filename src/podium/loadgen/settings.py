"""``TestSettings``: every LoadGen setting with its official name, default and unit (spec loadgen.md §3.1).

The fields of round v2.1, then those LoadGen 6.0.x added (accuracy_sample_count_override, the token-latency
settings, TEST05's seeds); a v2.1 run refuses a 6.0-only field set away from its default.

Times are integer nanoseconds where the official field is ``*_ns`` and milliseconds where it is ``*_ms``;
percentiles are fractions (0.90), exactly as the official ``mlperf::TestSettings`` holds them.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from podium.errors import SettingError


class Scenario(str, enum.Enum):
    """The four MLPerf scenarios; the value is the official spelling used in logs."""

    SingleStream = "SingleStream"
    MultiStream = "MultiStream"
    Server = "Server"
    Offline = "Offline"

    @classmethod
    def parse(cls, text: str) -> "Scenario":
        key = text.replace(" ", "").replace("-", "").replace("_", "").lower()
        for s in cls:
            if s.value.lower() == key:
                return s
        raise SettingError(f"unknown scenario {text!r}: expected one of SingleStream, MultiStream, Server, Offline")


class TestMode(str, enum.Enum):
    """LoadGen test modes; the integer codes are those of ``mode`` in mlperf.conf/audit.config."""

    __test__ = False  # not a pytest test class

    SubmissionRun = "SubmissionRun"
    AccuracyOnly = "AccuracyOnly"
    PerformanceOnly = "PerformanceOnly"
    FindPeakPerformance = "FindPeakPerformance"

    @property
    def code(self) -> int:
        return _MODE_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> "TestMode":
        for mode, c in _MODE_CODES.items():
            if c == code:
                return mode
        raise SettingError(f"unknown test mode code {code}: expected 0 (SubmissionRun), 1 (AccuracyOnly), "
                         "2 (PerformanceOnly) or 3 (FindPeakPerformance)")


_MODE_CODES = {
    TestMode.SubmissionRun: 0,
    TestMode.AccuracyOnly: 1,
    TestMode.PerformanceOnly: 2,
    TestMode.FindPeakPerformance: 3,
}


@dataclass
class TestSettings:
    """All user-settable LoadGen settings of round v2.1, with the official defaults."""

    __test__ = False  # not a pytest test class

    scenario: Scenario = Scenario.SingleStream
    mode: TestMode = TestMode.PerformanceOnly
    single_stream_expected_latency_ns: float = 1_000_000
    single_stream_target_latency_percentile: float = 0.90
    multi_stream_expected_latency_ns: float = 8_000_000
    multi_stream_target_latency_percentile: float = 0.99
    multi_stream_samples_per_query: int = 8
    server_target_qps: float = 1.0
    server_target_latency_ns: int = 100_000_000
    server_target_latency_percentile: float = 0.99
    server_coalesce_queries: bool = False
    server_find_peak_qps_decimals_of_precision: int = 1
    server_find_peak_qps_boundary_step_size: float = 1.0
    server_max_async_queries: int = 0
    server_num_issue_query_threads: int = 0
    offline_expected_qps: float = 1.0
    sample_concatenate_permutation: bool = False
    min_duration_ms: int = 10_000
    max_duration_ms: int = 0
    min_query_count: int = 100
    max_query_count: int = 0
    qsl_rng_seed: int = 0
    sample_index_rng_seed: int = 0
    schedule_rng_seed: int = 0
    accuracy_log_rng_seed: int = 0
    accuracy_log_probability: float = 0.0
    accuracy_log_sampling_target: int = 0
    print_timestamps: bool = False
    performance_issue_unique: bool = False
    performance_issue_same: bool = False
    performance_issue_same_index: int = 0
    performance_sample_count_override: int = 0
    # ---- LoadGen 6.0.x (rounds v6.0, v6.1) ----
    #: accuracy mode covers QSL indices [0, N) when non-zero (else the QSL's total count)
    accuracy_sample_count_override: int = 0
    #: measure first-token latency (TTFT) and time per output token (TPOT); responses carry ``n_tokens``
    use_token_latencies: bool = False
    #: Server TTFT bound, ns (the binding's ``ttft_latency``; mlperf.conf ``Server.ttft_latency`` in ms)
    server_ttft_latency: int = 100_000_000
    #: Server TPOT bound, ns (the binding's ``tpot_latency``)
    server_tpot_latency: int = 100_000_000
    #: report tokens/s inferred from samples/s x ``token_latency_scaling_factor`` (GPT-J's metric)
    infer_token_latencies: bool = False
    token_latency_scaling_factor: int = 0
    #: TEST05 (rounds before v5.0): run with the test05_* seeds instead of the round's
    test05: bool = False
    test05_qsl_rng_seed: int = 0
    test05_sample_index_rng_seed: int = 0
    test05_schedule_rng_seed: int = 0

    def copy(self, **changes: object) -> "TestSettings":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # fields are checked by replace


#: The TestSettings fields only LoadGen 6.0.x has, with their defaults (a v2.1 run refuses any other value).
CURRENT_ONLY_FIELDS: dict[str, object] = {
    "accuracy_sample_count_override": 0,
    "use_token_latencies": False,
    "server_ttft_latency": 100_000_000,
    "server_tpot_latency": 100_000_000,
    "infer_token_latencies": False,
    "token_latency_scaling_factor": 0,
    "test05": False,
    "test05_qsl_rng_seed": 0,
    "test05_sample_index_rng_seed": 0,
    "test05_schedule_rng_seed": 0,
}


@dataclass
class LogSettings:
    """Where and how the log files are written (official ``LogOutputSettings`` + ``enable_trace``)."""

    outdir: str = "."
    prefix: str = "mlperf_log_"
    suffix: str = ""
    prefix_with_datetime: bool = False
    copy_detail_to_stdout: bool = False
    copy_summary_to_stdout: bool = False
    enable_trace: bool = False  # podium: off by default (the official default ON costs hundreds of MB/s)


@dataclass
class RunOptions:
    """Podium-only knobs of a run that the official LoadGen does not have."""

    #: End the run INVALID when no sample has completed for this long while samples are outstanding.
    completion_timeout_s: float = 300.0
    #: Issuer sleeps until this long before a Server deadline, then yields in a short spin.
    spin_margin_ns: int = 30_000
    #: CPython GIL switch interval during the run (None: leave it). A thread waking to issue a query waits
    #: up to this long for the GIL held by SUT threads; CPython's default 5 ms shows up as issue lateness.
    gil_switch_interval_s: float | None = 0.0002
    #: Move every object alive at the start into CPython's permanent GC generation for the run: full
    #: collections then skip the process's long-lived objects (modules, models, the schedule's bookkeeping),
    #: which otherwise stall the issuer for tens of ms (Server p99 at high QPS). New garbage is still collected.
    gc_freeze: bool = True
    #: Write podium_samples.npz (per-query/per-sample times) beside the logs of the performance run.
    write_samples: bool = True
    #: Extra labels copied into podium_result.json (e.g. "short run", "random weights").
    labels: list[str] = field(default_factory=list)
