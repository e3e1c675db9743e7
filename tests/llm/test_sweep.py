"""``podium sweep``: fixed concurrency keeps N in flight, the figures and goodput, the Pareto front, the
concurrency levels of ``auto``, and a sweep's files and store rows."""

from __future__ import annotations

import json

import pytest

from podium.cli.main import main
from podium.errors import PodiumError
from podium.llm.concurrency import run_concurrency
from podium.llm.metrics import SLO, RequestTiming, concurrency_points, pareto_front, parse_slo, point_figures
from podium.report.store import ResultsStore


def _bodies(n: int, max_tokens: int = 16) -> list[bytes]:
    return [json.dumps({"model": "m", "messages": [{"role": "user", "content": f"p{i}"}], "stream": True,
                        "stream_options": {"include_usage": True}, "max_tokens": max_tokens}).encode()
            for i in range(n)]


def test_fixed_concurrency_keeps_n_in_flight_and_measures_the_truth(sim_process):
    s = sim_process("--ttft-ms", "50", "--tpot-ms", "5", "--output-len", "16")
    r = run_concurrency([s.url], "chat", _bodies(32), 4, duration_s=1.5)
    stats = s.stats()
    assert stats["peak_active"] == 4
    fig = point_figures(r.timings, r.duration_s, SLO())
    assert fig["failed"] == 0 and fig["requests"] >= 4 * 10
    truth = stats["requests"]
    mean_tpot = sum(x["tpot_ms"] for x in truth) / len(truth)
    assert abs(fig["tpot_ms"]["mean"] - mean_tpot) <= max(0.01 * mean_tpot, 0.1)
    assert fig["output_tokens"] == 16 * fig["requests"]
    assert abs(fig["system_tps"] - fig["output_tokens"] / r.duration_s) < 1e-6
    assert abs(fig["tps_per_user"] - 1000 / fig["tpot_ms"]["p90"]) < 1e-9


def test_goodput_counts_failures_against_it():
    ok = RequestTiming(True, 100.0, 10.0, 300.0, 21)
    slow = RequestTiming(True, 900.0, 10.0, 1100.0, 21)
    failed = RequestTiming(False, None, None, None, 0)
    fig = point_figures([ok, ok, slow, failed], 2.0, parse_slo("ttft=500,tpot=20"))
    assert fig["goodput"] == 0.5 and fig["goodput_rps"] == 1.0 and fig["failed"] == 1
    assert point_figures([ok], 1.0, SLO())["goodput"] is None
    for bad in ("ttft=0", "latency=5", "ttft"):
        with pytest.raises(PodiumError, match="--slo"):
            parse_slo(bad)


def test_pareto_front_and_auto_levels():
    pts = [{"tps_per_user": 100, "system_tps": 100}, {"tps_per_user": 80, "system_tps": 300},
           {"tps_per_user": 70, "system_tps": 250}, {"tps_per_user": 40, "system_tps": 500}]
    assert pareto_front(pts) == [3, 1, 0]
    assert concurrency_points(256) == [1, 2, 4, 8, 16, 32, 45, 64, 91, 128, 181, 256]
    assert concurrency_points(8) == [1, 2, 3, 4, 5, 8] or len(concurrency_points(8)) >= 4
    assert len(concurrency_points(100_000)) <= 32 and concurrency_points(100_000)[-1] == 100_000
    with pytest.raises(PodiumError, match="--max-concurrency"):
        concurrency_points(0)


def test_a_concurrency_sweep_writes_its_files_and_store_rows(sim_process, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    s = sim_process("--ttft-ms", "40", "--tpot-ms", "4", "--tpot-per-active-ms", "1", "--output-len", "16")
    rc = main(["sweep", "--sut-url", s.url, "--concurrency", "1,4", "--duration", "1", "--slo", "ttft=500,tpot=6",
               "--num-prompts", "64", "--output", str(tmp_path / "out"), "--name", "t"])
    out = capsys.readouterr().out
    assert rc == 0, out
    folder = tmp_path / "out" / "sweeps" / "t"
    summary = json.loads((folder / "sweep.json").read_text())
    p1, p4 = summary["points"]
    assert p1["value"] == 1 and p4["value"] == 4
    assert p4["tpot_ms"]["p50"] > p1["tpot_ms"]["p50"] + 2  # the busier server is slower per stream
    assert p1["goodput"] == 1.0 and p4["goodput"] < 0.5  # TPOT 7 ms at c=4 misses the 6 ms SLO
    assert summary["pareto"] == [1, 0]
    assert any("SIMULATED server" in x for x in summary["labels"]) and any("short points" in x for x in summary["labels"])
    assert (folder / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    page = (folder / "sweep.html").read_text()
    assert "Pareto" in page and "SIMULATED server" in page and '"tps_per_user"' in page
    with ResultsStore(tmp_path / "store.sqlite") as store:
        rows = store.sweep_points("t")
    assert [r["value"] for r in rows] == [1, 4] and all(r["pareto"] == 1 for r in rows)
    rc = main(["results", "--sweeps", "--sweep", "t"])
    assert rc == 0 and "2 sweep point(s)" in capsys.readouterr().out


def test_a_rate_sweep_runs_the_loadgen_per_point(sim_process, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "store.sqlite"))
    s = sim_process("--ttft-ms", "20", "--tpot-ms", "2", "--output-len", "8")
    rc = main(["sweep", "--sut-url", s.url, "--rate", "5,10", "--duration", "1", "--num-prompts", "64",
               "--output", str(tmp_path / "out"), "--name", "r"])
    assert rc == 0, capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "sweeps" / "r" / "sweep.json").read_text())
    assert [p["value"] for p in summary["points"]] == [5, 10]
    for p in summary["points"]:
        logs = tmp_path / "out" / "sweeps" / "r" / "runs" / f"rate-{p['value']:g}" / "performance"
        assert (logs / "mlperf_log_summary.txt").is_file() and p["valid"] in (True, False)
        assert p["ttft_ms"]["p50"] >= 20


def test_sweep_mistakes_are_one_line(tmp_path, capsys):
    assert main(["sweep", "--sut-url", "openai+http://127.0.0.1:9", "--output", str(tmp_path)]) != 0
    assert "give one of --concurrency auto|1,2,4 or --rate" in capsys.readouterr().err
    assert main(["sweep", "--sut-url", "openai+http://127.0.0.1:9", "--concurrency", "1,x"]) != 0
    assert "--concurrency 1,x: expected auto or a comma list of positive integers" in capsys.readouterr().err
