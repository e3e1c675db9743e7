"""Peak search: podium's ``find_peak`` against the official FindPeakPerformance, on the same sleeping SUT.

The SUT has ``--workers`` threads, each sleeping ``--service-ms`` per sample, so its capacity is known: it is
measured here as its Offline throughput (time.sleep overshoots, so it is a little under workers/service).
Both searches start from the same lower bound with the same latency bound; the official makes a full-length
run (``--duration-ms``) per probe, podium makes short probes and one full-length confirmation.

    python benchmarks/find_peak.py                 # ~3-4 minutes
    python benchmarks/find_peak.py --duration-ms 3000 --only podium

Prints: the peak each found, its distance from the capacity, total search time, runs made, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from _official_peer import V21_SEEDS, SleepPool  # noqa: E402

from podium.loadgen import (BaseSUT, LogSettings, Scenario, SimpleQSL, TestMode, TestSettings,  # noqa: E402
                            find_peak, start_test)


class SleepingSUT(BaseSUT):
    """The shared sleeping pool behind podium's SUT interface."""

    name = "SleepingSUT"

    def __init__(self, workers: int, service_s: float) -> None:
        super().__init__()
        self.pool = SleepPool(lambda sid: self.complete([(sid, None)]), workers, service_s)

    def issue_queries(self, samples):
        for s in samples:
            self.pool.put(s.id)


def capacity(sut: SleepingSUT, n: int) -> float:
    s = TestSettings(scenario=Scenario.Offline, mode=TestMode.PerformanceOnly, offline_expected_qps=n / 1.1,
                     min_duration_ms=1000, min_query_count=n, **V21_SEEDS)
    res = start_test(sut, SimpleQSL(1024, 1024), s, LogSettings(outdir=tempfile.mkdtemp()), audit_config=None)
    return res.performance.samples_per_second


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--service-ms", type=float, default=1.0)
    ap.add_argument("--bound-ms", type=float, default=100.0)
    ap.add_argument("--lower-qps", type=float, default=500.0)
    ap.add_argument("--duration-ms", type=int, default=5000, help="full-length run (official probes, podium "
                    "confirmation)")
    ap.add_argument("--probe-ms", type=int, default=1500, help="podium's short probe length")
    ap.add_argument("--decimals", type=int, default=0, help="official search precision (decimals of QPS)")
    ap.add_argument("--only", choices=("podium", "official"))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    service_s = args.service_ms / 1000
    bound_ns = int(args.bound_ms * 1e6)
    out: dict = {"settings": vars(args)}

    sut = SleepingSUT(args.workers, service_s)
    cap = capacity(sut, 6000)
    out["capacity_qps"] = cap
    print(f"capacity (Offline throughput of the sleeping SUT): {cap:,.1f} samples/s", flush=True)

    if args.only != "official":
        settings = TestSettings(scenario=Scenario.Server, server_target_qps=args.lower_qps,
                                server_target_latency_ns=bound_ns, min_duration_ms=args.duration_ms,
                                min_query_count=1, **V21_SEEDS)
        t0 = time.perf_counter()
        res = find_peak(sut, SimpleQSL(1024, 1024), settings, tempfile.mkdtemp(prefix="podium-peak-"),
                        probe_ms=args.probe_ms)
        out["podium"] = {"peak_qps": res.value, "wall_s": time.perf_counter() - t0, "runs": len(res.probes),
                         "confidence": res.confidence}
        print(f"podium   : peak {res.value:,.1f} QPS in {out['podium']['wall_s']:.1f} s, {len(res.probes)} runs",
              flush=True)

    if args.only != "podium":
        py = HERE / ".venv-official" / "bin" / "python"
        if not py.exists():
            print("official venv missing: run `python benchmarks/loadgen_overhead.py --only official --quick` "
                  "once to create benchmarks/.venv-official", file=sys.stderr)
            return 2
        spec = {"outdir": tempfile.mkdtemp(prefix="official-peak-"), "workers": args.workers,
                "service_s": service_s, "lower_qps": args.lower_qps, "bound_ns": bound_ns,
                "duration_ms": args.duration_ms, "decimals": args.decimals}
        proc = subprocess.run([str(py), str(HERE / "_official_findpeak.py"), json.dumps(spec)],
                              capture_output=True, text=True, timeout=3600)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not line:
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            return 1
        out["official"] = json.loads(line[-1])
        o = out["official"]
        print(f"official : peak {o['peak_qps']:,.1f} QPS in {o['wall_s']:.1f} s, {o['runs']} runs", flush=True)

    print()
    print(f"{'':10}{'peak QPS':>12}{'vs capacity':>14}{'search s':>11}{'runs':>6}")
    for eng in ("podium", "official"):
        if eng in out and out[eng]["peak_qps"]:
            r = out[eng]
            print(f"{eng:10}{r['peak_qps']:>12,.1f}{(r['peak_qps'] / cap - 1) * 100:>13.1f}%"
                  f"{r['wall_s']:>11.1f}{r['runs']:>6}")
    if "podium" in out and "official" in out and out["official"]["peak_qps"]:
        print(f"ratio podium/official: peak {out['podium']['peak_qps'] / out['official']['peak_qps']:.3f}, "
              f"search time {out['podium']['wall_s'] / out['official']['wall_s']:.3f}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=2) + "\n")
    sut.pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
