"""The run record (``podium/podium_result.json``): one file per test, written once, by ``start_test``.

The engine builds the record from the ``TestResult`` after every official log is closed; contributors
(``RecordContributor``: the network client's counters, a power meter, an accuracy scorer...) add their parts
to it before it is written, so no one reopens or rewrites the file, and the official logs are never touched
after the engine closed them. Readers (the results store, the report, the submission tools) read it through
``RunRecord``.

Contract of a contributor, in the way the official LoadGen headers state theirs:

* ``test_starting(outdir, settings)`` is called by ``start_test`` on the thread that called ``start_test``,
  before any log file is opened. It may block (a meter starting up). An exception it raises ends
  ``start_test`` before anything is written: nothing has been measured yet.
* ``test_ended(result)`` is called on the same thread after the official logs are closed (a failed, timed
  out or interrupted test included) and before ``podium_result.json`` is written. It may block (a meter
  stopping) and may read the closed logs and write its own files; it returns a ``RecordPart`` or None. An
  exception it raises is kept in the record's ``notes`` and costs nothing else: the record is still written.
  ``result`` and its ``log_paths`` stay valid after the call; the contributor must not keep the part it
  returned (the engine owns it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

import podium
from podium.errors import PodiumError
from podium.loadgen import logs
from podium.loadgen.results import PerformanceResult
from podium.loadgen.rules import RoundRules, current_round
from podium.loadgen.settings import Scenario

if TYPE_CHECKING:  # the contributor signatures only; the engine imports this module
    from podium.loadgen.run import TestResult
    from podium.loadgen.settings import TestSettings

#: the record's layout version: 2 = written once, with contributors' parts (1 = podium 0.1, rewritten by many)
RECORD_VERSION = 2


@dataclass
class RecordPart:
    """What one contributor adds to a test's record.

    ``values`` go in at the top level (a contributor owns its keys, e.g. ``"network"``, ``"power"``); ``labels``
    are added to the record's labels (each once); ``invalid_reasons`` to ``performance.invalid_reasons``;
    ``notes`` to the record's notes.
    """

    values: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    invalid_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class RecordContributor(Protocol):
    """Adds a part to each test's record (see the module docstring for who calls, when, and what may block)."""

    def test_starting(self, outdir: Path, settings: "TestSettings") -> None: ...

    def test_ended(self, result: "TestResult") -> RecordPart | None: ...


def merge_part(record: dict[str, Any], part: RecordPart) -> None:
    """Add ``part`` to ``record`` in place."""
    record.update(part.values)
    labels = record.setdefault("labels", [])
    for label in part.labels:
        if label not in labels:
            labels.append(label)
    perf = record.get("performance")
    if part.invalid_reasons and isinstance(perf, dict):
        reasons = perf.setdefault("invalid_reasons", [])
        reasons.extend(r for r in part.invalid_reasons if r not in reasons)
    if part.notes:
        record.setdefault("notes", []).extend(part.notes)


def contribute_all(record: dict[str, Any], contributors: Sequence[RecordContributor],
                   result: "TestResult") -> None:
    """Ask each contributor for its part and merge it; a contributor that raises leaves a note, nothing else."""
    for c in contributors:
        try:
            part = c.test_ended(result)
        except Exception as exc:  # noqa: BLE001 - a failing contributor must not cost the record
            record.setdefault("notes", []).append(
                f"record: {type(c).__name__} failed to add its part ({type(exc).__name__}: {exc})")
            continue
        if part is not None:
            merge_part(record, part)


