"""The local results store: every finished ``podium run`` as one row of an SQLite table.

Default location ``~/.local/share/podium/results.sqlite``; the environment variable ``PODIUM_RESULTS_DB``
overrides it. ``record_run(run_dir)`` adds a run (the same run recorded twice keeps one row: rows are keyed
by a fingerprint of the run's result files); ``ResultsStore.query`` filters and sorts; ``write_csv`` /
``write_json`` export. The stdlib ``sqlite3`` is enough here: one small table, no server, safe across
processes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from podium.errors import PodiumError
from podium.report.runs import RESULT_FILE, FinishedRun, read_run

ENV_VAR = "PODIUM_RESULTS_DB"
DEFAULT_PATH = Path("~/.local/share/podium/results.sqlite")
SCHEMA_VERSION = 3  # 2: the round column; 3: the sweep_points table


class ResultsStoreError(PodiumError):
    """The results store cannot be opened or a query asks for something it does not hold."""


@dataclass(frozen=True)
class Column:
    """One column of the runs table: name, SQL type, and what it holds (shown by ``podium results --help``)."""

    name: str
    sql: str
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("id", "INTEGER PRIMARY KEY AUTOINCREMENT", "row id"),
    Column("recorded_at", "TEXT", "when the run was recorded (UTC, ISO 8601)"),
    Column("finished_at", "TEXT", "when the run wrote its result (UTC, ISO 8601)"),
    Column("run_dir", "TEXT", "the run's output folder"),
    Column("fingerprint", "TEXT UNIQUE", "sha256 of the run's result files"),
    Column("benchmark", "TEXT", "benchmark name"),
    Column("scenario", "TEXT", "LoadGen scenario"),
    Column("round", "TEXT", "MLPerf round the run followed (v2.1, v6.0, v6.1)"),
    Column("backend", "TEXT", "inference backend"),
    Column("modes", "TEXT", "modes run (performance, accuracy, submission)"),
    Column("metric_name", "TEXT", "headline metric"),
    Column("metric_value", "REAL", "headline metric value"),
    Column("metric_unit", "TEXT", "headline metric unit"),
    Column("valid", "INTEGER", "1 VALID, 0 INVALID, empty without a performance run"),
    Column("accuracy_metric", "TEXT", "accuracy metric"),
    Column("accuracy_value", "REAL", "accuracy value"),
    Column("accuracy_target", "REAL", "accuracy target"),
    Column("accuracy_passed", "INTEGER", "1 when accuracy reached the target"),
    Column("power_watts", "REAL", "average power (W), when measured"),
    Column("energy_joules", "REAL", "energy (J), when measured"),
    Column("lateness_kind", "TEXT", "what issue lateness measures in this scenario"),
    Column("lateness_p50_ns", "INTEGER", "issue lateness, median (ns)"),
    Column("lateness_p99_ns", "INTEGER", "issue lateness, 99th percentile (ns)"),
    Column("lateness_max_ns", "INTEGER", "issue lateness, maximum (ns)"),
    Column("latency_p50_ns", "INTEGER", "sample latency, median (ns)"),
    Column("latency_p99_ns", "INTEGER", "sample latency, 99th percentile (ns)"),
    Column("sample_count", "INTEGER", "samples completed in the performance run"),
    Column("query_count", "INTEGER", "queries issued in the performance run"),
    Column("min_duration_ms", "INTEGER", "min_duration setting (ms)"),
    Column("short_run", "INTEGER", "1 when shorter than the 600 s MLPerf requires"),
    Column("random_weights", "INTEGER", "1 when the model has random weights"),
    Column("labels", "TEXT", "labels (JSON list)"),
    Column("host", "TEXT", "host name"),
    Column("cpu_model", "TEXT", "CPU model"),
    Column("podium_version", "TEXT", "podium version"),
    Column("settings", "TEXT", "effective settings (JSON)"),
    Column("system", "TEXT", "system information (JSON)"),
    Column("result", "TEXT", "performance result (JSON)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

#: one load point of an LLM sweep (``podium sweep``) per row
SWEEP_COLUMNS: tuple[Column, ...] = (
    Column("id", "INTEGER PRIMARY KEY AUTOINCREMENT", "row id"),
    Column("recorded_at", "TEXT", "when the point was recorded (UTC, ISO 8601)"),
    Column("sweep", "TEXT", "the sweep's name (its folder)"),
    Column("sweep_dir", "TEXT", "the sweep's output folder"),
    Column("mode", "TEXT", "concurrency (fixed, closed loop) or rate (LoadGen Server, Poisson)"),
    Column("value", "REAL", "the concurrency or the rate (requests/s)"),
    Column("model", "TEXT", "the served model"),
    Column("endpoints", "TEXT", "the endpoints (JSON list)"),
    Column("requests", "INTEGER", "requests issued"),
    Column("failed", "INTEGER", "requests that failed"),
    Column("duration_s", "REAL", "the point's duration (s)"),
    Column("system_tps", "REAL", "output tokens per second, all users"),
    Column("tps_per_user", "REAL", "1000 / TPOT p90 (ms)"),
    Column("ttft_p50_ms", "REAL", "TTFT median (ms)"),
    Column("ttft_p90_ms", "REAL", "TTFT 90th percentile (ms)"),
    Column("ttft_p99_ms", "REAL", "TTFT 99th percentile (ms)"),
    Column("tpot_p50_ms", "REAL", "TPOT median (ms)"),
    Column("tpot_p90_ms", "REAL", "TPOT 90th percentile (ms)"),
    Column("tpot_p99_ms", "REAL", "TPOT 99th percentile (ms)"),
    Column("goodput", "REAL", "share of requests meeting every SLO"),
    Column("slo", "TEXT", "the SLOs (JSON)"),
    Column("pareto", "INTEGER", "1 when on the sweep's Pareto front"),
    Column("valid", "INTEGER", "rate points: the LoadGen verdict (1 VALID)"),
    Column("client_limited", "TEXT", "why the client limited the point, if it did"),
    Column("run_dir", "TEXT", "rate points: the podium run folder"),
    Column("labels", "TEXT", "labels (JSON list)"),
)
SWEEP_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in SWEEP_COLUMNS)
_JSON_COLUMNS = frozenset({"labels", "settings", "system", "result"})


def default_path() -> Path:
    """``$PODIUM_RESULTS_DB`` when set, else ``~/.local/share/podium/results.sqlite``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_PATH.expanduser()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fingerprint(run: FinishedRun) -> str:
    """sha256 of the run's result files: what identifies a recorded run."""
    h = hashlib.sha256()
    for kind in sorted(run.parts):
        h.update(kind.encode())
        h.update(run.parts[kind].result_file.read_bytes())
    return h.hexdigest()


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _bool(v: Any) -> int | None:
    return None if v is None else int(bool(v))


