"""``start_test``: one LoadGen test from settings to log files (spec loadgen.md §0).

Order of work, as the official: open the logs, log version and SUT/QSL facts, merge ``audit.config``, derive
the effective settings, then run accuracy mode over every loadable set and/or performance mode over the
first one; each series loads its set, pre-generates its queries, issues them, flushes, waits for every
completion (bounded by podium's completion timeout), computes results and unloads the set.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, TypeVar

import podium
from podium.errors import PodiumError, RunInterrupted, SettingError
from podium.files import atomic_open, result_path, write_error, write_json_atomic, write_text_atomic
from podium.loadgen import logs
from podium.loadgen.clock import Clock, RealClock
from podium.loadgen.internal import EffectiveSettings, effective_settings
from podium.loadgen.issuer import IssueOutcome, Issuer
from podium.loadgen.find_peak_mode import find_peak_performance
from podium.loadgen.record import RecordContributor, build_record, contribute_all
from podium.loadgen.session import ACTIVE, ACTIVE_LOCK, Session, catch_sigint
from podium.loadgen.recorder import SeriesRecorder
from podium.loadgen.results import INTERRUPTED_REASON, PerformanceResult, compute
from podium.loadgen.rules import RoundRules, current_round, round_rules
from podium.loadgen.sampling import SequenceGen, accuracy_log_offset, accuracy_log_probability, log_mask
from podium.loadgen.schedule import LoadableSet, Schedule, generate_loadable_sets, generate_schedule
from podium.loadgen.samples_file import write_samples_file
from podium.loadgen.trace import TraceWriter
from podium.loadgen.settings import CURRENT_ONLY_FIELDS, LogSettings, RunOptions, Scenario, TestMode, TestSettings
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest

_T = TypeVar("_T")


@dataclass
class SeriesRecord:
    """What one series did (for podium_result.json and for callers such as find_peak)."""

    mode: str
    loaded_set_size: int
    generated_queries: int
    issued_queries: int
    issued_samples: int
    completed_samples: int


@dataclass
class TestResult:
    """The outcome of ``start_test``: effective settings, the performance result, the logs written."""

    __test__ = False  # not a pytest test class

    #: None only when the settings were rejected before the test could start (every log says why)
    settings: EffectiveSettings | None
    mode: TestMode
    performance: PerformanceResult | None
    accuracy_log_entries: int
    log_paths: dict[str, Path]
    result_json: Path | None
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: int = 0
    series: list[SeriesRecord] = field(default_factory=list)
    timed_out: bool = False
    labels: list[str] = field(default_factory=list)
    #: stopped by Ctrl-C (the engine then raises ``RunInterrupted`` carrying this result)
    interrupted: bool = False
    #: what failed when the SUT or QSL raised, e.g. "SUT issue_queries raised ValueError: bad" (else None)
    failure: str | None = None
    #: the exception behind ``failure`` (for callers that re-raise it, such as the drop-in ``StartTest``)
    failure_exc: BaseException | None = field(default=None, repr=False)
    #: each series' ``power_begin``/``power_end`` as logged in the detail log, in order (the first one is the
    #: power window the checker reads)
    power_windows: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return (self.performance is not None and self.performance.valid and not self.interrupted
                and not self.failure)


def _sut_failed_samples(sut: object) -> int:
    """The SUT's own count of samples it could not answer (completed empty), when it keeps one.

    A harness or network SUT completes a failed sample with empty data so the test never hangs; the engine
    reads this counter around each series so such a run is INVALID in every log, like a timed-out one.
    """
    return int(getattr(sut, "failed_samples", 0) or 0)


def _sut_failure_note(sut: object) -> str:
    """The SUT's one line on the samples it failed (podium's optional ``describe_failures``), or ""."""
    describe = getattr(sut, "describe_failures", None)
    if not callable(describe):
        return ""
    try:
        return " ".join(str(describe() or "").split())
    except Exception:  # noqa: BLE001 - a failing description must not cost the logs
        return ""


def _sut_name(sut: object) -> str:
    name = getattr(sut, "name", None)
    if callable(name):
        name = name()
    return str(name if name is not None else type(sut).__name__)


class _SeriesFailure(Exception):
    """The SUT or the QSL raised: ends the test (the message names the call and the exception)."""


class _Stopped(Exception):
    """Ends a find-peak search that was interrupted between probes."""


def _guarded(what: str, fn: Callable[..., _T], *args: Any) -> _T:
    try:
        return fn(*args)
    except (_SeriesFailure, KeyboardInterrupt, PodiumError):
        raise
    except Exception as exc:
        raise _SeriesFailure(f"{what} raised {type(exc).__name__}: {exc}") from exc


def _cancel_pending(sut: object) -> None:
    """Ask the SUT to drop queued work it has not started (podium's optional ``cancel_pending``)."""
    cancel = getattr(sut, "cancel_pending", None)
    if callable(cancel):
        try:
            cancel()
        except Exception:  # noqa: BLE001 - a failing cancel must not cost the logs
            pass


def start_test(
    sut: SystemUnderTest,
    qsl: QuerySampleLibrary,
    settings: TestSettings,
    log_settings: LogSettings | None = None,
    options: RunOptions | None = None,
    audit_config: str | os.PathLike[str] | None = "audit.config",
    clock: Clock | None = None,
    round: RoundRules | str | None = None,
    extra_result: dict[str, Any] | None = None,
    contributors: Sequence[RecordContributor] = (),
    *,
    config_errors: Sequence[str] = (),
) -> TestResult:
    """Run one LoadGen test and write the official logs plus ``podium/podium_result.json``.

    Called from one thread, which it blocks until the test ends. ``audit_config`` is read when the file
    exists, as the official reads ``audit.config`` from the working directory (compliance tests); pass None to
    never read one.

    Failures end the test, never the logs: an exception raised by the SUT's ``issue_queries``/``flush_queries``
    or the QSL's ``load_samples``/``unload_samples`` ends the run INVALID with the failure named in every log,
    and the ``TestResult`` is returned with ``failure`` set. Ctrl-C (when called from the main thread) stops
    issuing at once, drops the SUT's queued work (``cancel_pending`` when it has one), writes every log with the
    run INVALID ("interrupted"), then raises ``RunInterrupted`` carrying the result; a second Ctrl-C stops
    without waiting for anything. The summary, accuracy log, result and samples files are written atomically;
    a failed write (full disk) raises a one-line ``PodiumError`` after every file that could be written was.

    ``podium/podium_result.json`` (the run record, see ``podium.loadgen.record``) is written once, at the end:
    ``extra_result`` and each of ``contributors``' parts are in it; nothing rewrites it afterwards.

    ``round`` (a name such as ``"v6.1"`` or a ``RoundRules``) picks the LoadGen
    behaviour and logs of that round; None is the round of an enclosing ``rules.active_round`` block, else
    ``DEFAULT_ROUND`` (the newest). A v2.1 run refuses settings only LoadGen 6.0.x
    has (token latencies, ``accuracy_sample_count_override``, TEST05 seeds) with a one-line ``SettingError``.
    ``config_errors``: settings-file errors found before the test (the drop-in's second user.conf), logged as
    ``error_invalid_config``.
    """
    rules = round_rules(round if round is not None else current_round())
    _check_round_settings(settings, rules)
    log_settings = log_settings or LogSettings()
    options = options or RunOptions()
    clock = clock or RealClock(options.spin_margin_ns)
    outdir = Path(log_settings.outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PodiumError(f"{outdir}: cannot create the log folder ({exc.strerror})") from exc
    for contributor in contributors:
        contributor.test_starting(outdir, settings)  # before any log is opened: a failure here loses nothing
    paths = logs.log_file_paths(log_settings)
    try:
        # A summary or accuracy log left from an earlier test in this folder must never pass for this one's.
        for kind in ("summary", "accuracy"):
            paths[kind].unlink(missing_ok=True)
        detail_f = open(paths["detail"], "w", encoding="utf-8")
    except OSError as exc:
        raise PodiumError(f"{exc.filename}: cannot open the log file for writing ({exc.strerror})") from exc
    trace = None

    session = Session(clock)
    if options.gc_freeze:
        gc.collect()
        gc.freeze()
    old_switch = sys.getswitchinterval()
    prepare = getattr(clock, "prepare", None)
    restore_clock = prepare() if prepare is not None else (lambda: None)
    if options.gil_switch_interval_s:
        sys.setswitchinterval(options.gil_switch_interval_s)
    origin = clock.now()
    detail = logs.DetailLog(detail_f, origin, clock.now, log_settings.copy_detail_to_stdout)
    if log_settings.enable_trace:
        trace = TraceWriter(open(paths["trace"], "w", encoding="utf-8"), origin)
    session.detail = detail
    with ACTIVE_LOCK:
        ACTIVE.append(session)
    restore_sigint = catch_sigint(session)
    perf: PerformanceResult | None = None
    acc_entries: list[tuple[int, int, str]] = []
    series: list[SeriesRecord] = []
    power_windows: list[tuple[str, str]] = []
    timed_out = False
    eff: EffectiveSettings | None = None
    mode = TestMode(settings.mode)
    sut_name = type(sut).__name__
    write_failure: PodiumError | None = None
    samples_written: Path | None = None
    try:
        _log_version(detail, rules)
        t0 = clock.now()
        sut_name = _sut_name(sut)
        name_ns = clock.now() - t0
        detail.log("test_datetime", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.localtime()))
        detail.log("sut_name", sut_name)
        detail.log("get_sut_name_duration_ns", name_ns)
        detail.log("qsl_name", str(getattr(qsl, "name", type(qsl).__name__)))
        detail.log("qsl_reported_total_count", int(qsl.total_sample_count))
        detail.log("qsl_reported_performance_count", int(qsl.performance_sample_count))

        for message in config_errors:
            detail.log("error_invalid_config", message, error=True)
        requested = settings
        if audit_config is not None and Path(audit_config).is_file():
            from podium.loadgen import config as _config

            detail.warning("Found Audit Config file (audit.config). Overriding TestSettings from audit.config file.")
            print(f"podium: found {audit_config}: its settings override the test settings (compliance test)",
                  file=sys.stderr)
            entries = _config.parse_config_file(audit_config)
            requested = _config.apply_config(settings, entries, "*", settings.scenario, source=str(audit_config),
                                             round=rules, conf_type=2)
        if rules.current and requested.test05:
            # LoadGen 6.0.x runs TEST05 from its own settings: performance mode with the test05_* seeds
            detail.warning("Test05 flag detected Overriding random seeds")
            requested = requested.copy(mode=TestMode.PerformanceOnly,
                                       qsl_rng_seed=requested.test05_qsl_rng_seed,
                                       sample_index_rng_seed=requested.test05_sample_index_rng_seed,
                                       schedule_rng_seed=requested.test05_schedule_rng_seed)
        mode = TestMode(requested.mode)
        eff = effective_settings(requested, int(qsl.performance_sample_count),
                                 int(qsl.total_sample_count) if rules.current else None)
        logs.log_effective_settings(detail, eff, mode.value, current=rules.current)
        if eff.performance_sample_count <= 0 or qsl.total_sample_count <= 0:
            raise PodiumError(f"QSL {getattr(qsl, 'name', '')!r}: total ({qsl.total_sample_count}) and performance "
                              f"({eff.performance_sample_count}) sample counts must be positive")

        sut.bind(session.complete, session.complete_ids)
        seq = SequenceGen()
        issuer_timeout = int(options.completion_timeout_s * 1e9)

        def load(loaded: LoadableSet) -> None:
            detail.log("loaded_qsl_set", loaded.indices)
            _guarded("QSL load_samples", qsl.load_samples, list(loaded.indices))

        def unload(loaded: LoadableSet) -> None:
            _guarded("QSL unload_samples", qsl.unload_samples, list(loaded.indices))

        def run_series(loaded: LoadableSet, series_mode: TestMode, s_eff: EffectiveSettings | None = None
                       ) -> tuple[IssueOutcome, SeriesRecorder, Schedule]:
            nonlocal timed_out
            s_eff = s_eff or eff
            schedule = generate_schedule(s_eff, loaded, series_mode, rules.equal_issue_scope)
            n = len(schedule.samples)
            first = seq.take_ids(n)
            detail.log("generated_query_count", schedule.query_count)
            # v2.1 logs the setting; LoadGen 6.0.x the series' own query size (Offline accuracy, equal issue)
            detail.log("generated_samples_per_query",
                       schedule.samples_per_query if rules.current else s_eff.samples_per_query)
            detail.log("generated_query_duration", schedule.generated_duration_ns)
            threads = int(s_eff.requested.server_num_issue_query_threads)
            if rules.current and threads:
                # The official waits up to 10 s for SUT threads to register (a C++-only call) and, in Server,
                # then waits for them forever; podium logs its error at once and issues from this thread.
                detail.log("error_runtime", "Mismatch between settings and number of registered IssueQueryThreads! "
                           f"settings.server_num_issue_query_threads = {threads} but 0 threads registered.",
                           error=True)
            mask = None
            log_all = series_mode is TestMode.AccuracyOnly
            prob = accuracy_log_probability(s_eff)
            if not log_all and prob > 0:
                mask = log_mask(seq.values(n), accuracy_log_offset(s_eff.accuracy_log_rng_seed), prob)
            else:
                seq.skip_values(n)
            rec = SeriesRecorder(clock.now, first + 1, n, schedule.samples_per_query, s_eff.scenario,
                                 schedule.samples, mask, log_all, session._error,
                                 tokens=rules.current and s_eff.use_token_latencies,
                                 needs_first_token=s_eff.scenario is not Scenario.Offline)
            session.rec = rec
            session.series_name = series_mode.value
            session.schedule, session.scenario = schedule, s_eff.scenario
            # what a progress display can expect: the minimum duration for performance series
            session.expected_s = (s_eff.min_duration_ms / 1000 if series_mode is TestMode.PerformanceOnly
                                  else None)
            session.series_started_ns = clock.now()
            failed_before = _sut_failed_samples(sut)
            issuer = Issuer(clock, sut, s_eff, series_mode, session._error, issuer_timeout, session)
            out = _guarded("SUT issue_queries", issuer.run, schedule, rec)
            if out.ran_out:
                session._error("error_runtime", "Ending early: Ran out of generated queries to issue before the "
                               "minimum query count and test duration were reached. Please update the relevant "
                               "expected latency or target qps in the TestSettings so they are more accurate.")
            if session.interrupted:
                _cancel_pending(sut)
            _guarded("SUT flush_queries", sut.flush_queries)
            if out.ended_naturally and series_mode is not TestMode.AccuracyOnly and s_eff.scenario is not Scenario.Server:
                detail.log("generic_message", "Ending naturally: Minimum query count and test duration met.")
            all_done = issuer.wait_all(rec, out.samples_issued)
            missing = out.samples_issued - rec.completed
            if session.interrupted:
                _cancel_pending(sut)
                session._error("error_runtime", f"Interrupted (Ctrl-C): issuing stopped; {missing} of "
                               f"{out.samples_issued} issued samples incomplete (podium).")
            elif issuer.timed_out:
                timed_out = True
                session._error("error_runtime", f"Completion timeout: {missing} of {out.samples_issued} issued "
                               f"samples did not complete within {options.completion_timeout_s:g} s of the last "
                               "completion; ending the series (podium).")
            elif not all_done and session.aborted:
                session._error("error_runtime", f"Test aborted (AbortTest): {missing} of {out.samples_issued} "
                               "issued samples incomplete.")
            elif out.aborted:
                session._error("error_runtime", "Test aborted (AbortTest): issuing stopped early.")
            rec.close()
            out.sut_failed_samples = _sut_failed_samples(sut) - failed_before
            if out.sut_failed_samples:
                session._error("error_runtime", f"{out.sut_failed_samples} samples failed in the SUT and were "
                               "answered empty (podium).")
            out.max_completion_ns = (max(int(rec.done_np[:out.samples_issued].max()), out.start_ns)
                                     if out.samples_issued else out.start_ns)
            if trace is not None:
                per_query = s_eff.scenario is not Scenario.Offline
                trace.complete_event(f"IssueQueries ({series_mode.value})", out.start_ns, out.max_completion_ns)
                trace.samples(first, schedule.samples_per_query, schedule.samples, out.scheduled_abs_ns,
                              out.issued_ns, rec.done_np[:out.samples_issued], per_query)
            logs.log_contention_counters(detail)
            window = (logs.power_time_string(out.start_wall_ns),
                      logs.power_time_string(out.start_wall_ns + out.max_completion_ns - out.start_ns))
            detail.log("power_begin", window[0])
            detail.log("power_end", window[1])
            power_windows.append(window)
            acc_entries.extend(rec.logged)
            series.append(SeriesRecord(series_mode.value, loaded.distribution_end, schedule.query_count,
                                       out.queries_issued, out.samples_issued, rec.completed))
            return out, rec, schedule

        def measured(s_eff: EffectiveSettings, out: IssueOutcome, rec: SeriesRecorder) -> PerformanceResult:
            p = compute(s_eff, sut_name, out, rec, timed_out or (session.aborted and not session.interrupted),
                        rules)
            if session.interrupted:
                p.interrupted = True
                p.timed_out = timed_out  # samples cut short by Ctrl-C are not a completion timeout
            return p

        sets = None
        if mode in (TestMode.AccuracyOnly, TestMode.SubmissionRun):
            detail.log("generic_message", "Starting accuracy mode")
            sets = generate_loadable_sets(int(qsl.total_sample_count), eff, TestMode.AccuracyOnly)
            for loaded in sets:
                load(loaded)
                run_series(loaded, TestMode.AccuracyOnly)
                unload(loaded)
                if session.aborted or timed_out:
                    break
        if mode in (TestMode.PerformanceOnly, TestMode.SubmissionRun) and not session.aborted:
            detail.log("generic_message", "Starting performance mode")
            sets = generate_loadable_sets(int(qsl.total_sample_count), eff)
            loaded = sets[0]
            load(loaded)
            out, rec, schedule = run_series(loaded, TestMode.PerformanceOnly)
            perf = measured(eff, out, rec)
            logs.log_results(detail, perf, num_errors=rules.current)
            if options.write_samples:
                try:
                    samples_written = write_samples_file(outdir, eff.scenario.value, out, rec,
                                                         schedule.samples_per_query)
                except PodiumError as exc:
                    write_failure = exc
            unload(loaded)
        if mode is TestMode.FindPeakPerformance:

            def probe(loaded: LoadableSet, qps: float) -> PerformanceResult:
                if session.aborted:
                    raise _Stopped()
                p_eff = dataclasses.replace(eff, target_qps=qps)
                out, rec, _ = run_series(loaded, TestMode.PerformanceOnly, p_eff)
                return measured(p_eff, out, rec)

            perf = find_peak_performance(eff, qsl, detail, load, probe, unload)
            if perf is not None:
                logs.log_results(detail, perf, num_errors=rules.current)
    except _SeriesFailure as exc:
        session.failure = str(exc)
        session.failure_exc = exc.__cause__ or exc
        detail.log("error_runtime", f"{exc} (podium): the test ended there.", error=True)
    except _Stopped:
        pass
    except KeyboardInterrupt:  # a second Ctrl-C, or one raised inside the SUT: stop without waiting
        session.interrupted = session.aborted = True
        _cancel_pending(sut)
        detail.log("error_runtime", "Interrupted (Ctrl-C) (podium).", error=True)
    finally:
        restore_sigint()
        sys.setswitchinterval(old_switch)
        if options.gc_freeze:
            gc.unfreeze()
        restore_clock()
        session.rec = None
        with ACTIVE_LOCK:
            if session in ACTIVE:
                ACTIVE.remove(session)
        if perf is not None:
            perf.interrupted = perf.interrupted or session.interrupted
            perf.failure = perf.failure or (session.failure or "")
            if perf.sut_failed_samples:
                perf.sut_failure_note = _sut_failure_note(sut)
        # Write whatever was measured, even if the run failed part-way; every file on its own, so one failed
        # write (a full disk) costs no other.
        lines: list[str] = []
        if perf is not None:
            lines.extend(logs.summary_lines(perf, mode.value))
        elif session.interrupted or session.failure:
            reasons = ([INTERRUPTED_REASON] if session.interrupted else []) + (
                [f"The run failed: {session.failure}."] if session.failure else [])
            lines.extend(logs.unmeasured_summary_lines(sut_name, settings.scenario.value, mode.value, reasons))
        lines.extend(logs.trailer_lines(detail.warning_count, detail.error_count))
        summary_text = "\n".join(lines) + "\n"
        if log_settings.copy_summary_to_stdout:
            sys.stdout.write(summary_text)
        try:
            write_text_atomic(paths["summary"], summary_text)
        except PodiumError as exc:
            write_failure = write_failure or exc
        try:
            with atomic_open(paths["accuracy"]) as acc_f:
                logs.write_accuracy_log(acc_f, acc_entries)
        except PodiumError as exc:
            write_failure = write_failure or exc
        if trace is not None:
            try:
                trace.close()
            except OSError as exc:
                write_failure = write_failure or write_error(paths["trace"], exc)
        session.detail = None  # late completions after the test are counted, not written to a closed file
        detail.close()
        if detail.write_error is not None:
            write_failure = write_failure or write_error(paths["detail"], detail.write_error)

    result = TestResult(settings=eff, mode=mode, performance=perf, accuracy_log_entries=len(acc_entries),
                        log_paths=paths, result_json=None, errors=list(detail.errors),
                        warnings=detail.warning_count, series=series, timed_out=timed_out,
                        labels=list(options.labels), interrupted=session.interrupted,
                        failure=session.failure, failure_exc=session.failure_exc, power_windows=power_windows)
    if samples_written is not None:
        result.log_paths = {**paths, "samples": samples_written}
    record = build_record(result, rules, extra_result)
    contribute_all(record, contributors, result)  # after the logs are closed, before the one write
    try:
        result.result_json = write_json_atomic(result_path(outdir), record)
    except PodiumError as exc:
        write_failure = write_failure or exc
    if write_failure is not None:
        raise write_failure
    if session.interrupted:
        raise RunInterrupted("interrupted (Ctrl-C)", result=result)
    return result


def _check_round_settings(settings: TestSettings, rules: RoundRules) -> None:
    """Refuse, in one line, settings the round's LoadGen does not have (v2.1 and the 6.0-only fields)."""
    if rules.current:
        return
    for name, default in CURRENT_ONLY_FIELDS.items():
        if getattr(settings, name) != default:
            raise SettingError(f"TestSettings.{name} = {getattr(settings, name)!r}: round {rules.name} has no "
                               f"such setting (LoadGen 6.0.x added it); run with round v6.0 or later, or leave "
                               f"it at {default!r}")


def _log_version(detail: logs.DetailLog, rules: RoundRules) -> None:
    version = rules.loadgen_version.replace("podium", f"podium {podium.__version__}")
    if rules.current:  # the "@ <revision>" part is free text; v2.1 keeps what it always wrote
        version += f" round {rules.name}"
    detail.log("loadgen_version", version)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    detail.log("loadgen_build_date_local", stamp)
    detail.log("loadgen_build_date_utc", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
    detail.log("loadgen_git_commit_date", "NA")
    detail.log("loadgen_git_log_message", "NA")
    detail.log("loadgen_git_status_message", "NA")
    detail.log("loadgen_file_sha1", {})
