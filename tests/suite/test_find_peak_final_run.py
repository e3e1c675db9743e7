"""After find-peak, the performance run at the confirmed rate is the result; when it misses, the run says so."""

from __future__ import annotations

from podium.suite import RunRequest, run_benchmark


def test_a_final_run_that_misses_at_the_confirmed_peak_says_so(tmp_path, monkeypatch):
    """find-peak confirmed a rate, then the performance run at it missed its latency bound: a note says so."""
    import podium.suite.runner as runner
    from podium.loadgen.peak import PeakResult
    from podium.providers import provider_for

    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setattr(runner, "find_peak", lambda *a, **k: PeakResult("Server", 2000.0, "queries/s", confirmed=True))
    # a 1 µs bound: no run can meet it, as a noisy machine sometimes cannot meet the real one
    req = RunRequest(scenario="Server", modes=("performance",), duration_s=1, find_peak=True, latency_bound_ms=0.001,
                     output=str(tmp_path / "out"))
    outcome = run_benchmark(req, provider=provider_for(req))
    assert outcome.performance is not None and not outcome.performance.valid
    assert any("missed its latency bound" in n and "2000 queries/s" in n for n in outcome.notes), outcome.notes
