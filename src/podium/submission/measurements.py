"""The measurements folder of one (system, benchmark, scenario): ``mlperf.conf``, a ``user.conf`` that
reproduces the run's settings, ``README.md`` (how it was run) and ``<system>_<impl>_<scenario>.json``; and the
code pointer ``code/<benchmark>/<impl>/README.md``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import podium
from podium.loadgen import config as lgconfig
from podium.report.runs import FinishedRun
from podium.submission import rules

#: TestSettings fields a user.conf sets: field -> (scenario the key is read under or None for the run's own,
#: key name, conversion from the settings value to the file's unit).
_USER_CONF_FIELDS: dict[str, tuple[str | None, str, str]] = {
    "offline_expected_qps": ("Offline", "target_qps", "float"),
    "server_target_qps": ("Server", "target_qps", "float"),
    "server_target_latency_ns": ("Server", "target_latency", "ms_int"),
    "server_coalesce_queries": ("Server", "coalesce_queries", "bool"),
    "server_max_async_queries": ("Server", "max_async_queries", "int"),
    "single_stream_expected_latency_ns": ("SingleStream", "target_latency", "ms_float"),
    "multi_stream_expected_latency_ns": ("MultiStream", "target_latency", "ms_float"),
    "multi_stream_samples_per_query": ("MultiStream", "samples_per_query", "int"),
    "min_duration_ms": (None, "min_duration", "int"),
    "max_duration_ms": (None, "max_duration", "int"),
    "min_query_count": (None, "min_query_count", "int"),
    "max_query_count": (None, "max_query_count", "int"),
    "performance_sample_count_override": (None, "performance_sample_count_override", "int"),
    "sample_concatenate_permutation": (None, "sample_concatenate_permutation", "bool"),
}
#: The fixed-scenario fields that matter for each scenario (the others are never read by its run).
_SCENARIO_FIELDS: dict[str, frozenset[str]] = {
    "Offline": frozenset({"offline_expected_qps"}),
    "Server": frozenset({"server_target_qps", "server_target_latency_ns", "server_coalesce_queries",
                         "server_max_async_queries"}),
    "SingleStream": frozenset({"single_stream_expected_latency_ns"}),
    "MultiStream": frozenset({"multi_stream_expected_latency_ns", "multi_stream_samples_per_query"}),
}


def safe_name(text: str) -> str:
    """``text`` reduced to the characters safe in a folder or file name of the tree."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "podium"


def implementation_name(run: FinishedRun) -> str:
    """The ``<impl>`` of the measurements file and code folder: podium plus the backend."""
    return safe_name(f"podium-{run.backend or 'backend'}")


def _fmt(value: Any, conv: str) -> str:
    if conv == "bool":
        return "1" if value else "0"
    if conv == "int":
        return str(int(value))
    if conv == "ms_int":
        return str(int(round(float(value) / 1e6)))
    if conv == "ms_float":
        return repr(float(value) / 1e6)
    return repr(float(value))


def user_conf_text(run: FinishedRun) -> str:
    """A user.conf that, over the run's round's mlperf.conf, gives the run's requested settings (every value that
    differs from mlperf.conf, under the run's mlperf.conf model name)."""
    conf_model = str(run.benchmark_info.get("conf_model") or rules.CONF_MODEL.get(run.benchmark, run.benchmark))
    scenario = run.scenario
    requested = run.requested_settings
    lines = [f"# user.conf of the {run.benchmark} {scenario} run, written by podium {podium.__version__} from the "
             "run's settings", f"# (over the official {run.round} mlperf.conf; keys use the mlperf.conf model name)"]
    try:
        default = lgconfig.settings_to_dict(lgconfig.load_settings(conf_model, scenario, round=run.round))
    except Exception:  # a model mlperf.conf does not know: write every setting the run has
        default = {}
    wanted = set(_SCENARIO_FIELDS.get(scenario, frozenset()))
    wanted |= {f for f, (scen, _, _) in _USER_CONF_FIELDS.items() if scen is None}
    for fld, (scen, key, conv) in _USER_CONF_FIELDS.items():
        if fld not in wanted or fld not in requested:
            continue
        value = requested[fld]
        if fld in default and default[fld] == value:
            continue
        lines.append(f"{conf_model}.{scen or scenario}.{key} = {_fmt(value, conv)}")
    return "\n".join(lines) + "\n"


