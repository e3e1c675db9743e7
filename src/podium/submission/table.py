"""The final results table of a submission tree: the official v2.1 summary CSV (``--csv`` of the submission
checker), one row per accepted scenario plus a power row where power was measured.

The official checker writes its rows with plain string formatting, quoting only some fields; podium writes the
same text so the two files can be compared line by line.
"""

from __future__ import annotations

from typing import IO, Any, Sequence

from podium.submission import rules
from podium.submission.checker import ResultRow

HEADER: tuple[str, ...] = (
    "Organization", "Availability", "Division", "SystemType", "SystemName", "Platform", "Model", "MlperfModel",
    "Scenario", "Result", "Accuracy", "number_of_nodes", "host_processor_model_name", "host_processors_per_node",
    "host_processor_core_count", "accelerator_model_name", "accelerators_per_node", "Location", "framework",
    "operating_system", "notes", "compilance", "errors", "version", "inferred", "has_power", "Units")


def _notes(system: dict[str, Any]) -> str:
    notes = str(system.get("hw_notes", "") or "")
    if system.get("sw_notes"):
        notes = (notes + ". " if notes else "") + str(system["sw_notes"])
    return notes


def _q(v: Any) -> str:
    return '"' + str(v) + '"'


def row_values(row: ResultRow, power_row: bool = False) -> list[str]:
    """The 27 CSV fields of a row (the power row carries the power metric and its unit)."""
    s = row.system
    result = row.power if power_row else row.result
    unit = rules.POWER_UNITS[row.scenario] if power_row else row.units
    return [row.submitter, row.availability, row.division, _q(row.system_type), _q(row.system_name), row.platform,
            row.model, row.mlperf_model, row.scenario, str(result), row.accuracy, str(s.get("number_of_nodes")),
            _q(s.get("host_processor_model_name")), str(s.get("host_processors_per_node")),
            str(s.get("host_processor_core_count")), _q(s.get("accelerator_model_name")),
            _q(s.get("accelerators_per_node")), row.location, _q(s.get("framework", "")),
            _q(s.get("operating_system", "")), _q(_notes(s)), str(row.compliance), str(row.errors), rules.ROUND,
            str(row.inferred), str(row.power > 0), unit]


def current_row_values(row: ResultRow, power_row: bool = False) -> list[str]:
    """The current checker's 31 CSV fields of a row, each between quotes as it writes them."""
    from podium.submission.rules_current import POWER_UNITS as CUR_POWER_UNITS

    s = row.system
    try:
        total = str(int(str(s.get("number_of_nodes"))) * int(str(s.get("accelerators_per_node"))))
    except (TypeError, ValueError):
        total = ""
    values = [row.submitter, row.availability, row.division, row.system_type, row.system_name, row.platform,
              row.model, row.mlperf_model, row.scenario, row.power if power_row else row.result, row.accuracy,
              s.get("number_of_nodes"), s.get("host_processor_model_name"), s.get("host_processors_per_node"),
              s.get("host_processor_core_count"), s.get("accelerator_model_name"), s.get("accelerators_per_node"),
              total, row.location, s.get("framework", ""), s.get("operating_system", ""), _notes(s), row.division,
              0, row.round, row.inferred, row.power > 0,
              CUR_POWER_UNITS[row.scenario] if power_row else row.units, row.weight_data_types,
              # design_power_watts: the v6.1 checker writes None for a system without power, v6.0 nothing
              None if row.power <= 0 and row.round == "v6.1" else "", ""]
    return [_q(v) for v in values]


def write_summary_csv(rows: Sequence[ResultRow], out: IO[str]) -> None:
    """The official summary CSV of ``rows`` (the columns of the rows' round)."""
    if rows and rows[0].round != rules.ROUND:
        from podium.submission.rules_current import CSV_HEADER

        out.write(",".join(CSV_HEADER) + "\n")
        for row in rows:
            out.write(",".join(current_row_values(row)) + "\n")
            if row.power > 0:
                out.write(",".join(current_row_values(row, power_row=True)) + "\n")
        return
    out.write(",".join(HEADER) + "\n")
    for row in rows:
        out.write(",".join(row_values(row)) + "\n")
        if row.power > 0:
            out.write(",".join(row_values(row, power_row=True)) + "\n")


def table_rows(rows: Sequence[ResultRow]) -> list[dict[str, Any]]:
    """Rows as dicts for display (Submitter, System, Benchmark, Scenario, Result, Units, Accuracy, ...)."""
    out = []
    for r in rows:
        out.append({"Submitter": r.submitter, "Division": r.division, "Category": r.system_type,
                    "System": r.system_name or r.platform, "Benchmark": r.model, "Scenario": r.scenario,
                    "Result": r.result, "Units": r.units, "Accuracy": r.accuracy,
                    "Accelerators": r.system.get("accelerators_per_node"), "Inferred": bool(r.inferred),
                    "Power": r.power or None, "Location": r.location})
    return out
