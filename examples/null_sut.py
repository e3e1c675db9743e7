"""A null SUT: completes every sample at once, inside ``issue_queries``, with an empty response.

It measures the LoadGen's own overhead. Run: ``python examples/null_sut.py --scenario Server --qps 20000``.
"""

from __future__ import annotations

import argparse
import tempfile

from podium.loadgen import BaseSUT, LogSettings, Scenario, SimpleQSL, TestMode, TestSettings, start_test


class NullSUT(BaseSUT):
    """Answers every sample immediately with no data."""

    name = "NullSUT"

    def issue_queries(self, samples):
        self.complete([(s.id, None) for s in samples])


class FastNullSUT(NullSUT):
    """The same on podium's fast path: ids arrive and leave as numpy arrays, no object per sample."""

    name = "FastNullSUT"

    def issue_arrays(self, ids, indices):
        self.complete_ids(ids)


def settings_for(scenario: Scenario, qps: float, duration_ms: int) -> TestSettings:
    s = TestSettings(scenario=scenario, mode=TestMode.PerformanceOnly, min_duration_ms=duration_ms,
                     min_query_count=100, qsl_rng_seed=14284205019438841327,
                     sample_index_rng_seed=4163916728725999944, schedule_rng_seed=299063814864929621)
    s.server_target_qps = qps
    s.offline_expected_qps = qps
    s.single_stream_expected_latency_ns = max(1, int(1e9 / qps))
    s.multi_stream_expected_latency_ns = max(1, int(8e9 / qps))
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", default="Offline", type=Scenario.parse)
    ap.add_argument("--qps", type=float, default=10000.0, help="target / expected queries per second")
    ap.add_argument("--duration-ms", type=int, default=2000)
    ap.add_argument("--fast", action="store_true", help="use the array fast path")
    ap.add_argument("--outdir", default=None)
    args = ap.parse_args()
    outdir = args.outdir or tempfile.mkdtemp(prefix="podium-null-")
    sut = FastNullSUT() if args.fast else NullSUT()
    result = start_test(sut, SimpleQSL(1024, 1024), settings_for(args.scenario, args.qps, args.duration_ms),
                        LogSettings(outdir=outdir))
    print(open(result.log_paths["summary"]).read())
    print(f"logs in {outdir}")


if __name__ == "__main__":
    main()
