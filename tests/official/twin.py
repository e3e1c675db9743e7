"""Podium's twin of ``peer_loadgen.py``: the same SUT, QSL and settings on ``podium.loadgen.start_test``, and
the comparison of the two runs' logs (everything but timings).
"""

from __future__ import annotations

import array
import json
import re
from pathlib import Path
from typing import Any

from podium.loadgen import BaseSUT, LogSettings, RunOptions, SimpleQSL, TestSettings, first_token_complete, start_test
from podium.loadgen.logs import read_detail_log
from podium.loadgen.settings import Scenario, TestMode

#: official Python attribute names that differ from podium's TestSettings fields
_RENAMED = {"ttft_latency": "server_ttft_latency", "tpot_latency": "server_tpot_latency"}


def podium_settings(spec: dict) -> TestSettings:
    fields: dict[str, Any] = {_RENAMED.get(k, k): v for k, v in spec.get("settings", {}).items()}
    return TestSettings(scenario=Scenario(spec["scenario"]), mode=TestMode(spec["mode"]), **fields)


class TwinSUT(BaseSUT):
    """Answers every sample inside ``issue_queries``, with the peer's payloads and token counts."""

    name = "PySUT"

    def __init__(self, sut_spec: dict) -> None:
        super().__init__()
        self.tokens = bool(sut_spec.get("tokens"))
        self.first = bool(sut_spec.get("first_token", self.tokens))
        self.n_tokens_of = sut_spec.get("n_tokens", {})
        self.issued: list[list[int]] = []

    def n_tokens(self, index: int) -> int:
        spec = self.n_tokens_of
        key = str(index % int(spec.get("modulo", 1)))
        return int(spec.get("values", {}).get(key, spec.get("default", 0)))

    def issue_queries(self, samples: list) -> None:
        self.issued.append([s.index for s in samples])
        if self.first:
            first_token_complete([(s.id, array.array("i", [s.index + 7]).tobytes()) for s in samples])
        self.complete([(s.id, array.array("i", [s.index, s.index * 3 + 1]).tobytes(),
                        self.n_tokens(s.index) if self.tokens else 0) for s in samples])


