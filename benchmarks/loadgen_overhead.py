#!/usr/bin/env python3
"""LoadGen overhead: podium's engine against the official MLPerf LoadGen, same SUTs, same settings.

Every measurement runs in a fresh subprocess (so peak RSS is per run):

* official: ``benchmarks/.venv-official/bin/python benchmarks/_official_peer.py SPEC`` — PyPI
  ``mlcommons-loadgen==6.0.17`` installed ONLY in that virtualenv (created on first use);
* podium:   ``<this python> benchmarks/_podium_peer.py SPEC`` with ``src/`` on ``PYTHONPATH``.

Figures (see benchmarks/README.md): Server peak QPS valid 3/3, Server overhead p50/p99, Offline samples/s and
peak RSS (one completion call for all samples, and one per sample), SingleStream q/s and p90, MultiStream q/s and
p99, a sleeping 2-worker Server SUT's p50/p90/p99, and bytes per pre-generated query.

    python benchmarks/loadgen_overhead.py --quick                 # smoke check, both engines
    python benchmarks/loadgen_overhead.py --only official --quick --json /tmp/official_quick.json
    python benchmarks/loadgen_overhead.py --json results.json     # full run (quiet machine, ~15-30 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OFFICIAL_PEER = os.path.join(HERE, "_official_peer.py")
PODIUM_PEER = os.path.join(HERE, "_podium_peer.py")
DEFAULT_VENV = os.path.join(HERE, ".venv-official")
OFFICIAL_PACKAGE = "mlcommons-loadgen"
OFFICIAL_VERSION = "6.0.17"
ENGINES = ("podium", "official")

FIGURES = (
    "server_peak",
    "server_overhead",
    "offline",
    "offline_per_sample",
    "single_stream",
    "multi_stream",
    "sleep",
    "memory",
    "token_server",
    "token_offline",
    "token_single_stream",
)


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- configuration
@dataclass
class Config:
    quick: bool
    duration_ms: int  # min_duration of every timed run (server probes, overhead, SS, MS, sleep, memory big)
    offline_samples: int
    server_start_qps: int = 8000
    server_max_qps: int = 1_024_000
    server_min_qps: int = 250
    server_grid_div: int = 8  # bisection grid = (highest single-run-valid doubling QPS) / div
    server_latency_ns: int = 100_000_000
    overhead_qps: int = 10_000
    sleep_qps: int = 1500
    sleep_workers: int = 2
    sleep_s: float = 0.001
    ss_expected_latency_ns: int = 4000
    ms_expected_latency_ns: int = 5000  # target 200k q/s → pre-generates 2×duration×200k queries: never runs out
    ms_samples_per_query: int = 8
    mem_qps: int = 200_000
    mem_small_ms: int = 100
    mem_max_query_count: int = 1000  # stop issuing early: only the pre-generation cost is measured
    min_query_count: int = 100
    n_tokens: int = 128  # tokens per sample of the null LLM SUT
    fast: bool = False  # null SUTs use the array/fast binding (podium issue_arrays, official ConstructFastSUT)
    timeout_s: float | None = None
    keep_logs: bool = False

    def timeout_for(self, expected_s: float) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        return 120.0 + 15.0 * expected_s


def make_config(args: argparse.Namespace) -> Config:
    quick = bool(args.quick)
    cfg = Config(
        quick=quick,
        duration_ms=args.duration_ms or (2000 if quick else 10_000),
        offline_samples=args.offline_samples or (1_000_000 if quick else 3_000_000),
        server_grid_div=4 if quick else 8,
        fast=args.fast,
        ss_expected_latency_ns=args.ss_expected_ns,
        ms_expected_latency_ns=args.ms_expected_ns,
        timeout_s=args.timeout,
        keep_logs=args.keep_logs,
    )
    return cfg


# ---------------------------------------------------------------------------------------------- venv setup
def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def _probe_official(python: str) -> str | None:
    """The installed mlcommons-loadgen version if ``python`` can import it, else None."""
    code = ("import mlperf_loadgen, numpy; from importlib.metadata import version; "
            f"print(version({OFFICIAL_PACKAGE!r}))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                             env=_clean_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_official_python(venv: str, explicit_python: str | None) -> str:
    """A Python that imports ``mlperf_loadgen`` 6.0.17: ``--official-python`` or the (created) benchmark venv."""
    if explicit_python:
        ver = _probe_official(explicit_python)
        if ver is None:
            raise BenchError(f"--official-python {explicit_python} cannot import mlperf_loadgen and numpy")
        if ver != OFFICIAL_VERSION:
            log(f"warning: {explicit_python} has {OFFICIAL_PACKAGE} {ver}, not {OFFICIAL_VERSION}")
        return explicit_python
    py = venv_python(venv)
    if os.path.exists(py):
        ver = _probe_official(py)
        if ver == OFFICIAL_VERSION:
            return py
        log(f"{venv}: {OFFICIAL_PACKAGE} is {ver or 'missing'}; installing {OFFICIAL_VERSION}")
    else:
        log(f"creating the official LoadGen virtualenv at {venv} (one-off) ...")
        res = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if res.returncode != 0 or not os.path.exists(py):
            raise BenchError(f"could not create a virtualenv at {venv} with {sys.executable} -m venv:\n"
                             f"{(res.stdout + res.stderr)[-3000:]}")
    cmd = [py, "-m", "pip", "install", "--disable-pip-version-check", "-q",
           f"{OFFICIAL_PACKAGE}=={OFFICIAL_VERSION}", "numpy"]
    log("  " + " ".join(cmd))
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=_clean_env())
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"pip install into {venv} timed out after {exc.timeout:.0f} s") from exc
    if res.returncode != 0:
        raise BenchError(
            f"pip could not install {OFFICIAL_PACKAGE}=={OFFICIAL_VERSION} into {venv} "
            f"(exit {res.returncode}). No network or no wheel for this platform? Output tail:\n"
            f"{(res.stdout + res.stderr)[-3000:]}\n"
            "Fix the install, point --official-python at a Python that has it, or run --only podium.")
    ver = _probe_official(py)
    if ver is None:
        raise BenchError(f"{OFFICIAL_PACKAGE} installed into {venv} but `import mlperf_loadgen` fails there")
    return py


def _clean_env(extra_pythonpath: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    if extra_pythonpath:
        env["PYTHONPATH"] = extra_pythonpath
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ------------------------------------------------------------------------------------------------ one run
@dataclass
class RunResult:
    engine: str
    label: str
    ok: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    peak_rss_kb: int | None = None
    wall_s: float | None = None
    elapsed_s: float = 0.0
    error: str | None = None
    timed_out: bool = False

    @property
    def valid(self) -> bool:
        return self.ok and self.metrics.get("result_validity") == "VALID"

    def m(self, key: str, default: Any = None) -> Any:
        return self.metrics.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


class Runner:
    def __init__(self, cfg: Config, official_python: str | None, workroot: str) -> None:
        self.cfg = cfg
        self.official_python = official_python
        self.workroot = workroot
        self.count = 0
        self.runs: list[RunResult] = []

    def run(self, engine: str, label: str, settings: dict[str, Any], sut: str = "null",
            expected_s: float = 10.0, **sut_opts: Any) -> RunResult:
        self.count += 1
        workdir = os.path.join(self.workroot, f"{self.count:03d}-{engine}-{label}")
        os.makedirs(workdir, exist_ok=True)
        result_path = os.path.join(workdir, "result.json")
        spec = {
            "label": label,
            "settings": {"mode": "PerformanceOnly", "min_query_count": self.cfg.min_query_count, **settings},
            "sut": sut,
            "fast": self.cfg.fast and sut != "sleep",
            "workdir": workdir,
            "outdir": os.path.join(workdir, "logs"),
            "result_path": result_path,
            **sut_opts,
        }
        if engine == "official":
            if self.official_python is None:
                raise BenchError("official engine requested but no official Python is set up")
            cmd = [self.official_python, OFFICIAL_PEER, json.dumps(spec)]
            env = _clean_env()
        else:
            cmd = [sys.executable, PODIUM_PEER, json.dumps(spec)]
            src = os.path.join(REPO, "src")
            env = _clean_env(os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
        timeout = self.cfg.timeout_for(expected_s)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
        elapsed = time.perf_counter() - t0
        res = RunResult(engine=engine, label=label, ok=False, elapsed_s=elapsed, timed_out=timed_out)
        payload = None
        if os.path.exists(result_path):
            try:
                with open(result_path, encoding="utf-8") as fh:
                    payload = json.load(fh)
            except ValueError:
                payload = None
        if payload is None:  # fall back to the last JSON line on stdout
            for line in reversed((out or "").splitlines()):
                if line.startswith("{"):
                    try:
                        payload = json.loads(line)
                        break
                    except ValueError:
                        continue
        if timed_out:
            res.error = f"timed out after {timeout:.0f} s"
        elif payload is None:
            res.error = f"peer exited {proc.returncode} without a result; stderr tail: {(err or '')[-1500:]}"
        else:
            res.ok = bool(payload.get("ok"))
            res.metrics = payload.get("metrics") or {}
            res.errors = payload.get("errors") or []
            res.extra = payload.get("extra") or {}
            res.peak_rss_kb = payload.get("peak_rss_kb")
            res.wall_s = payload.get("wall_s")
            if not res.ok:
                res.error = payload.get("error") or f"peer exited {proc.returncode}"
                tb = payload.get("traceback")
                if tb:
                    res.extra["traceback"] = tb
        self.runs.append(res)
        if not self.cfg.keep_logs:
            shutil.rmtree(os.path.join(workdir, "logs"), ignore_errors=True)
        status = (res.m("result_validity", "?") if res.ok else f"FAILED ({res.error})")
        log(f"  [{engine:8s}] {label:28s} {status:8s} {elapsed:6.1f} s  rss {fmt_mib(res.peak_rss_kb)} MiB"
            + (f"  errors: {res.errors[:2]}" if res.errors else ""))
        return res


def fmt_mib(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.0f}"


# ----------------------------------------------------------------------------------------------- figures
Figure = dict[str, Any]


def server_settings(cfg: Config, qps: float, duration_ms: int | None = None) -> dict[str, Any]:
    return {"scenario": "Server", "server_target_qps": float(qps),
            "server_target_latency_ns": cfg.server_latency_ns,
            "min_duration_ms": duration_ms or cfg.duration_ms}


def fig_server_peak(r: Runner, engine: str) -> Figure:
    """Highest target QPS VALID in 3 of 3 runs: single-run doubling, then 3/3 bisection on a grid."""
    cfg = r.cfg
    dur_s = cfg.duration_ms / 1000
    history: dict[int, list[bool]] = {}
    probes: list[dict[str, Any]] = []

    def once(q: int) -> bool:
        res = r.run(engine, f"server-peak-{q}", server_settings(cfg, q), expected_s=dur_s * 3)
        if res.error and not res.timed_out:  # a broken engine, not an overloaded one: stop searching
            raise BenchError(f"server probe at {q} QPS failed: {res.error}")
        ok = res.valid
        history.setdefault(q, []).append(ok)
        probes.append({"qps": q, "valid": ok, "p99_ns": res.m("result_99.00_percentile_latency_ns"),
                       "error": res.error, "elapsed_s": round(res.elapsed_s, 2)})
        return ok

    def three(q: int) -> bool:
        """VALID in each of the first 3 runs at q (reuses earlier runs; stops at the first INVALID)."""
        runs = history.get(q, [])
        if not all(runs):
            return False
        while len(history.get(q, [])) < 3:
            if not once(q):
                return False
        return all(history[q][:3])

    lo: int | None = None
    hi: int | None = None
    q = cfg.server_start_qps
    if once(q):
        lo = q
        while q * 2 <= cfg.server_max_qps:
            q *= 2
            if once(q):
                lo = q
            else:
                hi = q
                break
    else:
        hi = q
        while q // 2 >= cfg.server_min_qps:
            q //= 2
            if once(q):
                lo = q
                break
            hi = q
    if lo is None:
        return {"value": 0, "note": f"INVALID even at {hi} QPS", "probes": probes}
    step = max(lo // cfg.server_grid_div, 1)
    a, b = lo, hi
    while b is not None and b - a > step:
        mid = a + max(((b - a) // 2) // step, 1) * step
        if mid >= b:
            break
        if three(mid):
            a = mid
        else:
            b = mid
    while not three(a):  # the lower bound had one VALID run; it needs 3 of 3
        b = a
        a -= step
        if a <= 0:
            return {"value": 0, "note": "no QPS valid 3 of 3", "probes": probes}
    note = f"first INVALID probe above: {b}" if b is not None else f"VALID up to the cap {cfg.server_max_qps}"
    return {"value": a, "step": step, "first_invalid_above": b, "note": note, "probes": probes}


def fig_server_overhead(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    res = r.run(engine, f"server-overhead-{cfg.overhead_qps}", server_settings(cfg, cfg.overhead_qps),
                expected_s=cfg.duration_ms / 1000)
    lat = res.extra.get("lateness") or {}
    return {"p50_ns": res.m("result_50.00_percentile_latency_ns"),
            "p99_ns": res.m("result_99.00_percentile_latency_ns"),
            "max_ns": res.m("result_max_latency_ns"),
            "lateness_p50_ns": lat.get("p50_ns"), "lateness_p99_ns": lat.get("p99_ns"),
            "valid": res.valid, "run": res.to_json()}


def _offline(r: Runner, engine: str, sut: str, label: str) -> Figure:
    cfg = r.cfg
    n = cfg.offline_samples
    # spq = floor(1.1 × min_duration_s × offline_expected_qps) = n with min_duration 10 ms (short, so that a
    # fast engine finishing n samples in a fraction of a second is still VALID).
    settings = {"scenario": "Offline", "min_duration_ms": 10, "offline_expected_qps": (n + 0.5) / 0.011}
    res = r.run(engine, label, settings, sut=sut, expected_s=max(n / 100_000, 10))
    return {"samples_per_s": res.m("result_samples_per_second"), "samples": res.m("generated_samples_per_query"),
            "peak_rss_kb": res.peak_rss_kb if res.ok else None, "valid": res.valid, "run": res.to_json()}


def fig_offline(r: Runner, engine: str) -> Figure:
    return _offline(r, engine, "null", "offline-one-call")


def fig_offline_per_sample(r: Runner, engine: str) -> Figure:
    return _offline(r, engine, "null_per_sample", "offline-per-sample")


def fig_single_stream(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    settings = {"scenario": "SingleStream", "min_duration_ms": cfg.duration_ms,
                "single_stream_expected_latency_ns": cfg.ss_expected_latency_ns}
    res = r.run(engine, "single-stream", settings, expected_s=cfg.duration_ms / 1000)
    return {"qps": res.m("result_qps_with_loadgen_overhead"),
            "qps_without_overhead": res.m("result_qps_without_loadgen_overhead"),
            "p90_ns": res.m("result_90.00_percentile_latency_ns"), "valid": res.valid,
            "ran_out": any("Ran out" in e for e in res.errors), "run": res.to_json()}


def fig_multi_stream(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    settings = {"scenario": "MultiStream", "min_duration_ms": cfg.duration_ms,
                "multi_stream_expected_latency_ns": cfg.ms_expected_latency_ns,
                "multi_stream_samples_per_query": cfg.ms_samples_per_query}
    res = r.run(engine, "multi-stream", settings, expected_s=cfg.duration_ms / 1000)
    count = res.m("result_query_count")
    duration = res.m("power_duration_s")  # start of issue → last completion (ms resolution), both engines
    source = "power_end - power_begin"
    if not duration:
        duration = res.extra.get("duration_s")
        source = "podium performance.duration_s"
    if not duration:
        duration, source = cfg.duration_ms / 1000, "min_duration (approx.)"
    qps = count / duration if count and duration else None
    p99 = res.m("result_99.00_percentile_per_query_latency_ns", res.m("result_99.00_percentile_latency_ns"))
    return {"qps": qps, "query_count": count, "duration_s": duration, "duration_source": source,
            "p99_ns": p99, "valid": res.valid, "ran_out": any("Ran out" in e for e in res.errors),
            "run": res.to_json()}


def fig_sleep(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    res = r.run(engine, f"sleep-server-{cfg.sleep_qps}", server_settings(cfg, cfg.sleep_qps), sut="sleep",
                expected_s=cfg.duration_ms / 1000, workers=cfg.sleep_workers, sleep_s=cfg.sleep_s)
    return {"p50_ns": res.m("result_50.00_percentile_latency_ns"),
            "p90_ns": res.m("result_90.00_percentile_latency_ns"),
            "p99_ns": res.m("result_99.00_percentile_latency_ns"), "valid": res.valid, "run": res.to_json()}


def fig_memory(r: Runner, engine: str) -> Figure:
    """Peak-RSS difference between a Server run with many pre-generated queries and a small one, per query.

    Both runs stop issuing after ``mem_max_query_count`` queries (official "Max query count reached"), so the
    difference is the cost of generating and holding the queries, not of recording their latencies.
    """
    cfg = r.cfg
    runs = {}
    for size, ms in (("small", cfg.mem_small_ms), ("big", cfg.duration_ms)):
        settings = {**server_settings(cfg, cfg.mem_qps, ms), "max_query_count": cfg.mem_max_query_count}
        runs[size] = r.run(engine, f"memory-{size}-{cfg.mem_qps}qps-{ms}ms", settings,
                           expected_s=cfg.duration_ms / 1000)
    small, big = runs["small"], runs["big"]
    value = None
    note = ""
    counts = []
    for res, ms in ((small, cfg.mem_small_ms), (big, cfg.duration_ms)):
        c = res.m("generated_query_count")
        if c is None and res.ok:
            c = cfg.mem_qps * ms / 1000
            note = "generated_query_count missing from the log; estimated as QPS × duration"
        counts.append(c)
    if (small.ok and big.ok and small.peak_rss_kb and big.peak_rss_kb and None not in counts
            and counts[1] > counts[0]):
        value = (big.peak_rss_kb - small.peak_rss_kb) * 1024 / (counts[1] - counts[0])
    return {"bytes_per_query": value, "queries": counts, "rss_kb": [small.peak_rss_kb, big.peak_rss_kb],
            "note": note, "runs": [small.to_json(), big.to_json()]}


def fig_token_server(r: Runner, engine: str) -> Figure:
    """A null LLM SUT (first token, then completion with n_tokens) in Server with token latencies."""
    cfg = r.cfg
    settings = {**server_settings(cfg, cfg.overhead_qps), "use_token_latencies": True}
    res = r.run(engine, f"token-server-{cfg.overhead_qps}", settings, sut="null_tokens",
                expected_s=cfg.duration_ms / 1000, n_tokens=cfg.n_tokens)
    return {"ttft_p50_ns": res.m("result_first_token_50.00_percentile_latency_ns"),
            "ttft_p99_ns": res.m("result_first_token_99.00_percentile_latency_ns"),
            "p99_ns": res.m("result_99.00_percentile_latency_ns"),
            "tokens_per_s": res.m("result_completed_tokens_per_second"), "valid": res.valid, "run": res.to_json()}


def fig_token_offline(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    n = cfg.offline_samples
    settings = {"scenario": "Offline", "min_duration_ms": 10, "offline_expected_qps": (n + 0.5) / 0.011,
                "use_token_latencies": True}
    res = r.run(engine, "token-offline", settings, sut="null_tokens", expected_s=max(n / 100_000, 10),
                n_tokens=cfg.n_tokens)
    return {"tokens_per_s": res.m("result_tokens_per_second"), "samples_per_s": res.m("result_samples_per_second"),
            "peak_rss_kb": res.peak_rss_kb if res.ok else None, "valid": res.valid, "run": res.to_json()}


def fig_token_single_stream(r: Runner, engine: str) -> Figure:
    cfg = r.cfg
    settings = {"scenario": "SingleStream", "min_duration_ms": cfg.duration_ms,
                "single_stream_expected_latency_ns": cfg.ss_expected_latency_ns, "use_token_latencies": True}
    res = r.run(engine, "token-single-stream", settings, sut="null_tokens", expected_s=cfg.duration_ms / 1000,
                n_tokens=cfg.n_tokens)
    return {"qps": res.m("result_qps_with_loadgen_overhead"),
            "tps": res.m("result_token_throughput_with_loadgen_overhead"),
            "ttft_p90_ns": res.m("result_first_token_90.00_percentile_latency_ns"), "valid": res.valid,
            "run": res.to_json()}


FIGURE_FUNCS: dict[str, Callable[[Runner, str], Figure]] = {
    "server_peak": fig_server_peak,
    "server_overhead": fig_server_overhead,
    "offline": fig_offline,
    "offline_per_sample": fig_offline_per_sample,
    "single_stream": fig_single_stream,
    "multi_stream": fig_multi_stream,
    "sleep": fig_sleep,
    "memory": fig_memory,
    "token_server": fig_token_server,
    "token_offline": fig_token_offline,
    "token_single_stream": fig_token_single_stream,
}


# ---------------------------------------------------------------------------------------------- the table
@dataclass
class Row:
    figure: str
    label: str
    getter: Callable[[Figure], Any]
    unit: str
    scale: float = 1.0  # displayed = raw / scale
    higher_is_better: bool = True
    digits: int = 0


def _g(key: str) -> Callable[[Figure], Any]:
    return lambda f: f.get(key)


def rows_for(cfg: Config) -> list[Row]:
    nk = f"{cfg.offline_samples / 1e6:g}M"
    return [
        Row("server_peak", "Server peak target QPS, VALID 3/3 (p99 ≤ 100 ms)", _g("value"), "QPS"),
        Row("server_overhead", f"Server null SUT @{cfg.overhead_qps // 1000}k QPS: p50 sched→done", _g("p50_ns"),
            "µs", 1e3, False, 1),
        Row("server_overhead", f"Server null SUT @{cfg.overhead_qps // 1000}k QPS: p99 sched→done", _g("p99_ns"),
            "µs", 1e3, False, 1),
        Row("server_overhead", "  issue lateness p50 (podium only)", _g("lateness_p50_ns"), "µs", 1e3, False, 1),
        Row("server_overhead", "  issue lateness p99 (podium only)", _g("lateness_p99_ns"), "µs", 1e3, False, 1),
        Row("offline", f"Offline {nk} samples, 1 completion call", _g("samples_per_s"), "samples/s"),
        Row("offline", "  peak RSS", _g("peak_rss_kb"), "MiB", 1024, False),
        Row("offline_per_sample", f"Offline {nk} samples, 1 call per sample", _g("samples_per_s"), "samples/s"),
        Row("offline_per_sample", "  peak RSS", _g("peak_rss_kb"), "MiB", 1024, False),
        Row("single_stream", f"SingleStream (expected {cfg.ss_expected_latency_ns} ns) q/s w/ overhead",
            _g("qps"), "q/s"),
        Row("single_stream", "  p90 latency", _g("p90_ns"), "µs", 1e3, False, 2),
        Row("multi_stream", f"MultiStream {cfg.ms_samples_per_query} samples/query q/s", _g("qps"), "q/s"),
        Row("multi_stream", "  p99 per-query latency", _g("p99_ns"), "µs", 1e3, False, 2),
        Row("sleep", f"Sleep SUT Server {cfg.sleep_qps} QPS, {cfg.sleep_workers} workers, "
            f"{cfg.sleep_s * 1e3:g} ms: p50", _g("p50_ns"), "ms", 1e6, False, 2),
        Row("sleep", "  p90", _g("p90_ns"), "ms", 1e6, False, 2),
        Row("sleep", "  p99", _g("p99_ns"), "ms", 1e6, False, 2),
        Row("memory", "Bytes per pre-generated query", _g("bytes_per_query"), "B", 1.0, False),
        Row("token_server", f"Tokens: Server null LLM @{cfg.overhead_qps // 1000}k QPS, {cfg.n_tokens} tokens: "
            "TTFT p50", _g("ttft_p50_ns"), "µs", 1e3, False, 1),
        Row("token_server", "  TTFT p99", _g("ttft_p99_ns"), "µs", 1e3, False, 1),
        Row("token_server", "  p99 sched→done", _g("p99_ns"), "µs", 1e3, False, 1),
        Row("token_server", "  completed tokens/s", _g("tokens_per_s"), "tokens/s"),
        Row("token_offline", f"Tokens: Offline {nk} samples x {cfg.n_tokens} tokens", _g("tokens_per_s"),
            "tokens/s"),
        Row("token_offline", "  peak RSS", _g("peak_rss_kb"), "MiB", 1024, False),
        Row("token_single_stream", "Tokens: SingleStream null LLM q/s w/ overhead", _g("qps"), "q/s"),
        Row("token_single_stream", "  TTFT p90", _g("ttft_p90_ns"), "µs", 1e3, False, 2),
    ]


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def build_table(cfg: Config, results: dict[str, dict[str, Figure]]) -> list[dict[str, Any]]:
    table = []
    for row in rows_for(cfg):
        entry: dict[str, Any] = {"figure": row.figure, "label": row.label, "unit": row.unit,
                                 "higher_is_better": row.higher_is_better}
        vals = {}
        for eng in ENGINES:
            fig = results.get(eng, {}).get(row.figure)
            raw = _num(row.getter(fig)) if fig is not None else None
            vals[eng] = None if raw is None else raw / row.scale
            entry[eng] = vals[eng]
        if row.figure not in results.get("podium", {}) and row.figure not in results.get("official", {}):
            continue
        p, o = vals["podium"], vals["official"]
        entry["ratio"] = (p / o) if p is not None and o not in (None, 0) else None
        entry["digits"] = row.digits
        table.append(entry)
    return table


def _fmt(v: float | None, digits: int) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def print_table(table: list[dict[str, Any]], title: str) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None  # type: ignore[assignment]
    headers = ("figure", "unit", "podium", "official", "podium/official")
    lines = []
    for e in table:
        ratio = "—" if e.get("ratio") is None else f"{e['ratio']:.2f}×"
        arrow = "↑" if e["higher_is_better"] else "↓"
        lines.append((e["label"], f"{e['unit']} {arrow}", _fmt(e["podium"], e["digits"]),
                      _fmt(e["official"], e["digits"]), ratio))
    if Console is not None:
        t = Table(title=title)
        for i, h in enumerate(headers):
            t.add_column(h, justify="left" if i < 2 else "right")
        for line in lines:
            t.add_row(*line)
        Console(width=max(120, shutil.get_terminal_size((120, 20)).columns)).print(t)
        print("(↑ higher is better, ↓ lower is better)")
        return
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(headers)]
    print(title)
    print("  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    for line in lines:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    print("(↑ higher is better, ↓ lower is better)")


def collect_notes(results: dict[str, dict[str, Figure]]) -> list[str]:
    notes = []
    for eng, figs in results.items():
        for name, fig in figs.items():
            if fig.get("error"):
                notes.append(f"{eng}/{name}: {fig['error']}")
                continue
            runs = [fig["run"]] if "run" in fig else fig.get("runs", [])
            for run in runs:
                if run.get("error"):
                    notes.append(f"{eng}/{name}: run failed: {run['error']}")
                elif run.get("metrics", {}).get("result_validity") == "INVALID" and name not in ("memory",):
                    notes.append(f"{eng}/{name}: result INVALID (figure still reported)")
                for err in run.get("errors", [])[:3]:
                    if name == "memory" and "Max query count" in err:
                        continue  # expected: the memory runs stop early on purpose
                    notes.append(f"{eng}/{name}: logged error: {err}")
            if fig.get("ran_out"):
                notes.append(f"{eng}/{name}: ran out of pre-generated queries before min_duration (INVALID): the "
                             "engine is faster than the target q/s; its q/s still covers every issued query. "
                             "Lower --ss-expected-ns / --ms-expected-ns to run the full duration")
            if fig.get("note") and name != "server_peak":
                notes.append(f"{eng}/{name}: {fig['note']}")
            if name == "server_peak":
                notes.append(f"{eng}/server_peak: {fig.get('value')} QPS; {fig.get('note')}; "
                             f"{len(fig.get('probes', []))} probe runs")
    return notes


# -------------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs (2 s, 1M offline samples): a smoke check")
    p.add_argument("--duration-ms", type=int, default=None,
                   help="min_duration_ms of the timed runs (default 10000; --quick 2000)")
    p.add_argument("--only", choices=ENGINES, default=None, help="run one engine only")
    p.add_argument("--figures", default=",".join(FIGURES),
                   help=f"comma-separated subset of: {', '.join(FIGURES)}")
    p.add_argument("--offline-samples", type=int, default=None,
                   help="samples in the Offline query (default 3,000,000; --quick 1,000,000)")
    p.add_argument("--ss-expected-ns", type=int, default=4000,
                   help="single_stream_expected_latency_ns (default 4000: 2×duration×250k queries pre-generated)")
    p.add_argument("--ms-expected-ns", type=int, default=5000,
                   help="multi_stream_expected_latency_ns (default 5000: 2×duration×200k queries pre-generated)")
    p.add_argument("--fast", action="store_true",
                   help="null SUTs use the array binding (podium issue_arrays+complete_ids, official "
                        "ConstructFastSUT) instead of the per-QuerySample one")
    p.add_argument("--json", dest="json_out", default=None, help="write all figures and raw runs to this file")
    p.add_argument("--venv", default=DEFAULT_VENV, help="virtualenv for the official LoadGen")
    p.add_argument("--official-python", default=None,
                   help=f"use this Python (must import mlperf_loadgen) instead of creating --venv")
    p.add_argument("--timeout", type=float, default=None, help="seconds per subprocess (default: by run length)")
    p.add_argument("--keep-logs", action="store_true", help="keep every run's LoadGen logs (printed path)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = make_config(args)
    figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = [f for f in figures if f not in FIGURE_FUNCS]
    if unknown:
        log(f"unknown figure(s): {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
        return 2
    engines = [args.only] if args.only else list(ENGINES)

    official_python = None
    if "official" in engines:
        try:
            official_python = ensure_official_python(args.venv, args.official_python)
        except BenchError as exc:
            log(f"error: the official LoadGen environment is not usable:\n{exc}")
            return 2

    workroot = tempfile.mkdtemp(prefix="podium-lg-bench-")
    runner = Runner(cfg, official_python, workroot)
    results: dict[str, dict[str, Figure]] = {e: {} for e in engines}
    t_start = time.perf_counter()
    log(f"{'quick' if cfg.quick else 'full'} run: engines {', '.join(engines)}; figures {', '.join(figures)}; "
        f"min_duration {cfg.duration_ms} ms; work dir {workroot}")
    try:
        for fig in figures:
            log(f"== {fig}")
            for eng in engines:  # interleaved per figure so machine noise hits both engines alike
                t0 = time.perf_counter()
                try:
                    results[eng][fig] = FIGURE_FUNCS[fig](runner, eng)
                except BenchError as exc:
                    results[eng][fig] = {"error": str(exc)}
                results[eng][fig]["figure_elapsed_s"] = round(time.perf_counter() - t0, 2)
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured so far")
    total_s = time.perf_counter() - t_start

    table = build_table(cfg, results)
    print()
    print_table(table, f"LoadGen overhead: podium vs official {OFFICIAL_PACKAGE} {OFFICIAL_VERSION} "
                       f"({'quick' if cfg.quick else 'full'}, {cfg.duration_ms} ms runs, "
                       f"{'fast' if cfg.fast else 'plain'} SUT binding)")
    notes = collect_notes(results)
    if notes:
        print("\nnotes:")
        for n in notes:
            print(f"  - {n}")
    print(f"\ntotal {total_s / 60:.1f} min, {runner.count} subprocess runs")

    if args.json_out:
        doc = {
            "config": cfg.__dict__,
            "engines": engines,
            "figures": figures,
            "official_package": f"{OFFICIAL_PACKAGE}=={OFFICIAL_VERSION}",
            "official_python": official_python,
            "podium_python": sys.executable,
            "host": {"platform": platform.platform(), "cpus": os.cpu_count(),
                     "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None},
            "total_s": total_s,
            "table": table,
            "notes": notes,
            "results": results,
        }
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, default=str)
        log(f"wrote {args.json_out}")
    if not cfg.keep_logs:
        shutil.rmtree(workroot, ignore_errors=True)
    else:
        log(f"logs kept under {workroot}")
    failed = [r for r in runner.runs if not r.ok]
    return 1 if failed and len(failed) == len(runner.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
