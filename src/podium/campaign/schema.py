"""The campaign file's schema: YAML composed into nodes (so every value keeps its line), checked by small
hand-written rules (no pydantic: it is not a core dependency), turned into ``podium.campaign.model``.

Every mistake is one line, ``campaign.yaml:14: runs[1].scenario: expected one of ..., got 'offline2'``; all
of them are collected and raised together as one ``CampaignError``. Unknown keys are errors with a
did-you-mean. Relative paths are relative to the campaign file's folder.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from podium.campaign.model import MODES, SCENARIOS, BackendSpec, Campaign, RunSettings, RunSpec, SystemSpec, safe_id
from podium.campaign.rounds import DEFAULT as DEFAULT_ROUND
from podium.campaign.rounds import ROUNDS
from podium.errors import PodiumError

DIVISIONS = ("closed", "open", "network")
CATEGORIES = ("datacenter", "edge")
STATUSES = ("available", "preview", "rdi")

TOP_KEYS = ("round", "division", "category", "submitter", "system", "output", "settings", "modes", "power",
            "runs", "measurements")
SYSTEM_KEYS = ("name", "description", "status")
RUN_KEYS = ("benchmark", "scenario", "scenarios", "backend", "backend_options", "backends", "settings", "modes",
            "power", "model_path", "data_dir")
BACKEND_KEYS = ("backend", "options", "name")
#: setting -> (kind, what it must be)
SETTING_KINDS: dict[str, str] = {
    "duration": "positive", "full": "bool", "query_count": "count", "target_qps": "positive",
    "expected_qps": "positive", "expected_latency_ms": "positive", "latency_bound_ms": "positive",
    "find_peak": "bool", "batch_size": "count", "max_wait_us": "count", "workers": "count",
    "completion_timeout": "positive", "synthetic": "bool"}


class CampaignError(PodiumError):
    """A campaign file with mistakes; ``problems`` holds one line per mistake (file:line: field: message)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Checker:
    """Collects one line per mistake while the nodes are read."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[str] = []
        self._construct = SafeConstructor()

    def error(self, node: Node, path: str, message: str) -> None:
        self.problems.append(f"{self.filename}:{node.start_mark.line + 1}: {path}: {message}")

    def value(self, node: Node) -> Any:
        return self._construct.construct_object(node, deep=True)

    def mapping(self, node: Node, path: str, known: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, tuple[Node, Node]] | None:
        if not isinstance(node, MappingNode):
            self.error(node, path or "(file)", f"expected a mapping of {', '.join(known)}, got {_kind(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in node.value:
            key = str(knode.value) if isinstance(knode, ScalarNode) else "?"
            kpath = f"{path}.{key}" if path else key
            if key not in known:
                guess = difflib.get_close_matches(key, known, 1, 0.6)
                hint = f"did you mean {guess[0]!r}? " if guess else ""
                self.error(knode, kpath, f"unknown key; {hint}expected one of {', '.join(known)}")
                continue
            if key in out:
                self.error(knode, kpath, "given twice")
                continue
            out[key] = (knode, vnode)
        for key in required:
            if key not in out:
                self.error(node, f"{path}.{key}" if path else key, "missing (required)")
        return out

    def string(self, node: Node, path: str) -> str | None:
        v = self.value(node) if isinstance(node, ScalarNode) else None
        if not isinstance(v, str) or not v.strip():
            self.error(node, path, f"expected a text value, got {_shown(node, v)}")
            return None
        return v.strip()

    def name(self, node: Node, path: str) -> str | None:
        v = self.string(node, path)
        if v is not None and safe_id(v) != v:
            self.error(node, path, f"expected letters, digits, '.', '_' or '-' only (it names a folder), got {v!r}")
            return None
        return v

    def choice(self, node: Node, path: str, choices: tuple[str, ...], fold: bool = True) -> str | None:
        v = self.value(node) if isinstance(node, ScalarNode) else None
        if isinstance(v, str):
            for c in choices:
                if v == c or (fold and v.lower() == c.lower()):
                    return c
        self.error(node, path, f"expected one of {', '.join(choices)}, got {_shown(node, v)}")
        return None

    def setting(self, node: Node, path: str, kind: str) -> Any:
        v = self.value(node) if isinstance(node, ScalarNode) else None
        if kind == "bool":
            if isinstance(v, bool):
                return v
            self.error(node, path, f"expected true or false, got {_shown(node, v)}")
        elif kind == "count":
            if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
                return v
            self.error(node, path, f"expected an integer >= 1, got {_shown(node, v)}")
        else:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                return float(v)
            self.error(node, path, f"expected a positive number, got {_shown(node, v)}")
        return None

    def sequence(self, node: Node, path: str, allow_scalar: bool = True) -> list[Node]:
        if isinstance(node, SequenceNode):
            if not node.value:
                self.error(node, path, "expected at least one item, got an empty list")
            return list(node.value)
        if allow_scalar and isinstance(node, ScalarNode):
            return [node]
        self.error(node, path, f"expected a list, got {_kind(node)}")
        return []


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    return "a list" if isinstance(node, SequenceNode) else "a value"


def _shown(node: Node, v: Any) -> str:
    if isinstance(node, MappingNode | SequenceNode):
        return _kind(node)
    return "nothing" if v is None else repr(v)


def load_campaign(path: str | Path) -> Campaign:
    """Read and check the campaign file ``path``; raises ``CampaignError`` listing every mistake."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PodiumError(f"{p}: cannot read the campaign file ({exc.strerror or exc})") from None
    return parse_campaign(text, p)


