"""``podium run --benchmark llm`` against ``podium serve --llm sim``: the token latencies the LoadGen measures
match the server's own account, and every fault ends as failed samples with the logs kept, never a hang."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from podium.errors import PodiumError
from podium.llm import RunningSim, sim_config
from podium.providers import provider_for
from podium.suite import RunRequest, run_benchmark


@pytest.fixture(scope="module")
def truth_sim():
    """The timed sim the truth tests share: TTFT 300 ms, TPOT 20 ms, 16 tokens."""
    from podium.llm.sim_server import SimProcess

    sim = SimProcess(["--ttft-ms", "300", "--tpot-ms", "20", "--output-len", "16"])
    yield sim
    sim.stop()


@pytest.fixture
def sim_factory():
    sims: list[RunningSim] = []

    def make(**kw) -> RunningSim:
        s = RunningSim(sim_config(**kw))
        sims.append(s)
        return s

    yield make
    for s in sims:
        s.stop()


def _run(tmp_path: Path, url: str, scenario: str, **kw):
    req = RunRequest(benchmark="llm", scenario=scenario, sut_urls=(url,), output=str(tmp_path / "out"),
                     duration_s=kw.pop("duration_s", 2.0), round="v6.1", sut_timeout_s=kw.pop("timeout_s", 10.0),
                     completion_timeout_s=30.0, **kw)
    return run_benchmark(req, provider=provider_for(req))


def _record(outcome) -> dict:
    return json.loads((outcome.output / "performance" / "podium" / "podium_result.json").read_text())


def _close(measured_ns: float, truth_ms: float) -> bool:
    err_ms = abs(measured_ns / 1e6 - truth_ms)
    return err_ms <= max(0.01 * truth_ms, 0.1)  # within 1 % (or 100 µs)


@pytest.mark.parametrize("scenario", ["SingleStream", "Server"])
def test_token_latencies_match_the_servers_truth(tmp_path, truth_sim, scenario):
    sim = truth_sim
    kw = {"target_qps": 20.0} if scenario == "Server" else {"expected_latency_ms": 600.0}
    out = _run(tmp_path, sim.url, scenario, benchmark_options={"num_prompts": 64}, duration_s=2.5, **kw)
    tok = out.performance.performance.tokens
    rec = _record(out)["llm"]
    assert rec["failed_requests"] == 0 and rec["requests"] > 3
    # the same requests' means: the LoadGen's (from the query's issue) against the server's own account
    truth_ttft, truth_tpot = rec["server_reported_ttft_ms"]["mean"], rec["server_reported_tpot_ms"]["mean"]
    assert _close(tok.first_token_latency_mean, truth_ttft), (tok.first_token_latency_mean, truth_ttft)
    assert _close(tok.time_per_output_token_mean, truth_tpot), (tok.time_per_output_token_mean, truth_tpot)
    assert rec["token_count_source"] == "usage" and rec["output_tokens"] == 16 * rec["requests"]
    summary = (out.output / "performance" / "mlperf_log_summary.txt").read_text()
    assert "50.00 percentile first token latency (ns)" in summary


def test_at_saturation_queueing_counts_in_ttft_and_still_matches(tmp_path, sim_process):
    # two generation slots serve about 11 requests/s; 30/s arrive, so the queue grows as on a full server
    sim = sim_process("--ttft-ms", "100", "--tpot-ms", "10", "--output-len", "8", "--slots", "2")
    out = _run(tmp_path, sim.url, "Server", target_qps=30.0, benchmark_options={"num_prompts": 64}, duration_s=1.0)
    rec = _record(out)["llm"]
    assert rec["failed_requests"] == 0 and rec["requests"] >= 20
    assert rec["server_reported_ttft_ms"]["p90"] > 500  # the queue was real
    tok = out.performance.performance.tokens
    # the same requests' means (percentiles of a spread this wide depend on the rank rule: LoadGen's nearest
    # rank against numpy's interpolation)
    assert _close(tok.first_token_latency_mean, rec["server_reported_ttft_ms"]["mean"]), \
        (tok.first_token_latency_mean, rec["server_reported_ttft_ms"]["mean"])
    assert _close(tok.time_per_output_token_mean, rec["server_reported_tpot_ms"]["mean"])


@pytest.mark.parametrize("fault,kind,text", [
    ({"truncate_every": 3}, "truncated", "truncated stream"),
    ({"error_every": 3}, "error-event", "error event"),
    ({"http_error_every": 3}, "http", "HTTP 500"),
])
def test_each_fault_is_a_failed_sample_with_the_logs_kept(tmp_path, sim_factory, fault, kind, text):
    sim = sim_factory(ttft_ms="5", tpot_ms="2", output_len="8", **fault)
    out = _run(tmp_path, sim.url, "Server", target_qps=30.0, duration_s=1.0, benchmark_options={"num_prompts": 32})
    perf = out.performance
    assert not perf.valid
    rec = _record(out)
    assert rec["llm"]["failures"].get(kind, 0) >= 1 and text in rec["llm"]["first_error"]
    assert any(text in r for r in rec["performance"]["invalid_reasons"])
    summary = (out.output / "performance" / "mlperf_log_summary.txt").read_text()
    assert "Result is : INVALID" in summary
    assert (out.output / "performance" / "mlperf_log_detail.txt").stat().st_size > 0


def test_a_killed_server_ends_the_run_invalid_without_a_hang(tmp_path, sim_factory):
    sim = sim_factory(ttft_ms="50", tpot_ms="20", output_len="50")
    threading.Timer(1.0, sim.stop).start()
    out = _run(tmp_path, sim.url, "Server", target_qps=10.0, duration_s=3.0, timeout_s=5.0,
               benchmark_options={"num_prompts": 64})
    rec = _record(out)["llm"]
    assert not out.performance.valid and rec["failed_requests"] >= 1
    assert set(rec["failures"]) <= {"connection", "truncated", "timeout"}, rec["failures"]


def test_no_server_is_one_line_before_any_run_folder(tmp_path):
    with pytest.raises(PodiumError, match=r"--sut-url openai\+http://127.0.0.1:9: cannot reach the server"):
        _run(tmp_path, "openai+http://127.0.0.1:9", "Server")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_llm_needs_a_server_and_a_current_round(tmp_path, sim_factory):
    req = RunRequest(benchmark="llm", output=str(tmp_path / "o"))
    with pytest.raises(PodiumError, match="the model is a server's; give --sut-url openai"):
        run_benchmark(req, provider=provider_for(req))
    sim = sim_factory()
    with pytest.raises(PodiumError, match="token latencies .* round v2.1's LoadGen does not have"):
        _run(tmp_path, sim.url, "Server", round_override="v2.1") if False else run_benchmark(
            RunRequest(benchmark="llm", sut_urls=(sim.url,), round="v2.1", output=str(tmp_path / "o")),
            provider=provider_for(RunRequest(benchmark="llm", sut_urls=(sim.url,))))


def test_two_client_processes_share_the_load_and_keep_the_timing(tmp_path, truth_sim):
    sim = truth_sim
    out = _run(tmp_path, sim.url, "Server", target_qps=20.0, duration_s=2.0, sut_client_processes=2,
               benchmark_options={"num_prompts": 64})
    rec = _record(out)["llm"]
    assert rec["client_processes"] == 2 and rec["failed_requests"] == 0 and rec["requests"] > 20
    tok = out.performance.performance.tokens
    assert _close(tok.first_token_latency_mean, rec["server_reported_ttft_ms"]["mean"])
    assert _close(tok.time_per_output_token_mean, rec["server_reported_tpot_ms"]["mean"])