class RunRecord:
    """One test's record as read back: the parsed ``podium_result.json`` with typed access to its parts."""

    def __init__(self, data: Mapping[str, Any], path: Path | None = None) -> None:
        self.data: dict[str, Any] = dict(data)
        self.path = path

    @classmethod
    def read(cls, path: Path | str) -> "RunRecord":
        """Parse the record at ``path``; a missing or malformed file is a one-line ``PodiumError``."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PodiumError(f"{p}: run record not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PodiumError(f"{p}: cannot read the run record ({exc})") from None
        except json.JSONDecodeError as exc:
            raise PodiumError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise PodiumError(f"{p}: expected a JSON object (a podium run record)")
        return cls(data, p)

    @property
    def version(self) -> int:
        """The layout version (1 for records podium 0.1 wrote, which carry none)."""
        v = self.data.get("record_version", 1)
        return int(v) if isinstance(v, int) else 1

    def _text(self, key: str) -> str | None:
        v = self.data.get(key)
        return str(v) if v is not None else None

    @property
    def run_id(self) -> str | None:
        return self._text("run_id")

    @property
    def mode(self) -> str | None:
        return self._text("mode")

    @property
    def scenario(self) -> str | None:
        return self._text("scenario")

    @property
    def valid(self) -> bool | None:
        v = self.data.get("valid")
        return bool(v) if v is not None else None

    @property
    def labels(self) -> list[str]:
        return [str(x) for x in self.data.get("labels") or []]

    def section(self, name: str) -> dict[str, Any]:
        """A part of the record (``performance``, ``accuracy``, ``power``, ``network``...), {} when absent."""
        v = self.data.get(name)
        return dict(v) if isinstance(v, dict) else {}


# -- building the record from a TestResult (start_test's last step) ------------------------------------
def result_dict(result: "TestResult", rules: RoundRules | None = None) -> dict[str, Any]:
    """The machine-readable result (same figures as the logs, plus podium-only ones) of a test of round
    ``rules`` (default: the performance result's round, else the current one)."""
    perf = result.performance
    rules = rules or (perf.rules if perf is not None else current_round())
    eff = result.settings
    d: dict[str, Any] = {
        "podium_version": podium.__version__,
        "round": rules.name,
        "mode": result.mode.value,
        "labels": result.labels,
        "scenario": eff.scenario.value if eff else None,
        "valid": result.valid,
        "timed_out": result.timed_out,
        "interrupted": result.interrupted,
        "failure": result.failure,
        "errors": [{"key": k, "message": m} for k, m in result.errors],
        "warnings": result.warnings,
        "accuracy_log_entries": result.accuracy_log_entries,
        "series": [s.__dict__ for s in result.series],
        "log_files": {k: str(v) for k, v in result.log_paths.items()},
    }
    if eff is not None:
        d["effective_settings"] = {k: (v.value if hasattr(v, "value") else v)
                                   for k, v in eff.__dict__.items() if k not in ("requested", "errors")}
        req = eff.requested
        d["requested_settings"] = {k: (v.value if hasattr(v, "value") else v) for k, v in req.__dict__.items()}
    if perf is not None:
        d["performance"] = {
            "valid": perf.valid,
            "invalid_reasons": perf.invalid_reasons,
            "metric": headline(perf, rules),
            "sample_count": perf.sample_count,
            "query_count": perf.query_count,
            "duration_s": perf.final_query_issued_time_s,
            "max_latency_s": perf.max_latency_s,
            "results": {k: _jsonable(v) for k, v in perf.metrics.items()},
            "issue_lateness": perf.lateness,
            "incomplete_samples": perf.incomplete_samples,
            "power_window": {"begin": logs.power_time_string(perf.power_begin_wall_ns),
                             "end": logs.power_time_string(perf.power_end_wall_ns)},
        }
    return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def headline(perf: PerformanceResult, rules: RoundRules | None = None) -> dict[str, Any]:
    """The scenario's reported metric as the round defines it (default: the result's own round): Server
    completed samples/s from LoadGen 6.0.x on (scheduled in v2.1); tokens/s for token-latency Offline and
    Server runs, as the checker reports LLMs."""
    rules = rules or perf.rules
    s = perf.scenario
    if perf.tokens is not None and s is Scenario.Offline:
        return {"name": "Tokens per second", "value": _jsonable(perf.tokens_per_second), "unit": "tokens/s"}
    if perf.tokens is not None and s is Scenario.Server:
        return {"name": "Completed tokens per second", "value": _jsonable(perf.completed_tokens_per_second),
                "unit": "tokens/s"}
    pct = "%g" % (perf.settings.target_latency_percentile * 100)
    if s is Scenario.SingleStream:
        return {"name": f"{pct}th percentile latency (ns)", "value": perf.target_sample_latency, "unit": "ns"}
    if s is Scenario.MultiStream:
        return {"name": f"{pct}th percentile latency (ns)", "value": perf.target_query_latency, "unit": "ns"}
    if s is Scenario.Server:
        if rules.server_headline == "scheduled":
            return {"name": "Scheduled samples per second", "value": _jsonable(perf.scheduled_samples_per_second),
                    "unit": "samples/s"}
        return {"name": "Completed samples per second", "value": _jsonable(perf.completed_samples_per_second),
                "unit": "samples/s"}
    return {"name": "Samples per second", "value": _jsonable(perf.samples_per_second), "unit": "samples/s"}


def build_record(result: "TestResult", rules: RoundRules | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run record of ``result`` before contributors add their parts: ``result_dict`` plus ``extra``."""
    d = result_dict(result, rules)
    if extra:
        # lists copied: contributors extend the record's, never the caller's
        d.update({k: list(v) if isinstance(v, list) else v for k, v in extra.items()})
        d["labels"] = list(dict.fromkeys([*result.labels, *(extra.get("labels") or [])]))
    d["record_version"] = RECORD_VERSION
    return d