def parse_campaign(text: str, path: Path) -> Campaign:
    """Check the YAML ``text`` of the campaign file ``path`` (see ``load_campaign``)."""
    ck = _Checker(path.name)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CampaignError([f"{path.name}:{line}(file): not valid YAML: {problem}"]) from None
    if root is None:
        raise CampaignError([f"{path.name}:1: (file): empty; expected a campaign (system, division, category, "
                             "submitter, runs)"])
    base = path.parent
    top = ck.mapping(root, "", TOP_KEYS, required=("system", "division", "category", "submitter", "runs"))
    if top is None:
        raise CampaignError(ck.problems)

    def get(key: str, fn: Callable[[Node, str], Any], default: Any = None) -> Any:
        return fn(top[key][1], key) if key in top else default

    round_name = get("round", lambda n, p: ck.choice(n, p, tuple(ROUNDS), fold=False), DEFAULT_ROUND)
    division = get("division", lambda n, p: ck.choice(n, p, DIVISIONS))
    category = get("category", lambda n, p: ck.choice(n, p, CATEGORIES))
    submitter = get("submitter", ck.name)
    system = get("system", lambda n, p: _system(ck, n, p, base))
    output = get("output", ck.string)
    measurements = get("measurements", ck.string)
    settings = get("settings", lambda n, p: _settings(ck, n, p), {})
    modes = get("modes", lambda n, p: _modes(ck, n, p), ("performance", "accuracy"))
    power = get("power", lambda n, p: None if ck.value(n) is None else ck.string(n, p))
    runs: list[RunSpec] = []
    if "runs" in top:
        node = top["runs"][1]
        seen: dict[str, str] = {}
        for i, item in enumerate(ck.sequence(node, "runs", allow_scalar=False)):
            for spec in _run_entry(ck, item, f"runs[{i}]", settings, modes, power, base):
                first = seen.get(spec.run_id)
                if first is not None:
                    ck.error(item, f"runs[{i}]", f"run {spec.run_id} is already in the matrix ({first}); give "
                             "each backend setting a different name")
                    continue
                seen[spec.run_id] = f"{path.name}:{item.start_mark.line + 1}"
                runs.append(spec)
    if ck.problems:
        raise CampaignError(ck.problems)
    out = Path(output).expanduser() if output else Path(f"{path.stem}-campaign")
    return Campaign(path=path, system=system, division=division, category=category, round=round_name,
                    submitter=submitter, output=out if out.is_absolute() else (base / out).resolve(), runs=runs,
                    measurements=_resolve(measurements, base))


def _resolve(value: str | None, base: Path) -> str | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _system(ck: _Checker, node: Node, path: str, base: Path) -> SystemSpec | None:
    if isinstance(node, ScalarNode):
        name = ck.name(node, path)
        return SystemSpec(name) if name else None
    m = ck.mapping(node, path, SYSTEM_KEYS, required=("name",))
    if m is None or "name" not in m:
        return None
    name = ck.name(m["name"][1], f"{path}.name")
    desc = ck.string(m["description"][1], f"{path}.description") if "description" in m else None
    status = ck.choice(m["status"][1], f"{path}.status", STATUSES) if "status" in m else None
    return SystemSpec(name, _resolve(desc, base), status) if name else None


def _settings(ck: _Checker, node: Node, path: str) -> dict[str, Any]:
    m = ck.mapping(node, path, tuple(SETTING_KINDS))
    out: dict[str, Any] = {}
    for key, (_, vnode) in (m or {}).items():
        v = ck.setting(vnode, f"{path}.{key}", SETTING_KINDS[key])
        if v is not None:
            out[key] = v
    if out.get("full") and "duration" in out:
        ck.error(m["duration"][1] if m else node, f"{path}.duration",  # type: ignore[index]
                 "a full run takes the settings files' durations; give duration or full: true, not both")
    return out


