"""The official LoadGen's FindPeakPerformance mode on the sleeping SUT; run inside ``.venv-official``.

Usage (by ``find_peak.py``): ``.venv-official/bin/python _official_findpeak.py '<json spec>'``; prints one JSON
line: the QPS the official search settled on, its wall time and how many full-length runs it made.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _official_peer import V21_SEEDS, SleepPool, find_detail_log  # noqa: E402

import mlperf_loadgen as lg  # noqa: E402


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.makedirs(spec["outdir"], exist_ok=True)
    os.chdir(spec["outdir"])  # the official reads audit.config from the working directory
    pool = SleepPool(lambda sid: lg.QuerySamplesComplete([lg.QuerySampleResponse(sid, 0, 0)]),
                     spec["workers"], spec["service_s"])

    def issue(samples):
        for s in samples:
            pool.put(s.id)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(1024, 1024, lambda _i: None, lambda _i: None)
    s = lg.TestSettings()
    s.scenario = lg.TestScenario.Server
    s.mode = lg.TestMode.FindPeakPerformance
    s.server_target_qps = spec["lower_qps"]
    s.server_target_latency_ns = spec["bound_ns"]
    s.min_duration_ms = spec["duration_ms"]
    s.min_query_count = 1
    s.server_find_peak_qps_decimals_of_precision = spec["decimals"]
    for k, v in V21_SEEDS.items():
        setattr(s, k, v)
    log = lg.LogSettings()
    log.log_output.outdir = spec["outdir"]
    log.enable_trace = False
    t0 = time.perf_counter()
    lg.StartTestWithLogSettings(sut, qsl, s, log)
    wall = time.perf_counter() - t0
    pool.close()
    found, runs = None, 0
    with open(find_detail_log(spec["outdir"])) as fh:
        for line in fh:
            rec = json.loads(line[len(":::MLLOG "):])
            if rec["key"] == "generated_query_count":
                runs += 1
            if rec["key"] == "generic_message" and "Found peak performance field" in str(rec["value"]):
                found = float(str(rec["value"]).rsplit(" ", 1)[1])
    print(json.dumps({"engine": "official", "peak_qps": found, "wall_s": wall, "runs": runs}))


if __name__ == "__main__":
    main()
