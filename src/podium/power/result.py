"""Power figures of one run, computed as the v2.1 submission checker computes them, and where they go.

The checker (``check_power_dir``) keeps the ``spl.txt`` samples whose time stamp is strictly inside
``(power_begin, power_end)`` of the detail log, averages their watts, and reports
- Offline and Server: the average power, in watts;
- SingleStream and MultiStream: ``avg_watts * power_duration / result_query_count`` joules per query
  (``power_duration`` = ``power_end - power_begin`` in seconds).
Podium computes from the same 6-decimal values it writes to ``spl.txt``, in the same order, so its figure
is the checker's to the last bit. It adds efficiency (the scenario's throughput per watt), millijoules per
query, the energy counter's figure where the meter has one, and the meter's clock offset.

``attach_power_result`` merges the ``"power"`` block into the run's ``podium_result.json`` (the report
reads ``podium_result.json["power"]``), writes ``spl.txt`` beside the LoadGen logs (an official file) and
``power_summary.txt`` into the run's ``podium/`` sub-folder (podium's own). ``record_power_verdict`` says
whether the power run as a whole stands (``"power_valid"``, ``"power_error"``, ``"power_run_result"``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from podium.power.errors import PowerError
from podium.power.samples import MeterInfo, PowerSample, stamp_ms, write_spl
from podium.power.window import RunWindow, read_run_window

RESULT_JSON = "podium_result.json"
SUMMARY_TXT = "power_summary.txt"
SPL_TXT = "spl.txt"

#: power-dev's limit on the client/server clock difference (``CRITICAL_DIFFERENCE_TIME_MS``).
CLOCK_LIMIT_MS = 200.0

OFFICIAL_UNITS = {"Offline": "Watts", "Server": "Watts", "SingleStream": "Joules", "MultiStream": "Joules"}


def _as_written(watts: float) -> float:
    # spl.txt carries "%f" (6 decimals); the checker averages those, so podium does too
    return float("%f" % watts)


def samples_in_window(samples: Iterable[PowerSample], window: RunWindow) -> list[PowerSample]:
    """Samples strictly inside the window, compared at the millisecond the stamps carry (time order)."""
    out = []
    for s in sorted(samples, key=lambda s: s.wall_ns):
        t = stamp_ms(s.wall_ns) * 1_000_000
        if window.begin_ns < t < window.end_ns:
            out.append(s)
    return out


def _energy_counter(samples: list[PowerSample], window: RunWindow) -> dict[str, Any] | None:
    pts = [(s.wall_ns, s.energy_j) for s in sorted(samples, key=lambda s: s.wall_ns) if s.energy_j is not None]
    if len(pts) < 2:
        return None
    t = np.array([p[0] for p in pts], dtype=np.int64)
    e = np.array([p[1] for p in pts], dtype=np.float64)
    if t[0] > window.begin_ns or t[-1] < window.end_ns:
        return {"covered": False, "note": "the counter readings do not span the whole power window"}
    # relative ns keep float64 exact enough (epoch ns as float64 would round to 256 ns)
    rel = (t - window.begin_ns).astype(np.float64)
    energy = float(np.interp((window.end_ns - window.begin_ns), rel, e) - np.interp(0.0, rel, e))
    duration = window.duration_s
    return {"covered": True, "energy_j": energy,
            "average_watts": energy / duration if duration > 0 else None,
            "method": "cumulative energy counter, linearly interpolated at power_begin and power_end"}


def _clock_check(info: MeterInfo) -> tuple[dict[str, Any] | None, list[str]]:
    off = info.clock_offset
    if not off or off.get("offset_ms") is None:
        return None, ["meter clock offset not measured: the samples are windowed with the meter's own time stamps"]
    worst = abs(float(off["offset_ms"])) + float(off.get("uncertainty_ms") or 0.0)
    block = dict(off, limit_ms=CLOCK_LIMIT_MS, within_limit=worst <= CLOCK_LIMIT_MS)
    if worst > CLOCK_LIMIT_MS:
        return block, [f"meter clock differs from the SUT clock by {off['offset_ms']:+.1f} ms (limit "
                       f"{CLOCK_LIMIT_MS:g} ms, as power-dev's): samples may be outside the true window; "
                       "synchronise the clocks (NTP)"]
    return block, []


def _labels(info: MeterInfo) -> list[str]:
    labels = list(info.labels)
    if info.simulated and not any("SIMULATED" in lab for lab in labels):
        labels.insert(0, f"SIMULATED power meter ({info.name}): the watts are a configured profile, not a "
                         "measurement")
    return labels


def compute_power_block(window: RunWindow, samples: Iterable[PowerSample], meter_info: MeterInfo | Mapping | None,
                        phase: str = "testing", mark: str | None = None) -> dict[str, Any]:
    """The ``"power"`` block for one run from its window and the meter's samples (no files touched)."""
    info = MeterInfo.from_any(meter_info)  # type: ignore[arg-type]
    all_samples = sorted(samples, key=lambda s: s.wall_ns)
    inside = samples_in_window(all_samples, window)
    values = [_as_written(s.watts) for s in inside]
    clock, issues = _clock_check(info)
    if window.repeated_windows > 1:
        issues.append(f"{window.detail_path.name} holds {window.repeated_windows} power windows (several series); "
                      "the first is used, as the checker does")
    block: dict[str, Any] = {
        "status": "measured",
        "measured": True,
        "phase": phase,
        "simulated": bool(info.simulated),
        "labels": _labels(info),
        "meter": info.to_dict(),
        "mark": mark,
        "window": {"begin": window.begin_text, "end": window.end_text, "duration_s": window.duration_s},
        "scenario": window.scenario,
        "samples_total": len(all_samples),
        "samples_in_window": len(values),
        "clock_offset": clock,
        "issues": issues,
        "errors": [],
    }
    if not values:
        interval = f"{info.interval_ms:g} ms" if info.interval_ms else "unknown"
        block.update(status="failed", measured=False)
        block["errors"].append(
            f"no power samples fall inside the power window {window.begin_text} - {window.end_text} "
            f"({window.duration_s:.3f} s; meter interval {interval}, {len(all_samples)} samples in all)")
        return block
    avg = sum(values) / len(values)
    duration = window.duration_s
    block["average_watts"] = avg
    block["min_watts"] = min(values)
    block["max_watts"] = max(values)
    block["energy_j"] = avg * duration
    scenario = window.scenario
    unit = OFFICIAL_UNITS.get(str(scenario))
    if scenario in ("Offline", "Server"):
        block["official_metric"] = {"value": avg, "unit": unit, "name": "average power"}
        if window.throughput is not None and avg > 0:
            block["efficiency"] = {"value": window.throughput / avg, "unit": "samples/s/W",
                                   "name": "performance per watt", "throughput": window.throughput}
    elif scenario in ("SingleStream", "MultiStream"):
        if not window.query_count:
            block["errors"].append(f"{window.detail_path}: no result_query_count; energy per query unknown")
        else:
            j_per_query = avg * duration / window.query_count
            block["official_metric"] = {"value": j_per_query, "unit": unit, "name": "energy per query"}
            block["energy_per_query_mj"] = j_per_query * 1000.0
            block["query_count"] = window.query_count
            if scenario == "MultiStream" and window.samples_per_query:
                block["energy_per_sample_mj"] = j_per_query * 1000.0 / window.samples_per_query
    else:
        block["errors"].append(f"{window.detail_path}: scenario {scenario!r} unknown; no power metric")
    counter = _energy_counter(all_samples, window)
    if counter is not None:
        block["energy_counter"] = counter
    channels = [s.channels for s in inside if s.channels]
    if channels and all(len(c) == len(channels[0]) for c in channels):
        block["channel_average_watts"] = [float(v) for v in np.mean(np.array(channels), axis=0)]
    return block


