"""Finished ``podium run`` folders made on the simulated clock, for packaging and checker tests.

A simulated SUT answers each sample with a label (int32) after a fixed service time; the "ground truth" label
of QSL index i is i % 1000 and the SUT is right for a chosen share of indices, so accuracy.txt is in the
ImageNet script's format. Full-length runs (600 s of simulated time) cost well under a second each.
These runs are SIMULATED: they exist to test the tree layout and the checker, never as results.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from podium.compliance import run_compliance
from podium.loadgen import BaseSUT, LogSettings, SimpleQSL, TestMode, start_test
from podium.loadgen import config as lgconfig
from podium.loadgen.clock import SimClock

TOTAL_SAMPLES = 2048
#: Scenario -> (settings overrides, per-sample service time in ns) for a VALID full-length run.
FULL: dict[str, tuple[dict[str, Any], int]] = {
    "Offline": ({"offline_expected_qps": 41.0}, 25_000_000),          # 24600 samples, 615 s
    "Server": ({"server_target_qps": 50.0, "min_query_count": 1000}, 2_000_000),
    "SingleStream": ({"single_stream_expected_latency_ns": 500_000_000.0}, 500_000_000),
    "MultiStream": ({"multi_stream_expected_latency_ns": 480_000_000.0, "min_query_count": 1024}, 60_000_000),
}


class LabelSUT(BaseSUT):
    """One FIFO worker on a SimClock; answers int32 labels, right when ``index % 100 < good_percent``."""

    name = "podium-sim-resnet"

    def __init__(self, clock: SimClock, service_ns: int, good_percent: int) -> None:
        super().__init__()
        self.clock = clock
        self.service_ns = service_ns
        self.good = good_percent
        self.free_at = 0

    def issue_queries(self, samples):
        for s in samples:
            label = s.index % 1000 if s.index % 100 < self.good else (s.index + 1) % 1000
            start = max(self.clock.now(), self.free_at)
            self.free_at = start + self.service_ns
            resp = [(s.id, int(label).to_bytes(4, "little", signed=True))]
            self.clock.call_at(self.free_at, lambda r=resp: self.complete(r))


def score(path: Path) -> str:
    """The accuracy "script" of these runs: ImageNet-style output line."""
    p = Path(path)
    if p.is_dir():
        p = p / "mlperf_log_accuracy.json"
    entries = json.loads(p.read_text(encoding="utf-8"))
    seen: dict[int, int] = {}
    for e in entries:
        seen.setdefault(e["qsl_idx"], int.from_bytes(bytes.fromhex(e["data"])[:4], "little", signed=True))
    good = sum(1 for i, v in seen.items() if v == i % 1000)
    total = max(len(seen), 1)
    return f"accuracy={100.0 * good / total:.3f}%, good={good}, total={len(seen)}"


def _merge(path: Path, extra: dict[str, Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(extra)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def make_run(out: Path, *, benchmark: str = "resnet", conf_model: str = "resnet50", scenario: str = "Offline",
             full: bool = True, good_percent: int = 80, compliance: bool = True, psc: int = 1024,
             random_weights: bool = False, overrides: dict[str, Any] | None = None, trace: bool = False,
             sut_name: str | None = None, submission_mode: bool = False,
             total_samples: int = TOTAL_SAMPLES) -> Path:
    """Write a finished run folder (performance/, accuracy/, compliance/) at ``out``; with
    ``submission_mode`` one SubmissionRun in ``submission/`` instead of the first two."""
    over, service = FULL[scenario]
    settings = lgconfig.load_settings(conf_model, scenario).copy(**over)
    settings = settings.copy(performance_sample_count_override=psc)
    if not full:
        settings = settings.copy(min_duration_ms=2000, min_query_count=1)
    if overrides:
        settings = settings.copy(**overrides)
    extra = {
        "run_id": f"sim-{out.name}-{benchmark}-{scenario}",  # as podium run writes: one id for every test
        "benchmark": {"name": benchmark, "conf_model": conf_model, "scenarios": [scenario],
                      "random_weights": random_weights, "accuracy_metric": "accuracy"},
        "backend": {"name": "onnxruntime", "options": {}, "version": "1.17.0"},
        "model": {"path": "/models/resnet50_v1.onnx", "sha256": "0" * 64},
        "system": {"hostname": "simhost", "cpu_model": "Simulated CPU", "logical_cpus": 2},
    }

    def sut(clock: SimClock) -> LabelSUT:
        s = LabelSUT(clock, service, good_percent)
        if sut_name:
            s.name = sut_name
        return s

    qsl = SimpleQSL(total_samples, psc)
    clock = SimClock()
    perf_dir, acc_dir = out / "performance", out / "accuracy"
    labels = [] if full else ["short run: min_duration 2 s - not a valid MLPerf duration"]
    from podium.loadgen import RunOptions

    opts = RunOptions(labels=labels)
    if submission_mode:
        perf_dir = acc_dir = out / "submission"
        start_test(sut(clock), qsl, dataclasses.replace(settings, mode=TestMode.SubmissionRun),
                   LogSettings(outdir=str(perf_dir), enable_trace=trace), options=opts, clock=clock,
                   audit_config=None, extra_result=extra)
    else:
        start_test(sut(clock), qsl, dataclasses.replace(settings, mode=TestMode.PerformanceOnly),
                   LogSettings(outdir=str(perf_dir), enable_trace=trace), options=opts, clock=clock,
                   audit_config=None, extra_result=extra)
        clock = SimClock()
        start_test(sut(clock), qsl, dataclasses.replace(settings, mode=TestMode.AccuracyOnly),
                   LogSettings(outdir=str(acc_dir)), options=opts, clock=clock, audit_config=None,
                   extra_result=extra)
    line = score(acc_dir)
    (acc_dir / "accuracy.txt").write_text(line + "\n", encoding="utf-8")
    value = float(line.split("=")[1].split("%")[0])
    _merge(acc_dir / "podium" / "podium_result.json", {"accuracy": {"metric": "accuracy", "value": value, "target": 75.6954,
                                                         "passed": value >= 75.6954, "line": line}})
    if compliance:
        clock = SimClock()
        run_compliance(sut(clock), qsl, dataclasses.replace(settings, mode=TestMode.PerformanceOnly), benchmark,
                       out / "compliance", acc_dir, perf_dir, scorer=score, clock=clock)
    return out