def row_from_run(run: FinishedRun) -> dict[str, Any]:
    """The store row of a run (every column but ``id`` and ``recorded_at``)."""
    perf, metric, acc, late, power = run.perf, run.metric, run.accuracy_result, run.lateness, run.power
    results: dict[str, Any] = perf["results"] if isinstance(perf.get("results"), dict) else {}
    return {
        "finished_at": _iso(run.finished_at),
        "run_dir": str(run.path),
        "fingerprint": fingerprint(run),
        "benchmark": run.benchmark,
        "scenario": run.scenario,
        "round": run.round,
        "backend": run.backend,
        "modes": ",".join(run.modes),
        "metric_name": metric.get("name"),
        "metric_value": _num(metric.get("value")),
        "metric_unit": metric.get("unit"),
        "valid": _bool(run.valid),
        "accuracy_metric": acc.get("metric"),
        "accuracy_value": _num(acc.get("value")),
        "accuracy_target": _num(acc.get("target")),
        "accuracy_passed": _bool(acc.get("passed")),
        "power_watts": _num(power.get("average_watts", power.get("avg_watts"))),
        "energy_joules": _num(power.get("energy_j", power.get("energy_joules"))),
        "lateness_kind": late.get("kind"),
        "lateness_p50_ns": _int(late.get("p50_ns")),
        "lateness_p99_ns": _int(late.get("p99_ns")),
        "lateness_max_ns": _int(late.get("max_ns")),
        "latency_p50_ns": _int(results.get("result_50.00_percentile_latency_ns")),
        "latency_p99_ns": _int(results.get("result_99.00_percentile_latency_ns")),
        "sample_count": _int(perf.get("sample_count")),
        "query_count": _int(perf.get("query_count")),
        "min_duration_ms": _int(run.effective_settings.get("min_duration_ms")),
        "short_run": int(run.short_run),
        "random_weights": int(run.random_weights),
        "labels": json.dumps(run.labels()),
        "host": run.system.get("hostname"),
        "cpu_model": run.system.get("cpu_model"),
        "podium_version": run.podium_version,
        "settings": json.dumps(run.effective_settings, default=str),
        "system": json.dumps(run.system, default=str),
        "result": json.dumps(perf, default=str),
    }


