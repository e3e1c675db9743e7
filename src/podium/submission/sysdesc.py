"""The v2.1 system description (``systems/<system>.json``): every field the checker requires, filled from the
machine where podium can read it; the others are left empty ("") and listed in ``to_fill`` for the user.

Nothing is invented: the submitter, availability status, system type, memory layout, cooling, interconnect
topology and the like are declarations only the user can make.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import podium
from podium.errors import PodiumError
from podium.submission import rules
from podium.submission.machine import Machine, human_bytes

#: Frameworks podium can drive, by distribution name -> the name a system description uses.
FRAMEWORKS: dict[str, str] = {"onnxruntime": "ONNX Runtime", "onnxruntime-gpu": "ONNX Runtime GPU",
                              "openvino": "OpenVINO", "torch": "PyTorch"}
#: Backend names of podium runs -> distribution names, to say which framework version a run used.
BACKEND_DISTS: dict[str, tuple[str, ...]] = {"onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
                                             "openvino": ("openvino",), "torch": ("torch",), "pytorch": ("torch",)}


#: Free-form fields an empty value is a fine answer for.
FREE_TEXT = frozenset({"hw_notes", "sw_notes"})
#: The order fields are written in: who/what first, then host, accelerators, software, notes.
FIELD_ORDER: tuple[str, ...] = (
    "division", "submitter", "status", "system_type", "system_name", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "host_processor_frequency", "host_processor_caches", "host_processor_interconnect", "host_memory_capacity",
    "host_memory_configuration", "host_storage_capacity", "host_storage_type", "host_networking",
    "host_networking_topology", "accelerators_per_node", "accelerator_model_name", "accelerator_frequency",
    "accelerator_host_interconnect", "accelerator_interconnect", "accelerator_interconnect_topology",
    "accelerator_memory_capacity", "accelerator_memory_configuration", "accelerator_on-chip_memories",
    "framework", "other_software_stack", "operating_system", "cooling", "hw_notes", "sw_notes")


class SystemDescriptionError(PodiumError):
    """A system description file is missing, malformed or contradicts the submission."""


@dataclass
class SystemDescription:
    """The fields of ``systems/<system>.json``, what is left for the user to fill, and where values came from."""

    fields: dict[str, Any]
    to_fill: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    #: the fields the round's checker requires (v2.1's unless a current-round packager says otherwise)
    required_fields: tuple[str, ...] = rules.SYSTEM_FIELDS_REQUIRED

    def to_json(self) -> str:
        return json.dumps(self.fields, indent=2) + "\n"

    def refresh_to_fill(self) -> None:
        """Recompute ``to_fill``: required fields still empty."""
        required = self.required_fields + (rules.SYSTEM_FIELDS_NETWORK if _is_network(self.fields) else ())
        self.to_fill = [k for k in required if self.fields.get(k) in ("", None) and k not in FREE_TEXT]


def _is_network(fields: dict[str, Any]) -> bool:
    return str(fields.get(rules.IS_NETWORK, "")).lower() == "true"


def framework_names(machine: Machine, backends: list[dict[str, Any]] | None = None) -> str | None:
    """"ONNX Runtime 1.32.0, ..." for the backends the runs used (their recorded versions), else for the
    frameworks installed here."""
    names: list[str] = []
    if backends:
        for b in backends:
            name = str(b.get("name", ""))
            version = b.get("version")
            dists = BACKEND_DISTS.get(name, ())
            label = FRAMEWORKS.get(dists[0], name) if dists else name
            if version is None:
                version = next((machine.package_version(d) for d in dists if machine.package_version(d)), None)
            text = f"{label} {version}" if version else label
            if text and text not in names:
                names.append(text)
    else:
        for dist, label in FRAMEWORKS.items():
            v = machine.package_version(dist)
            if v:
                names.append(f"{label} {v}")
    return ", ".join(names) or None


def describe_system(machine: Machine | None = None, *, division: str | None = None, submitter: str | None = None,
                    system_name: str | None = None, status: str | None = None, system_type: str | None = None,
                    network: bool = False, backends: list[dict[str, Any]] | None = None) -> SystemDescription:
    """The system description of this machine (see the module docstring). ``backends`` are the runs'
    ``backend`` records (name, version), which name the framework; without them the installed frameworks are
    listed."""
    m = machine or Machine()
    f: dict[str, Any] = {}
    src: dict[str, str] = {}

    def put(key: str, value: Any, source: str = "") -> None:
        f[key] = "" if value is None else value
        if value is not None and source:
            src[key] = source

    put("division", division, "command line")
    put("submitter", submitter, "command line")
    put("status", status, "command line")
    put("system_type", system_type, "command line")
    put("system_name", system_name, "command line")
    # podium drives one machine (a network SUT is described by the network fields)
    put("number_of_nodes", 1, "podium runs on one node")

    cpu = m.cpu_model()
    put("host_processor_model_name", cpu, "/proc/cpuinfo")
    put("host_processors_per_node", m.sockets(), "/proc/cpuinfo physical id")
    put("host_processor_core_count", m.cores_per_socket(), "/proc/cpuinfo cpu cores (per processor)")
    put("host_processor_frequency", m.cpu_frequency(), "cpufreq or /proc/cpuinfo")
    put("host_processor_caches", m.caches(), "/sys/devices/system/cpu/*/cache")
    put("host_processor_interconnect", None)
    mem = m.memory_bytes()
    put("host_memory_capacity", human_bytes(mem) if mem else None, "/proc/meminfo MemTotal")
    put("host_memory_configuration", None)
    disks = m.disks()
    put("host_storage_capacity", human_bytes(sum(d[1] for d in disks), binary=False) if disks else None,
        "/sys/block")
    kinds = sorted({d[2] for d in disks})
    put("host_storage_type", ", ".join(kinds) if kinds else None, "/sys/block (rotational flag)")
    nics = m.network_interfaces()
    put("host_networking", ", ".join(f"{n} {s} Mb/s" if s else n for n, s in nics) if nics else None,
        "/sys/class/net")
    put("host_networking_topology", None)

    acc = m.accelerators()
    devs = acc.devices
    if devs:
        names = sorted({d.name for d in devs})
        put("accelerators_per_node", len(devs), "NVML")
        put("accelerator_model_name", ", ".join(names), "NVML")
        mems = sorted({d.memory_bytes for d in devs if d.memory_bytes})
        put("accelerator_memory_capacity", ", ".join(human_bytes(b) for b in mems) if mems else None, "NVML")
        clocks = sorted({d.max_sm_clock_mhz for d in devs if d.max_sm_clock_mhz})
        put("accelerator_frequency", ", ".join(f"{c} MHz" for c in clocks) if clocks else None, "NVML max SM clock")
        pcie = sorted({d.pcie for d in devs if d.pcie})
        put("accelerator_host_interconnect", ", ".join(pcie) if pcie else None, "NVML max PCIe link")
        links = max(d.nvlinks_active for d in devs)
        if links:
            put("accelerator_interconnect", f"NVLink ({links} active links per accelerator)", "NVML")
        elif len(devs) == 1:
            put("accelerator_interconnect", "N/A", "one accelerator")
        else:
            put("accelerator_interconnect", None)
        if len(devs) == 1:
            put("accelerator_interconnect_topology", "N/A", "one accelerator")
        else:
            put("accelerator_interconnect_topology", None)
        put("accelerator_memory_configuration", None)
        put("accelerator_on-chip_memories", None)
    else:
        for key in ("accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
                    "accelerator_frequency", "accelerator_host_interconnect", "accelerator_interconnect",
                    "accelerator_interconnect_topology", "accelerator_memory_configuration",
                    "accelerator_on-chip_memories"):
            put(key, None)
        src["accelerators_per_node"] = f"no NVIDIA accelerator found ({acc.error or 'NVML lists none'})"

    put("framework", framework_names(m, backends), "the runs' backends" if backends else "installed packages")
    stack = [f"Python {m.python_version()}", f"podium {podium.__version__}"]
    for dist in ("numpy",):
        v = m.package_version(dist)
        if v:
            stack.append(f"{dist} {v}")
    if acc.driver:
        stack.append(f"NVIDIA driver {acc.driver}")
    if acc.cuda:
        stack.append(f"CUDA {acc.cuda}")
    put("other_software_stack", ", ".join(stack), "installed packages, NVML")
    put("operating_system", m.operating_system(), "/etc/os-release, kernel")
    put("cooling", None)
    put("hw_notes", "")
    put("sw_notes", f"Run with podium {podium.__version__}, a Python reimplementation of the MLPerf Inference "
        "v2.1 LoadGen", "podium")
    if network:
        put(rules.IS_NETWORK, "true", "network division")
        for key in rules.SYSTEM_FIELDS_NETWORK[1:]:
            put(key, None)
    ordered = [k for k in FIELD_ORDER + rules.SYSTEM_FIELDS_NETWORK if k in f]
    desc = SystemDescription({k: f[k] for k in ordered}, sources=src)
    desc.refresh_to_fill()
    return desc


def read_system_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A user's system description file (e.g. ``podium sysinfo`` output they completed)."""
    p = Path(path).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SystemDescriptionError(f"{p}: cannot read the system description ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise SystemDescriptionError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise SystemDescriptionError(f"{p}: expected a JSON object of system fields")
    return data


def merge(desc: SystemDescription, user: dict[str, Any]) -> SystemDescription:
    """The user's non-empty values over the machine's (the user knows better; podium only read the machine)."""
    fields = dict(desc.fields)
    sources = dict(desc.sources)
    for k, v in user.items():
        if v not in ("", None) or k not in fields:
            fields[k] = v
            sources[k] = "user's system description"
    out = SystemDescription(fields, sources=sources)
    out.refresh_to_fill()
    return out


def field_problems(fields: dict[str, Any], division: str | None = None, submitter: str | None = None,
                   round_name: str = rules.ROUND) -> list[tuple[str, str, str]]:
    """(level, field, message) for a system description against the rules of ``round_name``: missing fields,
    invalid status or system type, division/submitter mismatch, network mode, unknown fields (warning), empty
    values (a warning in v2.1; an error for the fields the current checkers require a meaningful response in),
    non-string values the results table quotes."""
    out: list[tuple[str, str, str]] = []
    network = _is_network(fields)
    if round_name == rules.ROUND:
        meaningful: frozenset[str] = frozenset()
        base, power = rules.SYSTEM_FIELDS_REQUIRED, rules.SYSTEM_FIELDS_POWER
    else:
        from podium.submission import rules_current as cur

        base, meaningful, power = cur.SYSTEM_FIELDS_REQUIRED, frozenset(cur.SYSTEM_FIELDS_MEANINGFUL), \
            cur.SYSTEM_FIELDS_POWER
    required = base + (rules.SYSTEM_FIELDS_NETWORK if network else ())
    for k in required:
        if k not in fields:
            out.append(("error", k, f"field {k} is missing"))
        elif k in meaningful and not fields[k]:  # the current checkers' test: 0 is no answer either
            out.append(("error", k, f"field {k} requires a meaningful response but is empty"))
        elif fields[k] in ("", None) and k not in FREE_TEXT:
            out.append(("warning", k, f"field {k} is empty: fill it before submitting"))
    known = set(required) | set(power)
    for k in fields:
        if k not in known:
            out.append(("warning", k, f"field {k} is unknown to the {round_name} rules"))
    status = str(fields.get("status", "")).lower()
    if "status" in fields and status not in rules.STATUSES:
        out.append(("error", "status", f"status {fields.get('status')!r}: expected one of "
                                       f"{', '.join(rules.STATUSES)}"))
    if "system_type" in fields and fields.get("system_type") not in rules.SYSTEM_TYPES:
        out.append(("error", "system_type", f"system_type {fields.get('system_type')!r}: expected one of "
                                            f"{', '.join(rules.SYSTEM_TYPES)}"))
    if submitter is not None and str(fields.get("submitter", "")).lower() != submitter.lower():
        out.append(("error", "submitter", f"submitter {fields.get('submitter')!r} differs from the folder "
                                          f"name {submitter!r}"))
    if division is not None:
        if fields.get("division") != division:
            out.append(("error", "division", f"division {fields.get('division')!r} differs from the folder "
                                             f"name {division!r}"))
        want = {"network": True, "closed": False}.get(division)
        if want is not None and want != network:
            out.append(("error", rules.IS_NETWORK, f"is_network is {str(network).lower()}, division {division} "
                                                   f"requires {str(want).lower()}"))
    for k in rules.SYSTEM_STRING_FIELDS:
        if k in fields and not isinstance(fields[k], str):
            out.append(("error", k, f"field {k} must be a string (the results table quotes it), got "
                                    f"{type(fields[k]).__name__}"))
    hpn = fields.get("host_processors_per_node")
    if hpn not in ("", None):
        try:
            int(hpn)
        except (TypeError, ValueError):
            out.append(("error", "host_processors_per_node", f"host_processors_per_node {hpn!r}: expected an "
                                                             "integer (the final report reads it as one)"))
    return out
