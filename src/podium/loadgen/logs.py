"""The official log files: ``mlperf_log_summary.txt``, ``mlperf_log_detail.txt``, ``mlperf_log_accuracy.json``.

Layout, keys, order and number formats follow what the official v2.1 LoadGen writes (spec loadgen.md §6 and
the example files in spec/examples/official-v2.1): summary values in C++ ostream default form (``%g``; bools
0/1) or fixed 2-decimal where the official pre-formats; detail lines ``:::MLLOG {json}`` with doubles in
``%g`` form and the official metadata fields (file/line are podium's own, as a reimplementation must).
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterable

from podium.loadgen.internal import EffectiveSettings
from podium.loadgen.results import INTERRUPTED_REASON, PERCENTILES, PerformanceResult, pct_label
from podium.loadgen.settings import LogSettings, Scenario

_SEPARATOR = "================================================"


# ---- number formatting ----------------------------------------------------------------------------------
def fmt_ostream(value: Any) -> str:
    """A value as C++ ``ostream <<`` prints it by default (bools as 0/1, doubles with 6 significant digits)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "%g" % value
    return str(value)


def double_to_string(value: float, precision: int = 2) -> str:
    """The official ``DoubleToString``: fixed notation with ``precision`` decimals."""
    return "%.*f" % (precision, value)