def _missing_block(status: str, reason: str, info: MeterInfo | None, phase: str) -> dict[str, Any]:
    return {"status": status, "measured": False, "phase": phase,
            "simulated": bool(info.simulated) if info else False,
            "labels": _labels(info) if info else [], "meter": info.to_dict() if info else None,
            "errors": [reason] if status != "not measured" else [], "reason": reason, "issues": []}


def merge_into_result_json(run_dir: Path, block: Mapping[str, Any]) -> Path:
    """Put ``block`` under ``"power"`` in the run's ``podium_result.json`` (created if absent) and carry its
    labels into the run's ``labels`` so every output shows them."""
    from podium.files import find_result, result_path, write_json_atomic

    path = find_result(run_dir) or result_path(run_dir)  # podium/ sub-folder (podium 0.1: beside the logs)
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PowerError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    data["power"] = dict(block)
    labels = data.setdefault("labels", [])
    for text in record_labels(block):
        if text not in labels:
            labels.append(text)
    return write_json_atomic(path, data)


def record_labels(block: Mapping[str, Any]) -> list[str]:
    """The run labels a power block carries ("power: SIMULATED ..."), so every output shows them."""
    return [lab if lab.startswith("power") else f"power: {lab}" for lab in block.get("labels", [])]


def power_summary_line(block: Mapping[str, Any] | None) -> str:
    """One line for the results table: the figure, or why there is none."""
    if not block or block.get("status") == "not measured":
        return "power: not measured"
    if not block.get("measured"):
        err = (block.get("errors") or [block.get("reason", "")])[0]
        return f"power: {block.get('status', 'missing')} ({err})"
    parts = [f"{block['average_watts']:.2f} W avg"]
    if "efficiency" in block:
        parts.append(f"{block['efficiency']['value']:.4g} samples/s/W")
    if "energy_per_query_mj" in block:
        parts.append(f"{block['energy_per_query_mj']:.4g} mJ/query")
    tag = " (SIMULATED meter)" if block.get("simulated") else ""
    scope = (block.get("meter") or {}).get("kind")
    if scope in ("nvml", "rapl"):
        tag += f" ({scope.upper()}: not wall power)"
    return "power: " + ", ".join(parts) + tag


