"""One measurement on the official LoadGen (PyPI ``mlcommons-loadgen``), run inside ``benchmarks/.venv-official``.

Usage (done by ``loadgen_overhead.py``, never by hand in normal use)::

    .venv-official/bin/python _official_peer.py '<json spec>'

The spec names the settings (official ``TestSettings`` attribute names), the SUT (``null``, ``null_per_sample``,
``sleep``), whether to use the fast SUT binding, and where to write logs and the result. The peer runs one
``StartTestWithLogSettings`` with trace OFF, parses the detail log it wrote and prints ONE JSON line::

    {"ok": true, "engine": "official", "metrics": {...detail-log keys...}, "errors": [...],
     "peak_rss_kb": ..., "wall_s": ..., "extra": {...}}

This file must stay importable WITHOUT ``mlperf_loadgen`` and without podium: ``_podium_peer.py`` imports the
engine-neutral helpers below (detail-log parser, sleeping worker pool, spec/result plumbing) so both engines are
driven by the same code. Standard library only (the official venv holds only ``mlcommons-loadgen`` and numpy).
"""

from __future__ import annotations

import json
import os
import queue
import resource
import sys
import threading
import time
import traceback
from datetime import datetime
from typing import Any, Callable

# v2.1 mlperf.conf seeds (spec loadgen.md §3); set in code so no mlperf.conf is read by either engine.
V21_SEEDS = {
    "qsl_rng_seed": 14284205019438841327,
    "sample_index_rng_seed": 4163916728725999944,
    "schedule_rng_seed": 299063814864929621,
}
QSL_TOTAL = 1024
QSL_PERF = 1024

# Detail-log keys (besides every ``result_*`` key) that the benchmark keeps.
_EXTRA_KEYS = (
    "generated_query_count",
    "generated_query_duration",
    "generated_samples_per_query",
    "effective_samples_per_query",
    "effective_target_qps",
    "power_begin",
    "power_end",
    "num_errors",
    "early_stopping_ttft_result",
    "early_stopping_tpot_result",
    "loadgen_version",
    "sut_name",
)


# ----------------------------------------------------------------------------------------------- log parsing
def parse_detail_log(path: str) -> tuple[dict[str, Any], list[str]]:
    """``(metrics, errors)`` from an MLPerf detail log (``:::MLLOG {json}`` lines).

    ``metrics`` holds every ``result_*`` key plus a few generation/power keys (last value wins); ``errors`` the
    values of entries whose metadata says ``is_error``.
    """
    metrics: dict[str, Any] = {}
    errors: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            pos = line.find(":::MLLOG ")
            if pos < 0:
                continue
            try:
                rec = json.loads(line[pos + len(":::MLLOG "):])
            except ValueError:
                continue
            key = rec.get("key")
            if not isinstance(key, str):
                continue
            meta = rec.get("metadata") or {}
            if isinstance(meta, dict) and meta.get("is_error"):
                errors.append(f"{key}: {rec.get('value')}")
            if key.startswith("result_") or key in _EXTRA_KEYS:
                metrics[key] = rec.get("value")
    power = power_duration_s(metrics)
    if power is not None:
        metrics["power_duration_s"] = power
    return metrics, errors


def power_duration_s(metrics: dict[str, Any]) -> float | None:
    """``power_end - power_begin`` in seconds (ms resolution): start of issue → last completion."""
    begin, end = metrics.get("power_begin"), metrics.get("power_end")
    if not isinstance(begin, str) or not isinstance(end, str):
        return None
    try:
        fmt = "%m-%d-%Y %H:%M:%S.%f"
        return (datetime.strptime(end, fmt) - datetime.strptime(begin, fmt)).total_seconds()
    except ValueError:
        return None


def find_detail_log(outdir: str, prefix: str = "mlperf_log_") -> str | None:
    """The detail log in ``outdir`` (``<prefix>detail.txt``, or any ``*detail*.txt`` as a fallback)."""
    cand = os.path.join(outdir, f"{prefix}detail.txt")
    if os.path.exists(cand):
        return cand
    for name in sorted(os.listdir(outdir)):
        if "detail" in name and name.endswith(".txt"):
            return os.path.join(outdir, name)
    return None