def measurements_fields(run: FinishedRun, user: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The measurements JSON (the five keys the checker requires) and the keys left for the user to fill."""
    model = run.model_info
    fields: dict[str, Any] = {
        "input_data_types": "",
        "retraining": "",
        "starting_weights_filename": Path(str(model.get("path"))).name if model.get("path") else "",
        "weight_data_types": "",
        "weight_transformations": "",
    }
    for k, v in (user or {}).items():
        if v not in ("", None) or k not in fields:
            fields[k] = v
    return fields, [k for k in rules.MEASUREMENTS_KEYS if fields.get(k) in ("", None)]


def _loadgen_of(round_name: str) -> str:
    """How the README names the LoadGen a round's runs reproduce."""
    from podium.loadgen.rules import round_rules

    return round_name if not round_rules(round_name).current else f"{round_name} (6.0.17)"


def readme_text(run: FinishedRun, system: str, impl: str) -> str:
    """How the run was made: what a reviewer needs to reproduce it."""
    b, m, s = run.backend_info, run.model_info, run.effective_settings
    perf = run.perf
    acc = run.accuracy_result
    lines = [
        f"# {run.benchmark} {run.scenario} on {system}",
        "",
        f"Measured with podium {run.podium_version or podium.__version__} (a Python implementation of the MLPerf "
        f"Inference {_loadgen_of(run.round)} LoadGen), implementation `" + impl + "`.",
        "",
        "## Run",
        "",
        f"- backend: {b.get('name', '')} {b.get('version') or ''} options {json.dumps(b.get('options') or {})}",
        f"- model: `{Path(str(m.get('path', ''))).name}` sha256 `{m.get('sha256', '')}`",
        f"- scenario: {run.scenario}; min_duration {s.get('min_duration_ms')} ms; samples per query "
        f"{s.get('samples_per_query')}; performance sample count {s.get('performance_sample_count')}",
    ]
    if perf:
        metric = perf.get("metric") or {}
        validity = "VALID" if perf.get("valid") else "INVALID"
        lines.append(f"- result: {metric.get('name')} = {metric.get('value')} ({validity})")
    if acc:
        lines.append(f"- accuracy: {acc.get('metric')} {acc.get('value')} (target {acc.get('target')})")
    labels = run.labels()
    if labels:
        lines += ["", "## Labels", ""] + [f"- {label}" for label in labels]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        f"pip install podium=={run.podium_version or podium.__version__}",
        f"podium run --benchmark {run.benchmark} --scenario {run.scenario} --backend {run.backend or 'onnxruntime'} "
        "--mode performance --mode accuracy --full --user-conf user.conf",
        "```",
        "",
        f"`mlperf.conf` here is the official {run.round} file; `user.conf` holds the settings of this run that differ "
        "from it.",
        "",
    ]
    return "\n".join(lines)


def code_readme_text(run: FinishedRun, impl: str) -> str:
    """The code pointer: which podium release and backend ran the benchmark."""
    b = run.backend_info
    version = run.podium_version or podium.__version__
    return "\n".join([
        f"# {impl}",
        "",
        f"The code of this implementation is podium {version} (`pip install podium=={version}`), benchmark "
        f"`{run.benchmark}`, run through its batching harness on the {b.get('name', '')} backend "
        f"{b.get('version') or ''}.",
        "",
        "Nothing here was changed from that release; the settings of each run are in "
        "`measurements/<system>/<benchmark>/<scenario>/`.",
        "",
    ])


def write_measurements(folder: Path, run: FinishedRun, system: str, user_fields: dict[str, Any] | None = None
                       ) -> list[str]:
    """Write the measurements folder; returns the measurements JSON keys still to fill."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lgconfig.builtin_mlperf_conf_path(run.round), folder / "mlperf.conf")
    (folder / "user.conf").write_text(user_conf_text(run), encoding="utf-8")
    impl = implementation_name(run)
    (folder / "README.md").write_text(readme_text(run, system, impl), encoding="utf-8")
    fields, to_fill = measurements_fields(run, user_fields)
    (folder / f"{system}_{impl}_{run.scenario}.json").write_text(json.dumps(fields, indent=2) + "\n",
                                                                 encoding="utf-8")
    return to_fill