def summary_text(block: Mapping[str, Any]) -> str:
    """``power_summary.txt``: the block for a person."""
    meter = block.get("meter") or {}
    lines = ["podium power result", f"status          : {block['status']}"]
    if meter:
        where = f" at {meter['address']}" if meter.get("address") else ""
        interval = f", interval {meter['interval_ms']:g} ms" if meter.get("interval_ms") else ""
        lines.append(f"meter           : {meter.get('name')}{' (SIMULATED)' if meter.get('simulated') else ''}"
                     f"{where}{interval}")
        lines.append(f"scope           : {meter.get('scope')}")
    for lab in block.get("labels", []):
        lines.append(f"label           : {lab}")
    if "window" in block:
        w = block["window"]
        lines.append(f"power window    : {w['begin']} -> {w['end']} UTC ({w['duration_s']:.3f} s)")
        lines.append(f"samples         : {block.get('samples_in_window', 0)} in the window, "
                     f"{block.get('samples_total', 0)} in all")
    if block.get("measured"):
        lines.append(f"average power   : {block['average_watts']:.6f} W")
        lines.append(f"energy          : {block['energy_j']:.6f} J in the window")
        om = block.get("official_metric")
        if om:
            lines.append(f"official metric : {om['value']:.6f} {om['unit']}"
                         + (" per query" if om["unit"] == "Joules" else ""))
        if "efficiency" in block:
            lines.append(f"efficiency      : {block['efficiency']['value']:.6g} samples/s per W")
        if "energy_per_query_mj" in block:
            lines.append(f"energy per query: {block['energy_per_query_mj']:.6g} mJ")
        ec = block.get("energy_counter")
        if ec and ec.get("covered"):
            lines.append(f"energy counter  : {ec['energy_j']:.6f} J ({ec['average_watts']:.6f} W average)")
    co = block.get("clock_offset")
    if co:
        lines.append(f"clock offset    : meter - SUT = {co['offset_ms']:+.3f} ms "
                     f"(+/- {co.get('uncertainty_ms') or 0:.3f} ms; {co.get('method')})")
    for key in ("issues", "errors"):
        for text in block.get(key, []):
            lines.append(f"{key[:-1]:<16}: {text}")
    return "\n".join(lines) + "\n"


def summary_path(run_dir: Path | str) -> Path:
    """Where ``power_summary.txt`` of the run logged in ``run_dir`` goes (podium's sub-folder: the checker
    rejects a power run folder holding files it does not know)."""
    from podium.files import podium_dir

    return podium_dir(run_dir) / SUMMARY_TXT