def _modes(ck: _Checker, node: Node, path: str) -> tuple[str, ...]:
    out: list[str] = []
    items = ck.sequence(node, path)
    for j, item in enumerate(items):
        m = ck.choice(item, f"{path}[{j}]" if isinstance(node, SequenceNode) else path, MODES)
        if m and m not in out:
            out.append(m)
    if "compliance" in out and not {"performance", "accuracy"} <= set(out):
        ck.error(node, path, "compliance is compared with the run's performance and accuracy logs; add "
                 "performance and accuracy")
    return tuple(m for m in MODES if m in out)


def _backends(ck: _Checker, m: dict[str, tuple[Node, Node]], path: str) -> list[BackendSpec]:
    if "backends" in m:
        if "backend" in m or "backend_options" in m:
            ck.error(m["backends"][0], f"{path}.backends", "give backends (a list), or backend and "
                     "backend_options, not both")
        out = []
        for j, item in enumerate(ck.sequence(m["backends"][1], f"{path}.backends", allow_scalar=False)):
            bp = f"{path}.backends[{j}]"
            if isinstance(item, ScalarNode):
                name = ck.string(item, bp)
                if name:
                    out.append(BackendSpec(name))
                continue
            bm = ck.mapping(item, bp, BACKEND_KEYS, required=("backend",))
            if bm is None or "backend" not in bm:
                continue
            backend = ck.string(bm["backend"][1], f"{bp}.backend")
            options = _options(ck, bm["options"][1], f"{bp}.options") if "options" in bm else {}
            name = ck.name(bm["name"][1], f"{bp}.name") if "name" in bm else None
            if backend:
                out.append(BackendSpec(backend, options, name))
        return out
    backend = ck.string(m["backend"][1], f"{path}.backend") if "backend" in m else "onnxruntime"
    options = _options(ck, m["backend_options"][1], f"{path}.backend_options") if "backend_options" in m else {}
    return [BackendSpec(backend or "onnxruntime", options)]


def _options(ck: _Checker, node: Node, path: str) -> dict[str, Any]:
    if not isinstance(node, MappingNode):
        ck.error(node, path, f"expected a mapping of option: value, got {_kind(node)}")
        return {}
    out: dict[str, Any] = {}
    for knode, vnode in node.value:
        v = ck.value(vnode)
        if isinstance(v, (dict, list)) or v is None:
            ck.error(vnode, f"{path}.{knode.value}", f"expected a number, text or true/false, got {_shown(vnode, v)}")
            continue
        out[str(knode.value)] = v
    return out


def _run_entry(ck: _Checker, node: Node, path: str, top_settings: dict[str, Any], top_modes: tuple[str, ...],
               top_power: str | None, base: Path) -> list[RunSpec]:
    m = ck.mapping(node, path, RUN_KEYS, required=("benchmark",))
    if m is None or "benchmark" not in m:
        return []
    bench = ck.string(m["benchmark"][1], f"{path}.benchmark")
    if bench is not None:
        from podium.benchmarks import get_benchmark

        try:
            get_benchmark(bench)
        except PodiumError as exc:
            ck.error(m["benchmark"][1], f"{path}.benchmark", str(exc).removeprefix(f"benchmark {bench!r}: "))
            bench = None
    scenarios: list[str] = []
    if "scenario" in m and "scenarios" in m:
        ck.error(m["scenarios"][0], f"{path}.scenarios", "give scenario or scenarios, not both")
    elif "scenario" in m:
        s = ck.choice(m["scenario"][1], f"{path}.scenario", SCENARIOS)
        scenarios = [s] if s else []
    elif "scenarios" in m:
        node_s = m["scenarios"][1]
        for j, item in enumerate(ck.sequence(node_s, f"{path}.scenarios")):
            s = ck.choice(item, f"{path}.scenarios[{j}]", SCENARIOS)
            if s and s not in scenarios:
                scenarios.append(s)
    else:
        ck.error(node, f"{path}.scenario", "missing (required: scenario or scenarios)")
    backends = _backends(ck, m, path)
    merged = dict(top_settings)
    if "settings" in m:
        own = _settings(ck, m["settings"][1], f"{path}.settings")
        if "full" in own and "duration" not in own:
            merged.pop("duration", None)  # the entry's own full: true replaces the campaign's short duration
        if "duration" in own:
            merged.pop("full", None)
        merged.update(own)
    settings = RunSettings(**merged)
    modes = _modes(ck, m["modes"][1], f"{path}.modes") if "modes" in m else top_modes
    power = top_power
    if "power" in m:
        power = None if ck.value(m["power"][1]) is None else ck.string(m["power"][1], f"{path}.power")
    model_path = _resolve(ck.string(m["model_path"][1], f"{path}.model_path"), base) if "model_path" in m else None
    data_dir = _resolve(ck.string(m["data_dir"][1], f"{path}.data_dir"), base) if "data_dir" in m else None
    if bench is None:
        return []
    where = f"{ck.filename}:{node.start_mark.line + 1}"
    return [RunSpec(bench, s, b, settings, modes, model_path, data_dir, power, where)
            for s in scenarios for b in backends]
