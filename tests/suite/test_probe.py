"""The suite's sizing probes: a warmed Offline rate, and a Server target confirmed within half its bound."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from podium.loadgen import RunOptions, Scenario, TestSettings
from podium.suite.probe import MAX_SERVER_TRIES, confirm_server_target, measure_offline_rate


@dataclass
class _Perf:
    samples_per_second: float = 0.0
    max_latency_s: float = 1.0
    scheduled_samples_per_second: float = 0.0
    sample_percentiles: dict = field(default_factory=dict)
    perf_constraints_met: bool = True
    timed_out: bool = False
    sut_failed_samples: int = 0


@dataclass
class _Result:
    performance: _Perf | None
    failure: str | None = None


class _Script:
    """A ``run_test`` that answers each probe from a list and records the settings it was given."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.settings: list[TestSettings] = []

    def __call__(self, sut, qsl, settings, log_settings, options=None, audit_config=None):
        self.settings.append(settings)
        assert "sizing probe" in options.labels and audit_config is None  # probes say what they are
        return self.answers.pop(0)


def test_offline_rate_comes_from_the_warmed_second_probe(tmp_path: Path):
    # the backend alone said 25k/s; the harness runs 40k/s cold and 63k/s warmed
    script = _Script([_Result(_Perf(40_000, 0.7)), _Result(_Perf(63_000, 0.9))])
    sz = measure_offline_rate(script, None, None, TestSettings(), tmp_path, RunOptions(), 25_000)
    assert sz.value == 63_000 and "warmed" in sz.how and len(sz.probes) == 2
    # the second probe is sized from the first one's rate, not from the backend's guess
    assert script.settings[0].offline_expected_qps == 50_000 and script.settings[1].offline_expected_qps == 80_000
    assert all(s.scenario is Scenario.Offline and s.min_duration_ms == 600 for s in script.settings)


def test_offline_probe_that_measures_nothing_keeps_the_backend_figure(tmp_path: Path):
    sz = measure_offline_rate(_Script([_Result(None, failure="SUT issue_queries raised")]), None, None,
                              TestSettings(), tmp_path, RunOptions(), 25_000)
    assert sz.value == 25_000 and "measured nothing" in sz.how


def _server(p99_ms: float, ok: bool = True) -> _Result:
    return _Result(_Perf(scheduled_samples_per_second=1.0, sample_percentiles={0.99: p99_ms * 1e6},
                         perf_constraints_met=ok))


def test_server_target_halves_until_p99_is_within_half_the_bound(tmp_path: Path):
    settings = TestSettings(server_target_latency_ns=10_000_000)  # 10 ms bound: a probe must show <= 5 ms
    script = _Script([_server(9.0), _server(6.0), _server(4.0)])  # VALID at 9 ms, but not with headroom
    sz = confirm_server_target(script, None, None, settings, tmp_path, RunOptions(), 1000.0)
    assert sz.value == 250.0 and [p.target for p in sz.probes] == [1000.0, 500.0, 250.0]
    assert "p99 4.000 ms, within half the 10 ms bound after 2 lower tries" in sz.how


def test_server_target_gives_up_after_the_bounded_tries_and_says_so(tmp_path: Path):
    settings = TestSettings(server_target_latency_ns=10_000_000)
    script = _Script([_server(50.0, ok=False) for _ in range(MAX_SERVER_TRIES)])
    sz = confirm_server_target(script, None, None, settings, tmp_path, RunOptions(), 1600.0)
    assert len(sz.probes) == MAX_SERVER_TRIES and sz.value == 100.0
    assert "will likely be INVALID" in sz.how


def test_a_failing_sut_stops_the_search_at_once(tmp_path: Path):
    settings = TestSettings(server_target_latency_ns=10_000_000)
    failed = _Result(_Perf(sut_failed_samples=3, sample_percentiles={0.99: 1e6}))
    sz = confirm_server_target(_Script([failed]), None, None, settings, tmp_path, RunOptions(), 1000.0)
    assert len(sz.probes) == 1 and not sz.probes[0].passed
