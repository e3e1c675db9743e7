#!/usr/bin/env python3
"""LLM client: podium's streaming client against NVIDIA AIPerf 0.13.0 and GuideLLM 0.8.1, same simulated server.

Every tool drives the same ``podium serve --llm sim`` (OpenAI-compatible streaming chat completions, model
``podium-sim``, known timing) in one invocation of this script, one tool after another, with the sim's
per-request records reset before each tool's run. Two figures per tool:

  client limit   completed requests/s at a fixed concurrency (default 64) for a fixed duration against a sim
                 that answers almost at once (TTFT 1 ms, TPOT 0.1 ms, 8 output tokens), as each tool reports
                 it, next to the sim's own count of completed requests / its span. This is the client's limit
                 ON THIS MACHINE: the sim runs on the same cores, so a faster client also loads the server.
  TTFT error     each tool's mean and p50 TTFT minus the sim's own TTFT (request received -> first token
                 sent, its ``ttft_ms`` records) over the same requests, against a sim with TTFT 100 ms,
                 TPOT 10 ms, 32 output tokens, at concurrency 1 and 8; in ms and in %.

Plus one podium-only line: podium's LoadGen (``podium run --benchmark llm --scenario Server``) against the
timed sim, LoadGen's first-token latency against the sim's.

Each tool runs in its own subprocess with a time limit: podium as ``<this python> llm_client.py
--podium-child`` (``podium.llm.concurrency.run_concurrency``), AIPerf as ``aiperf profile`` (summary from
``profile_export_aiperf.json``), GuideLLM as ``guidellm run --scenario`` (a JSON scenario; results from its
``--output kind=json`` file). The peers are benchmark-time tools only, each in its own virtualenv; neither
needs the network: both get a small word-level tokenizer written here (the sim's vocabulary), and
``HF_HUB_OFFLINE=1``.

    python benchmarks/llm_client.py --quick                    # ~2 min: 4 s runs
    python benchmarks/llm_client.py --json llm_client.json     # ~3 min: 10 s runs
    python benchmarks/llm_client.py --aiperf /opt/aiperf/bin/aiperf --guidellm /opt/guidellm/bin/guidellm
    python benchmarks/llm_client.py --tools podium,aiperf --concurrency 32
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SRC = os.path.join(REPO, "src")
MODEL = "podium-sim"
TOOLS = ("podium", "aiperf", "guidellm")
PEERS = {"aiperf": ("aiperf", "0.13.0"), "guidellm": ("guidellm", "0.8.1")}
#: the local tokenizer's name in the private Hugging Face cache the peers get (AIPerf resolves names there when
#: offline; GuideLLM is given the snapshot folder itself)
TOKENIZER_REPO = "podium/sim-words"
TOKENIZER_COMMIT = "0" * 40
PROMPT_WORDS = 32


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- configuration
@dataclass
class Config:
    quick: bool
    duration_s: float  # the client-limit runs
    ttft_duration_s: float  # each TTFT run
    concurrency: int = 64
    ttft_concurrencies: tuple[int, ...] = (1, 8)
    fast_sim: tuple[str, ...] = ("--ttft-ms", "1", "--tpot-ms", "0.1", "--output-len", "8")
    fast_output_len: int = 8
    timed_sim: tuple[str, ...] = ("--ttft-ms", "100", "--tpot-ms", "10", "--output-len", "32")
    timed_output_len: int = 32
    loadgen_qps: float = 10.0
    grace_s: float = 10.0  # AIPerf --benchmark-grace-period: in-flight requests may finish
    aiperf_workers: int | None = None
    timeout_s: float | None = None
    keep: bool = False

    def timeout_for(self, duration_s: float) -> float:
        # start-up (GuideLLM takes ~12 s to spawn its workers on 2 cores), the run, the drain, the write-up
        return self.timeout_s if self.timeout_s is not None else 120.0 + 2.0 * duration_s + self.grace_s


def make_config(args: argparse.Namespace) -> Config:
    quick = bool(args.quick)
    dur = args.duration or (4.0 if quick else 10.0)
    conc = tuple(int(c) for c in args.ttft_concurrency.split(",") if c.strip())
    if not conc or min(conc) < 1 or args.concurrency < 1:
        raise BenchError("--concurrency / --ttft-concurrency: expected integers >= 1")
    return Config(quick=quick, duration_s=dur, ttft_duration_s=args.ttft_duration or dur,
                  concurrency=args.concurrency, ttft_concurrencies=conc, loadgen_qps=args.loadgen_qps,
                  aiperf_workers=args.aiperf_workers, timeout_s=args.timeout, keep=args.keep)


# ------------------------------------------------------------------------------------------------- helpers
def _clean_env(extra_pythonpath: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    if extra_pythonpath:
        env["PYTHONPATH"] = extra_pythonpath
    env["PYTHONUNBUFFERED"] = "1"
    return env


def peer_env(hf_cache: str) -> dict[str, str]:
    """The peers' environment: no network look-ups, the private tokenizer cache, no colour codes in logs."""
    env = _clean_env()
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_CACHE": hf_cache,
                "HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    return env