# ---------------------------------------------------------------------------------------- sleeping worker pool
class SleepPool:
    """``workers`` threads; each takes one sample id, ``time.sleep(sleep_s)``, then ``complete_one(id)``.

    Engine-neutral: both peers use this class, giving it their own ``complete_one``.
    """

    def __init__(self, complete_one: Callable[[int], None], workers: int, sleep_s: float) -> None:
        self._q: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._complete_one = complete_one
        self._sleep_s = sleep_s
        self._threads = [threading.Thread(target=self._run, name=f"sleep-worker-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def put(self, sample_id: int) -> None:
        self._q.put(sample_id)

    def _run(self) -> None:
        get, sleep, complete_one, sleep_s = self._q.get, time.sleep, self._complete_one, self._sleep_s
        while True:
            sid = get()
            if sid is None:
                return
            sleep(sleep_s)
            complete_one(sid)

    def close(self) -> None:
        for _ in self._threads:
            self._q.put(None)
        for t in self._threads:
            t.join(timeout=5)


# ------------------------------------------------------------------------------------------- spec / result
def load_spec(argv: list[str]) -> dict[str, Any]:
    if len(argv) < 2:
        raise SystemExit("usage: _official_peer.py '<json spec>'")
    return json.loads(argv[1])


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def emit(result: dict[str, Any], spec: dict[str, Any]) -> None:
    """Write the result JSON to ``spec['result_path']`` (if given) and print it as one line."""
    line = json.dumps(result, default=str)
    path = spec.get("result_path")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(line)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_peer(engine: str, runner: Callable[[dict[str, Any]], dict[str, Any]], argv: list[str]) -> int:
    """Shared ``main``: run ``runner(spec)`` in ``spec['workdir']`` and emit its result (or the failure)."""
    spec = load_spec(argv)
    workdir = spec.get("workdir") or os.getcwd()
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)  # no stray audit.config / mlperf.conf from the caller's cwd
    try:
        res = runner(spec)
        res.setdefault("ok", True)
    except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit from an engine
        res = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    res["engine"] = engine
    res["peak_rss_kb"] = peak_rss_kb()
    res["label"] = spec.get("label")
    emit(res, spec)
    return 0 if res.get("ok") else 1


# ------------------------------------------------------------------------------------------- official run
def _official_run(spec: dict[str, Any]) -> dict[str, Any]:
    import mlperf_loadgen as lg  # only inside the official venv

    sut_kind = spec.get("sut", "null")
    fast = bool(spec.get("fast", False))
    Resp, complete = lg.QuerySampleResponse, lg.QuerySamplesComplete
    pool: SleepPool | None = None

    if sut_kind == "null":
        if fast:
            def fast_issue(ids: list[int], indices: list[int]) -> None:
                complete([Resp(i, 0, 0) for i in ids])
        else:
            def issue(samples: Any) -> None:
                complete([Resp(s.id, 0, 0) for s in samples])
    elif sut_kind == "null_per_sample":
        if fast:
            def fast_issue(ids: list[int], indices: list[int]) -> None:
                for i in ids:
                    complete([Resp(i, 0, 0)])
        else:
            def issue(samples: Any) -> None:
                for s in samples:
                    complete([Resp(s.id, 0, 0)])
    elif sut_kind == "null_tokens":
        n_tokens = int(spec.get("n_tokens", 128))
        first = lg.FirstTokenComplete
        fast = False

        def issue(samples: Any) -> None:
            first([Resp(s.id, 0, 0) for s in samples])
            complete([Resp(s.id, 0, 0, n_tokens) for s in samples])
    elif sut_kind == "sleep":
        pool = SleepPool(lambda sid: complete([Resp(sid, 0, 0)]), int(spec.get("workers", 2)),
                         float(spec.get("sleep_s", 0.001)))
        put = pool.put
        fast = False

        def issue(samples: Any) -> None:
            for s in samples:
                put(s.id)
    else:
        raise ValueError(f"unknown sut {sut_kind!r}")

    def flush() -> None:
        pass

    sut = lg.ConstructFastSUT(fast_issue, flush) if fast else lg.ConstructSUT(issue, flush)
    qsl = lg.ConstructQSL(QSL_TOTAL, QSL_PERF, lambda idx: None, lambda idx: None)

    settings = lg.TestSettings()
    for key, value in {**V21_SEEDS, **spec["settings"]}.items():
        if key == "scenario":
            value = getattr(lg.TestScenario, value)
        elif key == "mode":
            value = getattr(lg.TestMode, value)
        if not hasattr(settings, key):
            raise AttributeError(f"official TestSettings has no attribute {key!r}")
        setattr(settings, key, value)

    outdir = os.path.abspath(spec.get("outdir") or "logs")
    os.makedirs(outdir, exist_ok=True)
    log = lg.LogSettings()
    log.log_output.outdir = outdir
    log.log_output.copy_summary_to_stdout = False
    log.log_output.copy_detail_to_stdout = False
    log.enable_trace = False  # 6.0.17 defaults to True (~50 MB/s of trace, 8x the Server p50)

    t0 = time.perf_counter()
    lg.StartTestWithLogSettings(sut, qsl, settings, log)
    wall = time.perf_counter() - t0
    if pool is not None:
        pool.close()
    if fast:
        lg.DestroyFastSUT(sut)
    else:
        lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)

    detail = find_detail_log(outdir)
    if detail is None:
        raise RuntimeError(f"official LoadGen wrote no detail log in {outdir}")
    metrics, errors = parse_detail_log(detail)
    try:
        from importlib.metadata import version
        lg_version = version("mlcommons-loadgen")
    except Exception:  # noqa: BLE001
        lg_version = None
    return {"metrics": metrics, "errors": errors, "wall_s": wall,
            "extra": {"package_version": lg_version, "python": sys.version.split()[0]}}


if __name__ == "__main__":
    sys.exit(run_peer("official", _official_run, sys.argv))