class ResultsStore:
    """The SQLite results store at ``path`` (created on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A generous timeout: two runs finishing together must both be recorded.
            self._db = sqlite3.connect(str(self.path), timeout=30.0)
        except (OSError, sqlite3.Error) as exc:
            raise ResultsStoreError(f"{self.path}: cannot open the results store ({exc})") from None
        self._db.row_factory = sqlite3.Row
        self._init()

    def _init(self) -> None:
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ResultsStoreError(f"{self.path}: written by a newer podium (schema {version}, this podium "
                                        f"reads {SCHEMA_VERSION}); set {ENV_VAR} to use another file")
            cols = ", ".join(f'"{c.name}" {c.sql}' for c in COLUMNS)
            with self._db:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
                have = {r[1] for r in self._db.execute("PRAGMA table_info(runs)")}
                if "round" not in have:  # a schema-1 store: its runs were all round v2.1
                    self._db.execute("ALTER TABLE runs ADD COLUMN round TEXT DEFAULT 'v2.1'")
                sweep_cols = ", ".join(f'"{c.name}" {c.sql}' for c in SWEEP_COLUMNS)
                self._db.execute(f"CREATE TABLE IF NOT EXISTS sweep_points ({sweep_cols})")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise ResultsStoreError(f"{self.path}: not a podium results store ({exc})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing ----------------------------------------------------------------------------------------
    def add(self, run: FinishedRun) -> int:
        """Record ``run``; returns its row id (the existing row's when the same run was recorded before)."""
        row = row_from_run(run)
        existing = self._db.execute("SELECT id FROM runs WHERE fingerprint = ?", (row["fingerprint"],)).fetchone()
        if existing is not None:
            return int(existing[0])
        row["recorded_at"] = _iso(time.time())
        names = list(row)
        with self._db:
            cur = self._db.execute(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [row[n] for n in names])
        return int(cur.lastrowid or 0)

    def add_sweep_point(self, point: dict[str, Any]) -> int:
        """Record one sweep point (keys of ``SWEEP_COLUMNS``; lists and dicts stored as JSON); its row id."""
        row = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in point.items()
               if k in SWEEP_COLUMN_NAMES and k != "id"}
        row["recorded_at"] = _iso(time.time())
        names = list(row)
        with self._db:
            cur = self._db.execute(
                f"INSERT INTO sweep_points ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [row[n] for n in names])
        return int(cur.lastrowid or 0)

    def sweep_points(self, sweep: str | None = None) -> list[dict[str, Any]]:
        """The recorded sweep points (of one sweep when named), in the order they were recorded."""
        sql, args = "SELECT * FROM sweep_points", []
        if sweep is not None:
            sql, args = sql + " WHERE sweep = ?", [sweep]
        rows = [dict(r) for r in self._db.execute(sql + " ORDER BY id", args).fetchall()]
        for r in rows:
            for col in ("endpoints", "slo", "labels"):
                if isinstance(r.get(col), str):
                    try:
                        r[col] = json.loads(r[col])
                    except json.JSONDecodeError:
                        pass
        return rows

    def delete(self, ids: Iterable[int]) -> int:
        """Remove rows by id; returns how many were removed."""
        ids = list(ids)
        with self._db:
            cur = self._db.execute(f"DELETE FROM runs WHERE id IN ({', '.join('?' for _ in ids)})", ids)
        return cur.rowcount

    # ---- reading ----------------------------------------------------------------------------------------
    def get(self, run_id: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _decode(row) if row is not None else None

    def query(self, *, benchmark: str | None = None, scenario: str | None = None, backend: str | None = None,
              valid: bool | None = None, since: str | None = None, until: str | None = None,
              full_length: bool | None = None, ids: Sequence[int] | None = None, sort: str = "id",
              descending: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        """Rows matching every filter given, sorted by ``sort``.

        ``since``/``until`` compare with ``finished_at`` (ISO dates or times, e.g. ``2026-01-31``);
        ``full_length`` True keeps only runs of at least 600 s, False only short ones.
        """
        where: list[str] = []
        args: list[Any] = []
        for col, val in (("benchmark", benchmark), ("scenario", scenario), ("backend", backend)):
            if val is not None:
                where.append(f"lower({col}) = lower(?)")
                args.append(val)
        if valid is not None:
            where.append("valid = ?")
            args.append(int(valid))
        if full_length is not None:
            where.append("short_run = ?")
            args.append(0 if full_length else 1)
        if since is not None:
            where.append("finished_at >= ?")
            args.append(since)
        if until is not None:
            where.append("finished_at <= ?")
            args.append(until if "T" in until else until + "T23:59:59Z")
        if ids:
            where.append(f"id IN ({', '.join('?' for _ in ids)})")
            args.extend(int(i) for i in ids)
        if sort not in COLUMN_NAMES:
            raise ResultsStoreError(f"--sort {sort}: expected one of {', '.join(COLUMN_NAMES)}")
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # NULLs last either way: a run without the figure is not "best" nor "worst"
        sql += f' ORDER BY "{sort}" IS NULL, "{sort}" {"DESC" if descending else "ASC"}, id'
        if limit is not None:
            if limit < 1:
                raise ResultsStoreError(f"--limit {limit}: expected a positive number of rows")
            sql += f" LIMIT {int(limit)}"
        return [_decode(r) for r in self._db.execute(sql, args).fetchall()]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM runs").fetchone()[0])


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    for col in _JSON_COLUMNS:
        if isinstance(d.get(col), str):
            try:
                d[col] = json.loads(d[col])
            except json.JSONDecodeError:
                pass
    return d


def record_run(run_dir: str | os.PathLike[str], store_path: str | os.PathLike[str] | None = None) -> int:
    """Record a finished run folder in the results store and return its row id."""
    run = read_run(run_dir)
    with ResultsStore(store_path) as store:
        return store.add(run)


# ---- export --------------------------------------------------------------------------------------------------
def write_csv(rows: Sequence[dict[str, Any]], out: IO[str], columns: Sequence[str] | None = None) -> None:
    """Rows as CSV (JSON columns written as JSON text)."""
    cols = list(columns or COLUMN_NAMES)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([json.dumps(r.get(c)) if c in _JSON_COLUMNS else ("" if r.get(c) is None else r.get(c))
                    for c in cols])


def write_json(rows: Sequence[dict[str, Any]], out: IO[str], columns: Sequence[str] | None = None) -> None:
    """Rows as a JSON list of objects."""
    cols = list(columns or COLUMN_NAMES)
    json.dump([{c: r.get(c) for c in cols} for r in rows], out, indent=2, default=str)
    out.write("\n")