@dataclass
class Proc:
    rc: int | None
    elapsed_s: float
    timed_out: bool
    log_path: str

    def tail(self, n: int = 1500) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()[-n:]
        except OSError:
            return ""


def run_proc(cmd: list[str], cwd: str, env: dict[str, str], timeout_s: float, log_path: str) -> Proc:
    """Run ``cmd`` in its own process group, output to ``log_path``; killed (the whole group) at the limit."""
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            for sig in (signal.SIGINT, signal.SIGKILL):  # let it write what it has, then make sure
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # stray children of a tool that exited (workers, services)
        except (ProcessLookupError, PermissionError):
            pass
    return Proc(proc.returncode, time.perf_counter() - t0, timed_out, log_path)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


# ---------------------------------------------------------------------------------------------- the peers
def find_peer(name: str, explicit: str | None) -> str | None:
    """The peer's executable: ``--aiperf/--guidellm PATH``, else on PATH, else ``/tmp/peers-*/bin/NAME``."""
    cands: list[str] = []
    if explicit:
        cands.append(explicit)
    else:
        cands.append(name)
        cands += sorted(glob.glob(f"/tmp/peers-*/bin/{name}"))
    for c in cands:
        path = c if os.sep in c else shutil.which(c)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
    return None


def peer_version(exe: str, env: dict[str, str]) -> str | None:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=90, env=env,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.findall(r"\d+\.\d+\.\d+\S*", out.stdout + out.stderr)
    return m[-1] if m else None