def run_podium(spec: dict, outdir: Path, round: str = "v6.1") -> Path:
    """Run the spec's test on podium; logs and ``issued.json`` land in ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    loaded: list[list[int]] = []
    sut = TwinSUT(spec.get("sut", {}))
    qsl = SimpleQSL(int(spec["total"]), int(spec["performance"]), load=lambda ix: loaded.append(list(ix)),
                    name="PyQSL")
    start_test(sut, qsl, podium_settings(spec), LogSettings(outdir=str(outdir)),
               RunOptions(write_samples=False), audit_config=None, round=round)
    (outdir / "issued.json").write_text(json.dumps({"queries": sut.issued, "loaded": loaded}))
    return outdir


# ----------------------------------------------------------------------------------------- comparison
#: keys whose values are timings, build facts or otherwise differ by design (the key itself must still match)
_VALUE_FREE = {
    "loadgen_version", "loadgen_build_date_local", "loadgen_build_date_utc", "loadgen_git_commit_date",
    "loadgen_git_log_message", "loadgen_git_status_message", "loadgen_file_sha1", "test_datetime",
    "get_sut_name_duration_ns", "power_begin", "power_end",
}
#: keys compared by value in every scenario (they do not depend on timing)
_EXACT_PREFIXES = ("requested_", "effective_", "generated_", "loaded_qsl_set", "generic_message",
                   "warning_generic_message", "error_invalid")
_EXACT_KEYS = {"sut_name", "qsl_name", "qsl_reported_total_count", "qsl_reported_performance_count",
               "result_query_count", "num_errors"}


#: warnings of the official logger's own machinery (its lock-free per-thread buffers), not of the test:
#: they come and go with thread timing and podium's logger has no such buffers
_LOGGER_ARTEFACTS = ("CAS failed.", "Logging allocation detected:")


def _artefact(r: dict) -> bool:
    return r["key"] == "warning_generic_message" and str(r["value"]).startswith(_LOGGER_ARTEFACTS)


def detail_records(folder: Path) -> list[dict]:
    return [r for r in read_detail_log(folder / "mlperf_log_detail.txt") if not _artefact(r)]


def logger_artefacts(folder: Path) -> int:
    return sum(1 for r in read_detail_log(folder / "mlperf_log_detail.txt") if _artefact(r))


def compare_detail(official: Path, podium: Path, extra_exact: set[str] = frozenset()) -> None:
    """Same keys in the same order (runtime errors aside, which may interleave), same values where timing
    cannot change them, and the same runtime errors as a multiset."""
    off, pod = detail_records(official), detail_records(podium)

    def keys(recs: list[dict]) -> list[str]:
        return [r["key"] for r in recs if r["key"] != "error_runtime"]

    assert keys(pod) == keys(off), _first_diff(keys(off), keys(pod))
    off_by = [r for r in off if r["key"] != "error_runtime"]
    pod_by = [r for r in pod if r["key"] != "error_runtime"]
    for o, p in zip(off_by, pod_by):
        k = o["key"]
        if k in _VALUE_FREE:
            continue
        if k.startswith(_EXACT_PREFIXES) or k in _EXACT_KEYS or k in extra_exact:
            assert p["value"] == o["value"], f"{k}: official {o['value']!r}, podium {p['value']!r}"
        else:
            assert type(p["value"]) is type(o["value"]) or {type(p["value"]), type(o["value"])} <= {int, float}, \
                f"{k}: official {o['value']!r} ({type(o['value']).__name__}), podium {p['value']!r}"
        assert p["metadata"]["is_error"] == o["metadata"]["is_error"], k
        assert p["metadata"]["is_warning"] == o["metadata"]["is_warning"], k
    errs = lambda recs: sorted(r["value"] for r in recs if r["key"] == "error_runtime")  # noqa: E731
    assert errs(pod) == errs(off)


def _first_diff(a: list[str], b: list[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at {i}: official {x!r} vs podium {y!r}; official around: {a[max(0, i-2):i+3]}"
    return f"lengths differ: official {len(a)} keys, podium {len(b)} keys; tail official {a[len(b):][:5]} " \
           f"podium {b[len(a):][:5]}"


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?")


def compare_summary(official: Path, podium: Path, exact_labels: tuple[str, ...] = ()) -> None:
    """Line for line the same once numbers are masked; the Test Parameters block and ``exact_labels`` lines
    (prefixes) exactly."""
    o = (official / "mlperf_log_summary.txt").read_text().splitlines()
    p = (podium / "mlperf_log_summary.txt").read_text().splitlines()
    artefacts = logger_artefacts(official)
    if artefacts:  # the trailer counts the official logger's own warnings too
        warned = [i for i, line in enumerate(o) if "warning" in line and "encountered" in line]
        assert warned, "official summary has no warnings line"
        total = int(_NUMBER.search(o[warned[-1]]).group(0)) if _NUMBER.search(o[warned[-1]]) else 0
        left = total - artefacts
        o[warned[-1]] = ("No warnings encountered during test." if left == 0 else
                         "1 warning encountered. See detailed log." if left == 1 else
                         f"{left} warnings encountered. See detailed log.")
    mask = lambda lines: [_NUMBER.sub("#", line) for line in lines]  # noqa: E731
    assert mask(p) == mask(o), "\n".join(_line_diff(mask(o), mask(p)))
    start = o.index("Test Parameters Used")
    assert p[start:] == o[start:]
    for a, b in zip(o, p):
        if a.startswith(exact_labels):
            assert b == a


def _line_diff(a: list[str], b: list[str]) -> list[str]:
    import difflib

    return list(difflib.unified_diff(a, b, "official", "podium", lineterm="", n=1))[:40]


def compare_issued(official: Path, podium: Path) -> dict:
    o = json.loads((official / "issued.json").read_text())
    p = json.loads((podium / "issued.json").read_text())
    assert p["loaded"] == o["loaded"], "loaded sets differ"
    assert len(p["queries"]) == len(o["queries"]), (len(o["queries"]), len(p["queries"]))
    assert p["queries"] == o["queries"], "issued sample indices differ"
    return o


def compare_accuracy_log(official: Path, podium: Path) -> list:
    o = json.loads((official / "mlperf_log_accuracy.json").read_text())
    p = json.loads((podium / "mlperf_log_accuracy.json").read_text())
    assert p == o
    # byte layout too, once the values agree
    assert (podium / "mlperf_log_accuracy.json").read_text() == (official / "mlperf_log_accuracy.json").read_text()
    return o