def _json_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return "%g" % value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(int(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f'"{k}":"{v}"' for k, v in value.items()) + "}"
    return _json_value(str(value))


def log_file_paths(log: LogSettings, when: time.struct_time | None = None) -> dict[str, Path]:
    """The four official log file paths for these settings (``<outdir>/<prefix>[<datetime>_]<kind><suffix>``)."""
    prefix = log.prefix
    if log.prefix_with_datetime:
        prefix += time.strftime("%Y-%m-%dT%H:%M:%SZ", when or time.localtime()) + "_"
    out = Path(log.outdir)
    return {
        "summary": out / f"{prefix}summary{log.suffix}.txt",
        "detail": out / f"{prefix}detail{log.suffix}.txt",
        "accuracy": out / f"{prefix}accuracy{log.suffix}.json",
        "trace": out / f"{prefix}trace{log.suffix}.json",
    }


# ---- detail log -----------------------------------------------------------------------------------------
class DetailLog:
    """Writes ``:::MLLOG`` lines as they are logged; errors are flushed at once."""

    def __init__(self, stream: IO[str], origin_ns: int, now: Any, copy_to_stdout: bool = False) -> None:
        self._out = stream
        self._origin = origin_ns
        self._now = now
        self._copy = copy_to_stdout
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.error_count = 0
        self.warning_count = 0
        self.errors: list[tuple[str, str]] = []
        #: the first failed write (disk full, ...): later lines are dropped; the engine reports it in one line
        self.write_error: OSError | None = None
        self._closed = False

    def _write(self, line: str, flush: bool) -> None:
        if self.write_error is not None or self._closed:
            return  # a late completion's error after the test ended: the file is closed
        try:
            self._out.write(line)
            if flush:
                self._out.flush()
        except OSError as exc:
            self.write_error = exc

    def log(self, key: str, value: Any, *, error: bool = False, warning: bool = False,
            t_ns: int | None = None, depth: int = 1) -> None:
        t = self._now() if t_ns is None else t_ns
        frame = sys._getframe(depth)
        fname = frame.f_code.co_filename
        marker = os.sep + "podium" + os.sep
        fname = fname[fname.rfind(marker) + 1:] if marker in fname else os.path.basename(fname)
        rel = t - self._origin
        ms, ns = divmod(rel, 1_000_000) if rel >= 0 else (0, 0)
        line = (':::MLLOG {"key": "%s", "value": %s, "time_ms": %d.%06d, "namespace": "mlperf::logging", '
                '"event_type": "POINT_IN_TIME", "metadata": {"is_error": %s, "is_warning": %s, "file": "%s", '
                '"line_no": %d, "pid": %d, "tid": %d}}\n'
                % (key, _json_value(value), ms, ns, "true" if error else "false", "true" if warning else "false",
                   fname.replace("\\", "/"), frame.f_lineno, self._pid, threading.get_native_id()))
        with self._lock:
            if error:
                self.error_count += 1
                self.errors.append((key, str(value)))
            if warning:
                self.warning_count += 1
            self._write(line, error)
            if self._copy:
                sys.stdout.write(line)

    def error(self, key: str, message: str) -> None:
        self.log(key, message, error=True, depth=2)

    def warning(self, message: str) -> None:
        self.log("warning_generic_message", message, warning=True, depth=2)

    def flush(self) -> None:
        with self._lock:
            self._write("", True)

    def close(self) -> None:
        """Flush and close the stream; a failed write or close is kept in ``write_error``, never raised."""
        with self._lock:
            self._write("", True)
            self._closed = True
            try:
                self._out.close()
            except OSError as exc:
                self.write_error = self.write_error or exc


#: ``effective_*`` detail keys after scenario and mode, in the official order (EffectiveSettings attributes).
_EFFECTIVE_FIELDS = (
    "samples_per_query", "target_qps", "target_latency_ns", "target_latency_percentile", "max_async_queries",
    "target_duration_ms", "min_duration_ms", "max_duration_ms", "min_query_count", "max_query_count",
    "min_sample_count", "qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed", "accuracy_log_rng_seed",
    "accuracy_log_probability", "accuracy_log_sampling_target", "print_timestamps", "performance_issue_unique",
    "performance_issue_same", "performance_issue_same_index", "performance_sample_count",
)


def log_effective_settings(detail: DetailLog, s: EffectiveSettings, mode_name: str, current: bool = False) -> None:
    """``requested_*`` then ``effective_*`` keys, in the official order (``current``: LoadGen 6.0.x's keys)."""
    r = s.requested
    L = detail.log
    L("requested_scenario", s.scenario.value)
    L("requested_test_mode", r.mode.value if hasattr(r.mode, "value") else str(r.mode))
    if s.scenario is Scenario.SingleStream:
        L("requested_single_stream_expected_latency_ns", float(r.single_stream_expected_latency_ns))
        L("requested_single_stream_target_latency_percentile", float(r.single_stream_target_latency_percentile))
    elif s.scenario is Scenario.MultiStream:
        L("requested_multi_stream_expected_latency_ns", float(r.multi_stream_expected_latency_ns))
        L("requested_multi_stream_target_latency_percentile", float(r.multi_stream_target_latency_percentile))
        L("requested_multi_stream_samples_per_query", int(r.multi_stream_samples_per_query))
    elif s.scenario is Scenario.Server:
        L("requested_server_target_qps", float(r.server_target_qps))
        L("requested_server_target_latency_ns", int(r.server_target_latency_ns))
        L("requested_server_target_latency_percentile", float(r.server_target_latency_percentile))
        L("requested_server_coalesce_queries", bool(r.server_coalesce_queries))
        L("requested_server_find_peak_qps_decimals_of_precision", int(r.server_find_peak_qps_decimals_of_precision))
        L("requested_server_find_peak_qps_boundary_step_size", float(r.server_find_peak_qps_boundary_step_size))
        L("requested_server_max_async_queries", int(r.server_max_async_queries))
        L("requested_server_num_issue_query_threads", int(r.server_num_issue_query_threads))
    else:
        L("requested_offline_expected_qps", float(r.offline_expected_qps))
    L("requested_min_duration_ms", int(r.min_duration_ms))
    L("requested_max_duration_ms", int(r.max_duration_ms))
    L("requested_min_query_count", int(r.min_query_count))
    L("requested_max_query_count", int(r.max_query_count))
    L("requested_qsl_rng_seed", int(r.qsl_rng_seed))
    L("requested_sample_index_rng_seed", int(r.sample_index_rng_seed))
    L("requested_schedule_rng_seed", int(r.schedule_rng_seed))
    L("requested_accuracy_log_rng_seed", int(r.accuracy_log_rng_seed))
    L("requested_accuracy_log_probability", float(r.accuracy_log_probability))
    L("requested_accuracy_log_sampling_target", int(r.accuracy_log_sampling_target))
    L("requested_print_timestamps", bool(r.print_timestamps))
    L("requested_performance_issue_unique", bool(r.performance_issue_unique))
    L("requested_performance_issue_same", bool(r.performance_issue_same))
    L("requested_performance_issue_same_index", int(r.performance_issue_same_index))
    L("requested_performance_sample_count_override", int(r.performance_sample_count_override))
    if current:
        L("requested_accuracy_sample_count_override", int(r.accuracy_sample_count_override))
        L("requested_sample_concatenate_permutation", bool(r.sample_concatenate_permutation))
        if r.use_token_latencies:
            L("requested_use_token_latencies", True)
            if s.scenario is not Scenario.Offline:
                L("requested_server_ttft_latency", int(r.server_ttft_latency))
                L("requested_server_tpot_latency", int(r.server_tpot_latency))
    for message in s.errors:
        detail.log("error_invalid_test_settings", message, error=True)
    L("effective_scenario", s.scenario.value)
    L("effective_test_mode", mode_name)
    for name in _EFFECTIVE_FIELDS:  # EffectiveSettings already holds each with the official type
        L("effective_" + name, getattr(s, name))
    if current:
        L("effective_accuracy_sample_count", s.accuracy_sample_count)
        L("effective_sample_concatenate_permutation", s.sample_concatenate_permutation)


def power_time_string(wall_ns: int) -> str:
    """``%m-%d-%Y %T.mmm`` in UTC, as the official ``DateTimeStringForPower``."""
    secs, rem = divmod(int(wall_ns), 1_000_000_000)
    return time.strftime("%m-%d-%Y %H:%M:%S", time.gmtime(secs)) + ".%03d" % (rem // 1_000_000)


def log_contention_counters(detail: DetailLog) -> None:
    """The official logger's contention counters; podium's logger has no lock-free slots, so they are 0."""
    for key in ("logger_swap_request_slots_retry_count", "logger_swap_request_slots_retry_retry_count",
                "logger_swap_request_slots_retry_reencounter_count", "logger_start_reading_entries_retry_count",
                "logger_tls_total_log_cas_fail_count", "logger_tls_total_swap_buffers_slot_retry_count"):
        detail.log(key, 0)


def log_results(detail: DetailLog, result: PerformanceResult, num_errors: bool = False) -> None:
    """The ``result_*`` keys; LoadGen 6.0.x ends them with ``num_errors`` (errors logged so far)."""
    for key, value in result.metrics.items():
        detail.log(key, value)
    if num_errors:
        detail.log("num_errors", detail.error_count)


# ---- summary --------------------------------------------------------------------------------------------
def summary_lines(result: PerformanceResult, mode_name: str) -> list[str]:
    """The performance part of ``mlperf_log_summary.txt`` (without the warnings/errors trailer), as the round
    of ``result.rules`` writes it."""
    s = result.settings
    rules = result.rules
    current = rules.current
    decimals = rules.percentile_label_decimals
    headline = rules.server_headline
    tokens = result.tokens
    out: list[str] = []
    add = out.append
    add(f"{_SEPARATOR}\nMLPerf Results Summary\n{_SEPARATOR}")
    add(f"SUT name : {result.sut_name}")
    add(f"Scenario : {s.scenario.value}")
    add(f"Mode     : {mode_name}")
    pct = double_to_string(s.target_latency_percentile * 100, decimals)
    if s.scenario is Scenario.SingleStream:
        add(f"{pct}th percentile latency (ns) : {result.target_sample_latency}")
    elif s.scenario is Scenario.MultiStream:
        add(f"{pct}th percentile latency (ns) : {result.target_query_latency}")
    elif s.scenario is Scenario.Server:
        if headline == "scheduled":
            add(f"Scheduled samples per second : {double_to_string(result.scheduled_samples_per_second)}")
        else:
            add(f"Completed samples per second    : {double_to_string(result.completed_samples_per_second)}")
    else:
        add(f"Samples per second: {fmt_ostream(float(result.samples_per_second))}")
    if tokens is not None:
        if s.scenario in (Scenario.SingleStream, Scenario.MultiStream):
            add(f"{pct}th first token percentile latency (ns) : {tokens.target_first_token_latency}")
        elif s.scenario is Scenario.Offline:
            add(f"Tokens per second: {fmt_ostream(float(result.tokens_per_second))}")
        else:
            add(f"Completed tokens per second: {double_to_string(result.completed_tokens_per_second)}")
    if current and s.infer_token_latencies:
        if s.scenario is Scenario.Offline:
            add(f"Tokens per second (inferred): {fmt_ostream(float(result.inferred_tokens_per_second))}")
        elif s.scenario is Scenario.Server:
            add("Completed tokens per second (inferred): "
                + double_to_string(result.inferred_completed_tokens_per_second))
    valid = result.valid
    add(f"Result is : {'VALID' if valid else 'INVALID'}")
    if s.scenario is Scenario.Server:
        add(f"  Performance constraints satisfied : {'Yes' if result.perf_constraints_met else 'NO'}")
    add(f"  Min duration satisfied : {'Yes' if result.min_duration_met else 'NO'}")
    add(f"  Min queries satisfied : {'Yes' if result.min_queries_met else 'NO'}")
    add(f"  Early stopping satisfied: {'Yes' if result.early_stopping_met else 'NO'}")
    if not valid:
        add("Recommendations:")
        if not result.perf_constraints_met:
            add(" * " + result.perf_constraints_recommendation)
        if not result.min_duration_met:
            add(" * " + result.min_duration_recommendation)
        if not result.min_queries_met:
            add(" * The test exited early, before enough queries were issued.\n"
                "   See the detailed log for why this may have occurred.")
        if result.timed_out:
            add(f" * {result.incomplete_samples} samples never completed before the completion timeout "
                "(podium).\n   See the detailed log.")
        if result.sut_failed_samples:
            add(f" * {result.sut_failed_samples} samples failed in the SUT and were answered empty "
                "(podium).\n   " + (f"{result.sut_failure_note}\n   " if result.sut_failure_note else "")
                + "See the detailed log.")
        if result.interrupted:
            add(f" * {INTERRUPTED_REASON} (podium)")
        if result.failure:
            add(f" * The run failed: {result.failure} (podium).\n   See the detailed log.")
    if s.scenario is not Scenario.Offline:
        if tokens is not None:
            tes = result.token_early_stopping
            add("TTFT Early Stopping Result:")
            add(tes.ttft.text if tes and tes.ttft else "")
            add("TPOT Early Stopping Result:")
            add(tes.tpot.text if tes and tes.tpot else "")
        else:
            add("Early Stopping Result:")
            add(result.early_stopping.text if result.early_stopping else "")
    add(f"\n{_SEPARATOR}\nAdditional Stats\n{_SEPARATOR}")
    if s.scenario is Scenario.SingleStream:
        add("QPS w/ loadgen overhead         : " + double_to_string(result.qps_with_loadgen_overhead))
        add("QPS w/o loadgen overhead        : " + double_to_string(result.qps_without_loadgen_overhead))
        add("")
    elif s.scenario is Scenario.Server:
        if headline == "scheduled":
            add("Completed samples per second    : " + double_to_string(result.completed_samples_per_second))
        else:
            add("Scheduled samples per second : " + double_to_string(result.scheduled_samples_per_second))
        if not current:
            add("")  # LoadGen 6.0.x writes no blank line here
    elif s.scenario is Scenario.MultiStream:
        add("Per-query latency:  ")
        add(f"Min latency (ns)                : {result.query_latency_min}")
        add(f"Max latency (ns)                : {result.query_latency_max}")
        add(f"Mean latency (ns)               : {result.query_latency_mean}")
        for p in PERCENTILES:
            add(f"{pct_label(p)} percentile latency (ns)   : {result.query_percentiles.get(p, 0)}")
    if s.scenario is not Scenario.MultiStream:
        add(f"Min latency (ns)                : {result.sample_latency_min}")
        add(f"Max latency (ns)                : {result.sample_latency_max}")
        add(f"Mean latency (ns)               : {result.sample_latency_mean}")
        for p in PERCENTILES:
            add(f"{pct_label(p)} percentile latency (ns)   : {result.sample_percentiles.get(p, 0)}")
    if tokens is not None:
        out.extend(_token_summary_lines(result))
    add(f"\n{_SEPARATOR}\nTest Parameters Used\n{_SEPARATOR}")
    out.extend(test_parameter_lines(s, current))
    return out


def _token_summary_lines(result: PerformanceResult) -> list[str]:
    """LoadGen 6.0.x's token block of the summary's Additional Stats."""
    t = result.tokens
    assert t is not None
    s = result.settings
    out = [""]
    if s.scenario is Scenario.SingleStream:
        tps_wo = (float(t.token_count) / ((result.sample_latency_mean / 1e9) * result.sample_count)
                  if result.sample_latency_mean and result.sample_count else float("inf"))
        out.append("TPS w/ loadgen overhead         : "
                   + double_to_string(result.tokens_per_second_with_loadgen_overhead))
        out.append("TPS w/o loadgen overhead        : " + double_to_string(tps_wo))
    elif s.scenario is Scenario.Server:
        out.append("Completed tokens per second                 : "
                   + double_to_string(result.completed_tokens_per_second))
    if s.scenario is not Scenario.Offline:
        out.append(f"Min First Token latency (ns)                : {t.first_token_latency_min}")
        out.append(f"Max First Token latency (ns)                : {t.first_token_latency_max}")
        out.append(f"Mean First Token latency (ns)               : {t.first_token_latency_mean}")
        for p in PERCENTILES:
            out.append(f"{pct_label(p)} percentile first token latency (ns)   : "
                       f"{t.first_token_percentiles.get(p, 0)}")
        out.append("")
        out.append(f"Min Time per Output Token (ns)                : {t.time_per_output_token_min}")
        out.append(f"Max Time per Output Token (ns)                : {t.time_per_output_token_max}")
        out.append(f"Mean Time per Output Token (ns)               : {t.time_per_output_token_mean}")
        for p in PERCENTILES:
            out.append(f"{pct_label(p)} percentile time to output token (ns)   : {t.tpot_percentiles.get(p, 0)}")
    return out


def unmeasured_summary_lines(sut_name: str, scenario: str, mode_name: str, reasons: list[str]) -> list[str]:
    """The summary of a test that ended before any performance result existed (podium): the run is INVALID
    and the reasons say why, so the file never reads as a clean run with no Result line."""
    out = [f"{_SEPARATOR}\nMLPerf Results Summary\n{_SEPARATOR}", f"SUT name : {sut_name}",
           f"Scenario : {scenario}", f"Mode     : {mode_name}", "Result is : INVALID", "Recommendations:"]
    out.extend(f" * {r} (podium)" for r in reasons)
    return out


def test_parameter_lines(s: EffectiveSettings, current: bool = False) -> list[str]:
    """The "Test Parameters Used" block (effective values, official formatting; ``current``: LoadGen 6.0.x)."""
    f = fmt_ostream
    if current and s.use_token_latencies:
        latency = [f"ttft_latency (ns): {s.server_ttft_latency}", f"tpot_latency (ns): {s.server_tpot_latency}"]
    else:
        latency = [f"target_latency (ns): {s.target_latency_ns}"]
    lines = [
        f"samples_per_query : {s.samples_per_query}",
        f"target_qps : {f(float(s.target_qps))}",
        *latency,
        f"max_async_queries : {s.max_async_queries}",
        f"min_duration (ms): {s.min_duration_ms}",
        f"max_duration (ms): {s.max_duration_ms}",
        f"min_query_count : {s.min_query_count}",
        f"max_query_count : {s.max_query_count}",
        f"qsl_rng_seed : {s.qsl_rng_seed}",
        f"sample_index_rng_seed : {s.sample_index_rng_seed}",
        f"schedule_rng_seed : {s.schedule_rng_seed}",
        f"accuracy_log_rng_seed : {s.accuracy_log_rng_seed}",
        f"accuracy_log_probability : {f(float(s.accuracy_log_probability))}",
        f"accuracy_log_sampling_target : {s.accuracy_log_sampling_target}",
        f"print_timestamps : {f(s.print_timestamps)}",
        f"performance_issue_unique : {f(s.performance_issue_unique)}",
        f"performance_issue_same : {f(s.performance_issue_same)}",
        f"performance_issue_same_index : {s.performance_issue_same_index}",
        f"performance_sample_count : {s.performance_sample_count}",
    ]
    if current:
        lines.append(f"accuracy_sample_count : {s.accuracy_sample_count}")
        if s.sample_concatenate_permutation:
            lines.append("WARNING: sample_concatenate_permutation was set to true. \n"
                         "Generated samples per query might be different as the one in the setting.\n"
                         "Check the generated_samples_per_query line in the detailed log for the real\n"
                         "samples_per_query value")
    return lines


def trailer_lines(warnings: int, errors: int) -> list[str]:
    """The warnings/errors trailer written when logging stops, each preceded by a blank line."""
    if warnings == 0:
        w = "No warnings encountered during test."
    elif warnings == 1:
        w = "1 warning encountered. See detailed log."
    else:
        w = f"{warnings} warnings encountered. See detailed log."
    if errors == 0:
        e = "No errors encountered during test."
    elif errors == 1:
        e = "1 ERROR encountered. See detailed log."
    else:
        e = f"{errors} ERRORS encountered. See detailed log."
    return ["", w, "", e]


# ---- accuracy log ---------------------------------------------------------------------------------------
def write_accuracy_log(stream: IO[str], entries: Iterable[tuple[Any, ...]]) -> int:
    """``mlperf_log_accuracy.json`` in the official byte layout; returns the number of entries.

    An entry is ``(seq_id, qsl_idx, HEX)``, or for LoadGen 6.0.x token runs ``(seq_id, qsl_idx, HEX,
    token HEX or None, token_count)``: ``token_data`` (outside Offline) and ``token_count`` follow ``data``.
    """
    stream.write("[")
    n = 0
    for entry in entries:
        seq, idx, hexdata = entry[0], entry[1], entry[2]
        stream.write("\n{ " if n == 0 else ",\n{ ")
        stream.write(f'"seq_id" : {seq}, "qsl_idx" : {idx}, "data" : "{hexdata}"')
        if len(entry) > 3:
            if entry[3] is not None:
                stream.write(f', "token_data" : "{entry[3]}"')
            stream.write(f', "token_count" : {entry[4]}')
        stream.write(" }")
        n += 1
    stream.write("\n]\n")
    return n


def read_detail_log(path: str | Path) -> list[dict[str, Any]]:
    """Parse a detail log (podium's or the official's) into its JSON records."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(":::MLLOG "):
                records.append(json.loads(line[len(":::MLLOG "):]))
    return records