def write_summary(run_dir: Path | str, block: Mapping[str, Any]) -> Path:
    """Write ``power_summary.txt`` for ``block`` into the run's ``podium/`` sub-folder."""
    from podium.files import write_text_atomic

    return write_text_atomic(summary_path(run_dir), summary_text(block))


def _write_outputs(run_dir: Path, block: dict[str, Any], write_result: bool = True) -> dict[str, Any]:
    write_summary(run_dir, block)
    if write_result:  # else the caller puts the block in the record (a record contributor)
        merge_into_result_json(run_dir, block)
    return block


def attach_power_result(run_dir: Path | str, samples: Iterable[PowerSample], meter_info: MeterInfo | Mapping | None,
                        *, mark: str | None = None, phase: str = "testing", write_spl_file: bool = True,
                        window: RunWindow | None = None, write_result: bool = True) -> dict[str, Any]:
    """Compute the run's power figures from its window (``window``, else read from its detail log) and
    ``samples``; write ``spl.txt`` and ``power_summary.txt``; merge the block into ``podium_result.json``
    unless ``write_result`` is False; return the block."""
    run_dir = Path(run_dir)
    info = MeterInfo.from_any(meter_info)  # type: ignore[arg-type]
    samples = list(samples)
    mark = mark or str(info.details.get("mark") or f"podium_{phase}")
    window = window or read_run_window(run_dir)
    block = compute_power_block(window, samples, info, phase=phase, mark=mark)
    if write_spl_file:
        write_spl(run_dir / SPL_TXT, samples, mark)
        block["spl"] = SPL_TXT
    return _write_outputs(run_dir, block, write_result)


PARTIAL_SPL_TXT = "spl_partial.txt"


def record_power_missing(run_dir: Path | str, reason: str, meter_info: MeterInfo | Mapping | None = None,
                         phase: str = "testing", samples: Iterable[PowerSample] | None = None,
                         mark: str | None = None, write_result: bool = True) -> dict[str, Any]:
    """The meter failed (e.g. disconnected mid-run): the performance result stands, power is missing.

    The samples read before the failure (``samples``) are kept in ``podium/spl_partial.txt`` for diagnosis:
    never as ``spl.txt``, which would make a partial measurement look like a whole one to the checker.
    """
    from podium.files import podium_dir

    run_dir = Path(run_dir)
    info = MeterInfo.from_any(meter_info) if meter_info is not None else None  # type: ignore[arg-type]
    block = _missing_block("missing", reason, info, phase)
    kept = sorted(samples or [], key=lambda s: s.wall_ns)
    block["samples_before_failure"] = len(kept)
    if kept and mark:
        podium_dir(run_dir).mkdir(parents=True, exist_ok=True)
        write_spl(podium_dir(run_dir) / PARTIAL_SPL_TXT, kept, mark)
        block["partial_spl"] = f"podium/{PARTIAL_SPL_TXT}"
    return _write_outputs(run_dir, block, write_result)


def record_power_verdict(run_dir: Path | str, failure: str | None, failed_phase: str | None = None) -> Path:
    """Say in the run's ``podium_result.json`` whether the power run stands as a whole.

    ``failure`` None: ``"power_valid": true``, ``"power_run_result": "VALID"``. Otherwise the power run is
    INVALID whatever the performance result says (the LoadGen logs stay as measured): ``"power_valid": false``,
    ``"power_error"`` the one-line reason and ``"power_failed_phase"`` the run ("ranging"/"testing") it hit.
    """
    from podium.files import find_result, merge_json_atomic, result_path

    path = find_result(run_dir) or result_path(run_dir)
    return merge_json_atomic(path, verdict_values(failure, failed_phase))


def verdict_values(failure: str | None, failed_phase: str | None = None) -> dict[str, Any]:
    """The record keys that say whether the power run stands (see ``record_power_verdict``)."""
    return {"power_valid": failure is None, "power_error": failure,
            "power_failed_phase": failed_phase if failure else None,
            "power_run_result": "VALID" if failure is None else "INVALID"}


def record_not_measured(run_dir: Path | str, reason: str = "no power meter was used",
                        write_result: bool = True) -> dict[str, Any]:
    """No meter: the result says "power: not measured", never an estimate (``podium_result.json`` only)."""
    block = _missing_block("not measured", reason, None, "testing")
    if write_result:
        merge_into_result_json(Path(run_dir), block)
    return block

