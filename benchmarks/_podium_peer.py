"""One measurement on podium's LoadGen engine, the twin of ``_official_peer.py``.

Usage (done by ``loadgen_overhead.py``)::

    python _podium_peer.py '<json spec>'

Same spec, same SUT behaviour, same output line as the official peer. Results are read from podium's own
``mlperf_log_detail.txt`` exactly as for the official LoadGen (same keys); ``result.performance`` is used only
for podium-only figures (issue lateness, final query issued time) and as a fallback when the log lacks a key.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _official_peer import (  # noqa: E402  (engine-neutral helpers shared by both peers)
    QSL_PERF,
    QSL_TOTAL,
    V21_SEEDS,
    SleepPool,
    find_detail_log,
    parse_detail_log,
    run_peer,
)


def _podium_run(spec: dict[str, Any]) -> dict[str, Any]:
    from podium.loadgen import (
        BaseSUT,
        LogSettings,
        RunOptions,
        Scenario,
        SimpleQSL,
        TestMode,
        TestSettings,
        first_token_complete,
        start_test,
    )

    sut_kind = spec.get("sut", "null")
    fast = bool(spec.get("fast", False))
    pool: SleepPool | None = None

    if sut_kind == "null":
        class NullSUT(BaseSUT):
            name = "NullSUT"

            def issue_queries(self, samples):  # type: ignore[no-untyped-def]
                self.complete([(s.id, None) for s in samples])

        class FastNullSUT(NullSUT):
            name = "FastNullSUT"

            def issue_arrays(self, ids, indices):  # type: ignore[no-untyped-def]
                self.complete_ids(ids)

        sut = FastNullSUT() if fast else NullSUT()
    elif sut_kind == "null_per_sample":
        class PerSampleNullSUT(BaseSUT):
            name = "PerSampleNullSUT"

            def issue_queries(self, samples):  # type: ignore[no-untyped-def]
                complete = self.complete
                for s in samples:
                    complete([(s.id, None)])

        class FastPerSampleNullSUT(PerSampleNullSUT):
            name = "FastPerSampleNullSUT"

            def issue_arrays(self, ids, indices):  # type: ignore[no-untyped-def]
                complete = self.complete
                for i in ids.tolist():
                    complete([(i, None)])

        sut = FastPerSampleNullSUT() if fast else PerSampleNullSUT()
    elif sut_kind == "null_tokens":
        n_tokens = int(spec.get("n_tokens", 128))

        class TokenNullSUT(BaseSUT):
            """A null LLM: each sample's first token at once, then its completion with n_tokens."""

            name = "TokenNullSUT"

            def issue_queries(self, samples):  # type: ignore[no-untyped-def]
                first_token_complete([(s.id, None) for s in samples])
                self.complete([(s.id, None, n_tokens) for s in samples])

        sut = TokenNullSUT()
    elif sut_kind == "sleep":
        class SleepSUT(BaseSUT):
            name = "SleepSUT"

            def issue_queries(self, samples):  # type: ignore[no-untyped-def]
                put = pool.put  # type: ignore[union-attr]
                for s in samples:
                    put(s.id)

        sut = SleepSUT()
        pool = SleepPool(lambda sid: sut.complete([(sid, None)]), int(spec.get("workers", 2)),
                         float(spec.get("sleep_s", 0.001)))
    else:
        raise ValueError(f"unknown sut {sut_kind!r}")

    values: dict[str, Any] = {**V21_SEEDS, **spec["settings"]}
    values["scenario"] = Scenario(values.get("scenario", "SingleStream"))
    values["mode"] = TestMode(values.get("mode", "PerformanceOnly"))
    settings = TestSettings(**values)

    outdir = os.path.abspath(spec.get("outdir") or "logs")
    os.makedirs(outdir, exist_ok=True)
    log = LogSettings(outdir=outdir, enable_trace=False)

    t0 = time.perf_counter()
    result = start_test(sut, SimpleQSL(QSL_TOTAL, QSL_PERF), settings, log_settings=log, options=RunOptions())
    wall = time.perf_counter() - t0
    if pool is not None:
        pool.close()

    perf = getattr(result, "performance", None)
    detail = find_detail_log(outdir)
    metrics: dict[str, Any] = {}
    errors: list[str] = []
    if detail is not None:
        metrics, errors = parse_detail_log(detail)
    extra: dict[str, Any] = {"python": sys.version.split()[0], "detail_log_found": detail is not None}
    if perf is not None:
        # Fallback for keys missing from the log (should not happen: same names as the detail log).
        for key, value in (getattr(perf, "metrics", None) or {}).items():
            metrics.setdefault(key, value)
        if "result_validity" not in metrics and getattr(perf, "valid", None) is not None:
            metrics["result_validity"] = "VALID" if perf.valid else "INVALID"
        extra["lateness"] = dict(getattr(perf, "lateness", None) or {})
        extra["duration_s"] = getattr(perf, "duration_s", None)
        extra["query_count"] = getattr(perf, "query_count", None)
        extra["valid"] = getattr(perf, "valid", None)
    if not metrics:
        raise RuntimeError(f"podium produced neither a detail log in {outdir} nor performance metrics")
    return {"metrics": metrics, "errors": errors, "wall_s": wall, "extra": extra}


if __name__ == "__main__":
    sys.exit(run_peer("podium", _podium_run, sys.argv))