def write_tokenizer(root: str) -> tuple[str, str]:
    """A word-level Hugging Face tokenizer over the sim's words, in a private HF cache layout.

    Returns (HF_HUB_CACHE for the peers, the snapshot folder). Each sim output token (" the", " of", ...) is
    one token; any other word is ``[UNK]``, kept as an ordinary (not special) token so that prompts made of
    unknown words keep their length when a tool decodes them with ``skip_special_tokens``.
    """
    from podium.llm.sim_server import _WORDS

    cache = os.path.join(root, "hf-cache")
    repo_dir = os.path.join(cache, "models--" + TOKENIZER_REPO.replace("/", "--"))
    snap = os.path.join(repo_dir, "snapshots", TOKENIZER_COMMIT)
    os.makedirs(snap, exist_ok=True)
    os.makedirs(os.path.join(repo_dir, "refs"), exist_ok=True)
    with open(os.path.join(repo_dir, "refs", "main"), "w", encoding="utf-8") as fh:
        fh.write(TOKENIZER_COMMIT)
    vocab: dict[str, int] = {"[UNK]": 0}
    for w in _WORDS:
        vocab.setdefault(w, len(vocab))
    tokenizer: dict[str, Any] = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}}
    with open(os.path.join(snap, "tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(tokenizer, fh)
    with open(os.path.join(snap, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1_000_000,
                   "clean_up_tokenization_spaces": False}, fh)
    return cache, snap


# ---------------------------------------------------------------------------------------------- the sim
class Sim:
    """One ``podium serve --llm sim`` child process (``podium.llm.sim_server.SimProcess``), its output in a log
    file (aiohttp logs a line for every stream a client drops, as GuideLLM does when its duration ends)."""

    def __init__(self, args: list[str], log_path: str) -> None:
        from podium.llm.sim_server import SimProcess

        self.args = args
        self.proc = SimProcess(args, log_path=log_path)
        self.url = self.proc.url  # openai+http://127.0.0.1:PORT
        self.base = self.url[len("openai+"):]
        self.log_path = log_path

    def reset(self) -> None:
        import httpx

        httpx.post(f"{self.base}/podium/sim/reset", timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return self.proc.stats()

    def stop(self) -> None:
        self.proc.stop()


def sim_summary(stats: dict[str, Any], seqs: set[int] | None = None) -> dict[str, Any]:
    """The sim's own figures over its completed records (or only those with ``seq`` in ``seqs``)."""
    recs = [r for r in stats.get("requests", []) if r.get("fault") is None and r.get("ttft_ms") is not None]
    if seqs is not None:
        recs = [r for r in recs if r.get("seq") in seqs]
    ttft = [float(r["ttft_ms"]) for r in recs]
    out: dict[str, Any] = {"completed": len(recs), "records": len(stats.get("requests", [])),
                           "faults": sum(1 for r in stats.get("requests", []) if r.get("fault")),
                           "peak_active": stats.get("peak_active"),
                           "ttft_mean_ms": statistics.fmean(ttft) if ttft else None,
                           "ttft_p50_ms": _pct(ttft, 0.5)}
    if recs:
        span = (max(r["last_sent_ns"] for r in recs) - min(r["received_ns"] for r in recs)) / 1e9
        out["span_s"] = span
        out["requests_per_s"] = len(recs) / span if span > 0 else None
    return out


# ---------------------------------------------------------------------------------------------- one run
@dataclass
class ToolRun:
    tool: str
    figure: str  # "rate" or "ttft"
    concurrency: int
    ok: bool = False
    error: str | None = None
    #: what the tool itself reports: requests, failed, duration_s, requests_per_s, ttft_mean_ms, ttft_p50_ms
    reported: dict[str, Any] = field(default_factory=dict)
    #: the sim's records of the tool's requests (matched by response id where the tool keeps it)
    sim: dict[str, Any] = field(default_factory=dict)
    matched_by: str = ""
    elapsed_s: float = 0.0
    cmd: list[str] = field(default_factory=list)
    log: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


_SIM_ID = re.compile(r"cmpl-sim(\d+)")


def bodies_for(output_len: int, n: int = 256) -> list[bytes]:
    """Streaming chat bodies, ``PROMPT_WORDS`` words each (distinct prompts), ``max_tokens`` = output_len."""
    from podium.llm.sim_server import _WORDS

    out = []
    for i in range(n):
        words = [_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(PROMPT_WORDS - 1)] + [str(i)]
        out.append(json.dumps({"model": MODEL, "messages": [{"role": "user", "content": " ".join(words)}],
                               "stream": True, "stream_options": {"include_usage": True},
                               "max_tokens": output_len}).encode())
    return out


class Runner:
    def __init__(self, cfg: Config, workroot: str, exes: dict[str, str], hf_cache: str, tok_dir: str) -> None:
        self.cfg = cfg
        self.workroot = workroot
        self.exes = exes
        self.hf_cache = hf_cache
        self.tok_dir = tok_dir
        self.count = 0
        self.runs: list[ToolRun] = []

    def _workdir(self, label: str) -> str:
        self.count += 1
        d = os.path.join(self.workroot, f"{self.count:02d}-{label}")
        os.makedirs(d, exist_ok=True)
        return d

    def run(self, tool: str, figure: str, sim: Sim, concurrency: int, duration_s: float,
            output_len: int) -> ToolRun:
        wd = self._workdir(f"{tool}-{figure}-c{concurrency}")
        sim.reset()
        res = ToolRun(tool, figure, concurrency)
        try:
            if tool == "podium":
                self._podium(res, wd, sim, concurrency, duration_s, output_len)
            elif tool == "aiperf":
                self._aiperf(res, wd, sim, concurrency, duration_s, output_len, raw=figure == "ttft")
            else:
                self._guidellm(res, wd, sim, concurrency, duration_s, output_len, match=figure == "ttft")
        except BenchError as exc:
            res.error = str(exc)
        except Exception as exc:  # a parse surprise must not end the benchmark
            res.error = f"{type(exc).__name__}: {exc}"
        if res.error:
            res.ok = False
        self.runs.append(res)
        rep, s = res.reported, res.sim
        status = "ok" if res.ok else f"FAILED ({res.error})"
        log(f"  [{tool:8s}] {figure:4s} c={concurrency:<3d} {status}  {res.elapsed_s:5.1f} s  "
            f"req/s {_f(rep.get('requests_per_s'), 1)} (sim {_f(s.get('requests_per_s'), 1)}, "
            f"{_f(rep.get('requests'), 0)} vs sim {_f(s.get('completed'), 0)} requests)  "
            f"TTFT mean {_f(rep.get('ttft_mean_ms'), 2)} vs sim {_f(s.get('ttft_mean_ms'), 2)} ms")
        return res

    # ---- podium: run_concurrency in a child interpreter (bounded like the peers)
    def _podium(self, res: ToolRun, wd: str, sim: Sim, conc: int, dur: float, out_len: int) -> None:
        out_path = os.path.join(wd, "podium_result.json")
        spec = {"url": sim.url, "concurrency": conc, "duration_s": dur, "output_len": out_len, "out": out_path}
        cmd = [sys.executable, os.path.abspath(__file__), "--podium-child", json.dumps(spec)]
        res.cmd = cmd
        p = run_proc(cmd, wd, _clean_env(os.pathsep.join(x for x in (SRC, os.environ.get("PYTHONPATH")) if x)),
                     self.cfg.timeout_for(dur), os.path.join(wd, "podium.log"))
        res.elapsed_s, res.log = p.elapsed_s, p.log_path
        if p.timed_out:
            raise BenchError(f"timed out after {self.cfg.timeout_for(dur):.0f} s")
        if not os.path.exists(out_path):
            raise BenchError(f"exited {p.rc} without a result: {p.tail()}")
        with open(out_path, encoding="utf-8") as fh:
            doc = json.load(fh)
        fig = doc["figures"]
        ttft = fig.get("ttft_ms") or {}
        res.reported = {"requests": fig["requests"] - fig["failed"], "failed": fig["failed"],
                        "duration_s": fig["duration_s"], "requests_per_s": fig["requests_per_s"],
                        "ttft_mean_ms": ttft.get("mean"), "ttft_p50_ms": ttft.get("p50"),
                        "first_error": doc.get("first_error")}
        res.sim = sim_summary(sim.stats())  # podium sends nothing else: every record is one of its requests
        res.matched_by = "all sim records since reset (podium sends no other request)"
        res.ok = fig["requests"] > fig["failed"]

    # ---- AIPerf
    def _aiperf(self, res: ToolRun, wd: str, sim: Sim, conc: int, dur: float, out_len: int, raw: bool) -> None:
        art = os.path.join(wd, "artifacts")
        cmd = [self.exes["aiperf"], "profile", "--model", MODEL, "--url", sim.base, "--endpoint-type", "chat",
               "--streaming", "--tokenizer", TOKENIZER_REPO, "--concurrency", str(conc),
               "--benchmark-duration", f"{dur:g}", "--benchmark-grace-period", f"{self.cfg.grace_s:g}",
               "--isl", str(PROMPT_WORDS), "--osl", str(out_len), "--random-seed", "0",
               "--artifact-dir", art, "--ui", "none", "--no-server-metrics", "--no-gpu-telemetry",
               "--export-level", "raw" if raw else "summary"]
        if self.cfg.aiperf_workers:
            cmd += ["--workers-max", str(self.cfg.aiperf_workers)]
        res.cmd = cmd
        p = run_proc(cmd, wd, peer_env(self.hf_cache), self.cfg.timeout_for(dur), os.path.join(wd, "aiperf.log"))
        res.elapsed_s, res.log = p.elapsed_s, p.log_path
        summary = os.path.join(art, "profile_export_aiperf.json")
        if not os.path.exists(summary):
            why = f"timed out after {self.cfg.timeout_for(dur):.0f} s" if p.timed_out else f"exited {p.rc}"
            raise BenchError(f"aiperf {why} without {summary}: {p.tail()}")
        with open(summary, encoding="utf-8") as fh:
            d = json.load(fh)

        def avg(key: str, stat: str = "avg") -> float | None:
            v = d.get(key)
            return _num(v.get(stat)) if isinstance(v, dict) else None

        ttft = d.get("time_to_first_token") or {}
        errors = avg("error_request_count")
        res.reported = {"requests": avg("request_count"), "failed": errors or 0.0,
                        "duration_s": avg("benchmark_duration"), "requests_per_s": avg("request_throughput"),
                        "ttft_mean_ms": _num(ttft.get("avg")), "ttft_p50_ms": _num(ttft.get("p50")),
                        "ttft_count": ttft.get("count"), "error_summary": d.get("error_summary"),
                        "was_cancelled": d.get("was_cancelled")}
        stats = sim.stats()
        seqs = self._aiperf_seqs(art) if raw else None
        if seqs:
            res.sim = sim_summary(stats, seqs)
            res.matched_by = f"response id (profile_export_raw.jsonl), {len(seqs)} requests"
        else:
            res.sim = sim_summary(stats)
            res.matched_by = "all sim records since reset"
        res.ok = bool(res.reported["requests"]) and p.rc == 0
        if p.rc != 0 and not res.error:
            res.error = f"aiperf exited {p.rc} (summary written): {p.tail(400)}"

    @staticmethod
    def _aiperf_seqs(art: str) -> set[int] | None:
        """The sim's request numbers of the requests AIPerf profiled, from the ids in its raw responses."""
        path = os.path.join(art, "profile_export_raw.jsonl")
        if not os.path.exists(path):
            return None
        seqs: set[int] = set()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    meta = json.loads(line).get("metadata") or {}
                except ValueError:
                    continue
                if meta.get("benchmark_phase", "profiling") != "profiling" or meta.get("was_cancelled"):
                    continue
                m = _SIM_ID.search(line)
                if m:
                    seqs.add(int(m.group(1)))
        return seqs or None

    # ---- GuideLLM
    def _guidellm(self, res: ToolRun, wd: str, sim: Sim, conc: int, dur: float, out_len: int, match: bool) -> None:
        out = os.path.join(wd, "benchmarks.json")
        scenario = {"spec": {
            "backend": {"kind": "openai_http", "target": sim.base, "model": MODEL,
                        "request_format": "/v1/chat/completions", "stream": True},
            "profile": {"kind": "concurrent", "streams": [conc]},
            "constraints": [{"kind": "max_duration", "seconds": dur}],
            "tokenizer": {"kind": "huggingface_auto", "model": self.tok_dir},
            "data": [{"kind": "synthetic_text", "prompt_tokens": PROMPT_WORDS, "output_tokens": out_len}],
            "seed": {"kind": "static", "value": 0},
            "outputs": [{"kind": "json", "path": out}]}}
        scen_path = os.path.join(wd, "scenario.json")
        with open(scen_path, "w", encoding="utf-8") as fh:
            json.dump(scenario, fh, indent=1)
        cmd = [self.exes["guidellm"], "run", "--scenario", scen_path, "--disable-console-interactive"]
        res.cmd = cmd
        p = run_proc(cmd, wd, peer_env(self.hf_cache), self.cfg.timeout_for(dur), os.path.join(wd, "guidellm.log"))
        res.elapsed_s, res.log = p.elapsed_s, p.log_path
        if not os.path.exists(out):
            why = f"timed out after {self.cfg.timeout_for(dur):.0f} s" if p.timed_out else f"exited {p.rc}"
            raise BenchError(f"guidellm {why} without {out}: {p.tail()}")
        with open(out, encoding="utf-8") as fh:
            d = json.load(fh)
        b = d["benchmarks"][0]
        m = b["metrics"]
        totals = m.get("request_totals") or {}
        ttft = (m.get("time_to_first_token_ms") or {}).get("successful") or {}
        res.reported = {"requests": totals.get("successful"), "failed": totals.get("errored"),
                        "incomplete": totals.get("incomplete"), "duration_s": b.get("duration"),
                        "requests_per_s": ((m.get("requests_per_second") or {}).get("successful") or {}).get("mean"),
                        "ttft_mean_ms": _num(ttft.get("mean")), "ttft_p50_ms": _num(ttft.get("median")),
                        "worker_processes": (b.get("scheduler_state") or {}).get("num_processes")}
        reqs = b.get("requests") or {}
        ok_reqs = reqs.get("successful", []) if isinstance(reqs, dict) else []
        # GuideLLM's TTFT covers the successful requests whose [request start, first token] overlaps the
        # benchmark's window (GenerativeMetrics: first_token_requests); its sample list holds a few more
        t0, t1 = _num(b.get("start_time")), _num(b.get("end_time"))
        seqs = set()
        for r in ok_reqs:
            mm = _SIM_ID.search(str(r.get("response_id") or ""))
            timings = (r.get("info") or {}).get("timings") or {}
            first = _num(timings.get("first_token_iteration"))
            start = _num(r.get("request_start_time"))
            if t0 is not None and t1 is not None and first is not None and start is not None:
                if first < t0 or start > t1:
                    continue
            if mm:
                seqs.add(int(mm.group(1)))
        res.reported["ttft_count"] = ttft.get("count")
        stats = sim.stats()
        if seqs and match:
            res.sim = sim_summary(stats, seqs)
            res.matched_by = f"response id (benchmarks.json), {len(seqs)} requests"
        else:
            res.sim = sim_summary(stats)
            res.matched_by = "all sim records since reset"
        res.ok = bool(res.reported["requests"]) and p.rc == 0
        if p.rc != 0 and not res.error:
            res.error = f"guidellm exited {p.rc} (results written): {p.tail(400)}"

    # ---- podium's LoadGen, Server scenario (podium only)
    def loadgen(self, sim: Sim) -> dict[str, Any]:
        cfg = self.cfg
        wd = self._workdir("podium-loadgen-server")
        sim.reset()
        cmd = [sys.executable, "-m", "podium.cli.main", "run", "--benchmark", "llm", "--sut-url", sim.url,
               "--scenario", "Server", "--target-qps", f"{cfg.loadgen_qps:g}", "--duration", f"{cfg.ttft_duration_s:g}",
               "--num-prompts", "64", "--output-len", str(cfg.timed_output_len), "--mode", "performance",
               "--output", os.path.join(wd, "results"), "--run-name", "server"]
        p = run_proc(cmd, wd, _clean_env(os.pathsep.join(x for x in (SRC, os.environ.get("PYTHONPATH")) if x)),
                     cfg.timeout_for(cfg.ttft_duration_s), os.path.join(wd, "podium-run.log"))
        perf = os.path.join(wd, "results", "server", "performance")
        out: dict[str, Any] = {"qps": cfg.loadgen_qps, "cmd": cmd, "elapsed_s": p.elapsed_s, "log": p.log_path}
        summary = os.path.join(perf, "mlperf_log_summary.txt")
        if not os.path.exists(summary):
            out["error"] = ("timed out" if p.timed_out else f"exited {p.rc}") + f" without {summary}: {p.tail()}"
            log(f"  [podium  ] LoadGen Server FAILED ({out['error'][:200]})")
            return out
        text = open(summary, encoding="utf-8").read()

        def ns(pattern: str) -> float | None:
            mm = re.search(pattern + r"\s*:\s*([0-9.]+)", text)
            return float(mm.group(1)) / 1e6 if mm else None

        out["ttft_mean_ms"] = ns(r"Mean First Token latency \(ns\)")
        out["ttft_p50_ms"] = ns(r"50\.00 percentile first token latency \(ns\)")
        mm = re.search(r"Completed samples per second\s*:\s*([0-9.]+)", text)
        out["completed_samples_per_s"] = float(mm.group(1)) if mm else None
        try:
            with open(os.path.join(perf, "podium", "podium_result.json"), encoding="utf-8") as fh:
                llm = json.load(fh).get("llm") or {}
            out["podium_server_reported_ttft_ms"] = llm.get("server_reported_ttft_ms")
            out["requests"] = llm.get("requests")
            out["failed"] = llm.get("failed_requests")
        except (OSError, ValueError):
            pass
        out["sim"] = sim_summary(sim.stats())
        out["error_ms"], out["error_pct"] = _err(out.get("ttft_mean_ms"), out["sim"].get("ttft_mean_ms"))
        out["p50_error_ms"], _ = _err(out.get("ttft_p50_ms"), out["sim"].get("ttft_p50_ms"))
        log(f"  [podium  ] LoadGen Server {cfg.loadgen_qps:g} QPS: TTFT mean {_f(out.get('ttft_mean_ms'), 2)} vs sim "
            f"{_f(out['sim'].get('ttft_mean_ms'), 2)} ms  {p.elapsed_s:5.1f} s")
        return out


def _err(tool: float | None, truth: float | None) -> tuple[float | None, float | None]:
    if tool is None or truth is None:
        return None, None
    return tool - truth, (tool - truth) / truth * 100.0 if truth else None


def _f(v: Any, digits: int) -> str:
    return "—" if _num(v) is None else f"{float(v):,.{digits}f}"


# ------------------------------------------------------------------------------------------- podium child
def podium_child(spec_json: str) -> int:
    """``--podium-child SPEC``: one fixed-concurrency point with podium's client; writes its figures."""
    spec = json.loads(spec_json)
    from podium.llm.concurrency import run_concurrency
    from podium.llm.metrics import SLO, point_figures

    r = run_concurrency([spec["url"]], "chat", bodies_for(int(spec["output_len"])), int(spec["concurrency"]),
                        duration_s=float(spec["duration_s"]), timeout_s=60.0, drain_s=30.0)
    doc = {"figures": point_figures(r.timings, r.duration_s, SLO()), "failures": r.failures,
           "first_error": r.first_error, "token_source": r.token_source, "issue_delay_p90_ms": r.issue_delay_p90_ms}
    with open(spec["out"], "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return 0


# ---------------------------------------------------------------------------------------------- the table
def build_rows(cfg: Config, tools: list[str], runs: list[ToolRun]) -> list[dict[str, Any]]:
    by = {(r.tool, r.figure, r.concurrency): r for r in runs}
    rows = []
    for tool in tools:
        row: dict[str, Any] = {"tool": tool}
        rate = by.get((tool, "rate", cfg.concurrency))
        row["rate_rps"] = rate.reported.get("requests_per_s") if rate and rate.ok else None
        row["rate_sim_rps"] = rate.sim.get("requests_per_s") if rate and rate.ok else None
        for c in cfg.ttft_concurrencies:
            t = by.get((tool, "ttft", c))
            rep: dict[str, Any] = t.reported if t is not None and t.ok else {}
            sim: dict[str, Any] = t.sim if t is not None and t.ok else {}
            tm, sm = rep.get("ttft_mean_ms"), sim.get("ttft_mean_ms")
            row[f"c{c}_ttft_ms"], row[f"c{c}_sim_ttft_ms"] = tm, sm
            row[f"c{c}_err_ms"], row[f"c{c}_err_pct"] = _err(tm, sm)
            row[f"c{c}_p50_err_ms"], _ = _err(rep.get("ttft_p50_ms"), sim.get("ttft_p50_ms"))
        rows.append(row)
    pod = next((r for r in rows if r["tool"] == "podium"), None)
    for row in rows:
        p = pod["rate_rps"] if pod else None
        row["rate_ratio"] = (p / row["rate_rps"]) if p and row["rate_rps"] and row["tool"] != "podium" else None
        for c in cfg.ttft_concurrencies:
            pe = pod.get(f"c{c}_err_ms") if pod else None
            e = row.get(f"c{c}_err_ms")
            row[f"c{c}_err_ratio"] = (abs(pe) / abs(e) if pe is not None and e and row["tool"] != "podium"
                                      else None)
    return rows


def print_table(cfg: Config, rows: list[dict[str, Any]], versions: dict[str, str | None], title: str) -> None:
    headers = ["tool", f"client limit req/s ↑ (c={cfg.concurrency})", "sim req/s", "podium/peer"]
    for c in cfg.ttft_concurrencies:
        headers += [f"c={c} TTFT tool / sim ms", f"c={c} mean err ms (%) ↓", f"c={c} p50 err ms ↓"]
    headers.append("|err| podium/peer " + ", ".join(f"c={c}" for c in cfg.ttft_concurrencies))
    lines = []
    for r in rows:
        name = r["tool"] + (f" {versions.get(r['tool'])}" if versions.get(r["tool"]) else "")
        line = [name, _f(r["rate_rps"], 1), _f(r["rate_sim_rps"], 1),
                "—" if r["rate_ratio"] is None else f"{r['rate_ratio']:.2f}×"]
        for c in cfg.ttft_concurrencies:
            line.append(f"{_f(r[f'c{c}_ttft_ms'], 2)} / {_f(r[f'c{c}_sim_ttft_ms'], 2)}")
            e, pct = r[f"c{c}_err_ms"], r[f"c{c}_err_pct"]
            line.append("—" if e is None else f"{e:+.2f} ({pct:+.1f}%)")
            line.append("—" if r[f"c{c}_p50_err_ms"] is None else f"{r[f'c{c}_p50_err_ms']:+.2f}")
        line.append(", ".join("—" if r[f"c{c}_err_ratio"] is None else f"{r[f'c{c}_err_ratio']:.2f}×"
                              for c in cfg.ttft_concurrencies))
        lines.append(line)
    try:
        from rich.console import Console
        from rich.table import Table

        have_rich = True
    except ImportError:
        have_rich = False
    if have_rich:
        t = Table(title=title)
        for i, h in enumerate(headers):
            t.add_column(h, justify="left" if i == 0 else "right")
        for line in lines:
            t.add_row(*line)
        Console(width=max(200, shutil.get_terminal_size((200, 20)).columns)).print(t)
    else:
        widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(headers)]
        print(title)
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
        for line in lines:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    print("(↑ higher is better, ↓ closer to 0 is better. Error = tool's TTFT − the sim's own TTFT (request "
          "received → first token sent) over the same requests; p50 err = tool p50 − sim p50. The client limit is "
          "this machine's: the sim shares its cores.)")


def collect_notes(cfg: Config, runs: list[ToolRun]) -> list[str]:
    notes = []
    for r in runs:
        tag = f"{r.tool}/{r.figure} c={r.concurrency}"
        if r.error:
            notes.append(f"{tag}: {r.error[:600]}")
        if not r.ok:
            continue
        rep, sim = r.reported, r.sim
        text = (f"{tag}: {_f(rep.get('requests'), 0)} requests reported, sim {_f(sim.get('completed'), 0)} completed "
                f"({r.matched_by}); tool duration {_f(rep.get('duration_s'), 2)} s, sim span "
                f"{_f(sim.get('span_s'), 2)} s")
        if rep.get("ttft_count") is not None and rep.get("ttft_count") != rep.get("requests"):
            text += f", the tool's TTFT covers {_f(rep['ttft_count'], 0)} of them"
        if rep.get("incomplete"):
            text += f", {rep['incomplete']} incomplete (cancelled at the end)"
        if rep.get("failed"):
            text += f", {_f(rep['failed'], 0)} failed"
        if rep.get("worker_processes"):
            text += f", {rep['worker_processes']} worker processes"
        notes.append(text)
    return notes


# -------------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="4 s runs instead of 10 s (a smoke check, ~2 min)")
    p.add_argument("--duration", type=float, default=None, help="seconds per client-limit run (default 10; --quick 4)")
    p.add_argument("--ttft-duration", type=float, default=None, help="seconds per TTFT run (default: --duration)")
    p.add_argument("--concurrency", type=int, default=64, help="concurrency of the client-limit runs (default 64)")
    p.add_argument("--ttft-concurrency", default="1,8", help="concurrencies of the TTFT runs (default 1,8)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of: {', '.join(TOOLS)}")
    p.add_argument("--aiperf", default=None, metavar="PATH",
                   help="the aiperf executable (default: aiperf on PATH, else /tmp/peers-*/bin/aiperf)")
    p.add_argument("--guidellm", default=None, metavar="PATH",
                   help="the guidellm executable (default: guidellm on PATH, else /tmp/peers-*/bin/guidellm)")
    p.add_argument("--aiperf-workers", type=int, default=None,
                   help="aiperf --workers-max (default: aiperf's own choice, 1 worker on 2 cores)")
    p.add_argument("--loadgen-qps", type=float, default=10.0,
                   help="target QPS of the podium LoadGen Server line against the timed sim (0: skip it)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per tool run (default 120 + 2 × duration + 10)")
    p.add_argument("--json", dest="json_out", default=None, help="write the table, notes and every run here")
    p.add_argument("--keep", action="store_true", help="keep the work folder (each run's logs and tool outputs)")
    p.add_argument("--podium-child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.podium_child:
        return podium_child(args.podium_child)
    try:
        cfg = make_config(args)
    except BenchError as exc:
        log(str(exc))
        return 2
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        log(f"unknown tool(s): {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
        return 2
    # podium from this checkout first, for this process and the sim / podium children
    sys.path.insert(0, SRC)
    os.environ["PYTHONPATH"] = os.pathsep.join(x for x in (SRC, os.environ.get("PYTHONPATH")) if x)

    workroot = tempfile.mkdtemp(prefix="podium-llm-client-")
    hf_cache, tok_dir = write_tokenizer(workroot)
    exes: dict[str, str] = {}
    versions: dict[str, str | None] = {"podium": None}
    skipped: list[str] = []
    try:
        from importlib.metadata import version

        versions["podium"] = version("podium")
    except Exception:
        pass
    for name in [t for t in tools if t in PEERS]:
        exe_name, pinned = PEERS[name]
        exe = find_peer(exe_name, getattr(args, name))
        if exe is None:
            msg = f"{name}: not installed: pip install {exe_name}=={pinned} (in its own venv); skipping it"
            log(msg)
            skipped.append(msg)
            continue
        exes[name] = exe
        versions[name] = peer_version(exe, peer_env(hf_cache))
        if versions[name] != pinned:
            log(f"warning: {exe} is {name} {versions[name] or '(version unknown)'}, not {pinned}: its command "
                "line or output format may differ")
        log(f"{name}: {exe} ({versions[name]})")
    tools = [t for t in tools if t == "podium" or t in exes]
    runner = Runner(cfg, workroot, exes, hf_cache, tok_dir)
    loadgen: dict[str, Any] | None = None
    t_start = time.perf_counter()
    log(f"{'quick' if cfg.quick else 'full'} run: tools {', '.join(tools)}; client-limit {cfg.duration_s:g} s at "
        f"c={cfg.concurrency}; TTFT {cfg.ttft_duration_s:g} s at c={','.join(map(str, cfg.ttft_concurrencies))}; "
        f"work dir {workroot}")
    sims: list[Sim] = []
    try:
        log("== client limit: sim " + " ".join(cfg.fast_sim))
        fast = Sim(list(cfg.fast_sim), os.path.join(workroot, "sim-fast.log"))
        sims.append(fast)
        for tool in tools:
            runner.run(tool, "rate", fast, cfg.concurrency, cfg.duration_s, cfg.fast_output_len)
        fast.stop()
        log("== TTFT error: sim " + " ".join(cfg.timed_sim))
        timed = Sim(list(cfg.timed_sim), os.path.join(workroot, "sim-timed.log"))
        sims.append(timed)
        for c in cfg.ttft_concurrencies:
            for tool in tools:
                runner.run(tool, "ttft", timed, c, cfg.ttft_duration_s, cfg.timed_output_len)
        if cfg.loadgen_qps > 0 and "podium" in tools:
            loadgen = runner.loadgen(timed)
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured so far")
    except Exception as exc:  # e.g. a sim that does not start
        log(f"error: {type(exc).__name__}: {exc}")
    finally:
        for s in sims:
            s.stop()
    total_s = time.perf_counter() - t_start

    rows = build_rows(cfg, tools, runner.runs)
    print()
    print_table(cfg, rows, versions,
                f"LLM client: {' vs '.join(tools)}, one sim ({'quick' if cfg.quick else 'full'}: "
                f"{cfg.duration_s:g} s client-limit runs, {cfg.ttft_duration_s:g} s TTFT runs; {os.cpu_count()} CPUs)")
    if loadgen and loadgen.get("ttft_mean_ms") is not None:
        print(f"podium LoadGen Server (Poisson, {cfg.loadgen_qps:g} QPS, {cfg.ttft_duration_s:g} s, same timed sim): "
              f"TTFT mean {_f(loadgen['ttft_mean_ms'], 2)} ms vs sim {_f(loadgen['sim'].get('ttft_mean_ms'), 2)} ms: "
              f"error {loadgen['error_ms']:+.2f} ms ({loadgen['error_pct']:+.1f}%), p50 error "
              f"{_f(loadgen.get('p50_error_ms'), 2)} ms; {loadgen['sim'].get('completed')} requests (scheduled → "
              "first token, so LoadGen's issue lateness is in it)")
    elif loadgen:
        print(f"podium LoadGen Server: failed: {loadgen.get('error', '')[:300]}")
    notes = skipped + collect_notes(cfg, runner.runs)
    if notes:
        print("\nnotes:")
        for n in notes:
            print(f"  - {n}")
    print(f"\ntotal {total_s / 60:.1f} min, {len(runner.runs) + (1 if loadgen else 0)} tool runs")

    if args.json_out:
        doc = {"config": cfg.__dict__, "tools": tools, "versions": versions, "executables": exes,
               "python": sys.executable,
               "host": {"platform": platform.platform(), "cpus": os.cpu_count(),
                        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None},
               "total_s": total_s, "table": rows, "loadgen_server": loadgen, "notes": notes,
               "runs": [r.to_json() for r in runner.runs]}
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, default=str)
        log(f"wrote {args.json_out}")
    if cfg.keep:
        log(f"work folder kept: {workroot}")
    else:
        shutil.rmtree(workroot, ignore_errors=True)
    return 0 if any(r.ok for r in runner.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
