"""LoadGen settings files: mlperf.conf, user.conf and audit.config (spec loadgen.md §3.2, §3.3, §7).

The file format is the official one of round v2.1 (``TestSettings::FromConfig``): one ``KEY = VALUE`` per
line, tokens separated by whitespace, a ``#`` token starting a comment, ``KEY`` of the form
``model.scenario.name`` where ``model`` and ``scenario`` may be ``*``, and later duplicate keys overwriting
earlier ones.  A value for ``(model, scenario, name)`` is looked up in the order ``model.scenario.name`` >
``*.scenario.name`` > ``model.*.name`` > ``*.*.name``.

Podium reads exactly the files the official LoadGen reads, with the same meaning, but it is strict where the
official parser is silently wrong.  Each of the following raises :class:`~podium.errors.ConfigError` with a
one-line ``"<file>:<line>: <what was expected>"`` message, where the official parser ignores the line, reads
a different number than the user wrote, or only logs an error:

* ``k=v`` without spaces, a key without ``=`` or without a value, tokens after the value (the official parser
  reads ``k = 1 2`` as ``k = 2``), and a ``# comment`` after a value (the official parser rejects it too);
* a line whose first token starts with ``#`` but is not ``#`` (``#text``) is only treated as a comment when
  the official parser also ignores it (``#resnet50.Offline.target_qps = 10``, a lone ``####``); otherwise
  (``#some words``) the official parser rejects it, and so does podium;
* a value that is not a decimal integer, a ``0x`` hexadecimal integer or a decimal float.  Leading zeros
  are rejected because the official parser reads ``010`` as octal 8.  Hexadecimal IS accepted: the official
  integer (``strtoull`` base 0) and floating-point (``strtod``) conversions both read ``0x10`` as 16, and the
  official seeds are published in hexadecimal.  ``inf``/``nan`` and hexadecimal floats are rejected;
* a float such as ``15.5`` or ``1e3`` for an integer setting: the official parser truncates at the first
  non-digit (``15.5`` -> 15, ``1e3`` -> 1).  Podium never truncates; it asks for an integer literal.  This
  includes the Server ``target_latency``, which the official parser reads as whole milliseconds;
* a key that is not ``model.scenario.name``, an unknown scenario spelling (case matters: ``offline`` never
  matches), an unknown setting name, a benchmark name such as ``bert-99`` in the model position (podium's
  lookups use the mlperf.conf model name, ``bert``; only the drop-in ``FromConfig``, which matches the model
  verbatim as the official does, accepts it), and a scenario-specific name under a scenario that
  never reads it (``resnet50.Offline.target_latency``), except for the two such keys the official v2.1
  mlperf.conf itself contains (``target_duration`` anywhere, ``Offline.target_latency_percentile``), which
  are accepted and ignored exactly as the official LoadGen ignores them;
* values out of range: negative counts, booleans other than 0/1, mode codes other than 0..3, percentiles
  outside (0, 100], a log probability outside [0, 100], rates and latencies <= 0, integers >= 2**64.

One leniency: a UTF-8 byte-order mark at the start of a file is skipped (the official parser makes it part
of the first key, which then silently never matches).

Units follow the official reader: durations stay in ms (TestSettings holds ``min_duration_ms``), every
``target_latency`` is ms and becomes ns (x 1e6), percentiles and ``accuracy_log_probability`` are percents
(x 0.01, multiplied exactly as the official code does, not divided by 100), and ``mode`` is a code 0..3.

The official scenario quirk is kept: the SingleStream, MultiStream, Server and Offline settings
(``target_latency``, ``target_latency_percentile``, ``samples_per_query``, ``target_qps``,
``coalesce_queries``, ``max_async_queries``) are always looked up under their OWN scenario name, whatever
scenario the caller asked for, so one call fills all four scenarios' fields.  All other keys use the
caller's scenario.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import importlib.resources
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from podium.errors import ConfigError
from podium.loadgen import rules as _rules
from podium.loadgen.rules import RoundRules, round_rules
from podium.loadgen.settings import Scenario, TestMode, TestSettings

__all__ = [
    "IGNORED_KEY_NAMES",
    "KNOWN_KEY_NAMES",
    "MODEL_NAME_ALIASES",
    "ConfigEntries",
    "apply_config",
    "builtin_mlperf_conf_path",
    "conf_model_name",
    "load_settings",
    "parse_config_file",
    "parse_config_text",
    "settings_to_dict",
]

# Each round's rules name its shipped mlperf.conf (``RoundRules.mlperf_conf``); one source for file and round.

#: Benchmark names (as used in submissions and on podium's command line) -> the model name used in the keys
#: of mlperf.conf.  The official reference applications pass the base name ("bert" for bert-99 and
#: bert-99.9), so these are the names the per-model lines of mlperf.conf match.
MODEL_NAME_ALIASES: dict[str, str] = {
    "bert-99": "bert",
    "bert-99.9": "bert",
    "dlrm-99": "dlrm",
    "dlrm-99.9": "dlrm",
    "3d-unet-99": "3d-unet",
    "3d-unet-99.9": "3d-unet",
    "resnet": "resnet50",
}

_U64_LIMIT = 2**64
_I32_MAX = 2**31 - 1


class _Kind(enum.Enum):
    """How a value is checked and converted; the value is what the user is told was expected."""

    UINT = "a non-negative integer"
    POS_UINT = "a positive integer"
    INT32 = f"an integer from 0 to {_I32_MAX}"
    BOOL = "0 or 1"
    MODE = "a mode code: 0 (SubmissionRun), 1 (AccuracyOnly), 2 (PerformanceOnly) or 3 (FindPeakPerformance)"
    PERCENTILE = "a percentile in percent, greater than 0 and at most 100"
    PERCENT = "a percentage from 0 to 100"
    MS_FLOAT = "a latency in milliseconds greater than 0"
    MS_INT = "a whole number of milliseconds greater than 0"
    RATE = "a rate in queries per second greater than 0"


@dataclass(frozen=True)
class _Spec:
    """Where a setting goes in TestSettings and how its text is read."""

    field: str
    kind: _Kind
    #: 0 is accepted too (Server target_latency: LoadGen 6.0.x's token-latency models set it to 0)
    zero_ok: bool = False


# Keys the official FromConfig (v2.1) looks up with the CALLER's scenario.
_CALLER_SCENARIO_KEYS: dict[str, _Spec] = {
    "mode": _Spec("mode", _Kind.MODE),
    "min_duration": _Spec("min_duration_ms", _Kind.UINT),
    "max_duration": _Spec("max_duration_ms", _Kind.UINT),
    "min_query_count": _Spec("min_query_count", _Kind.UINT),
    "max_query_count": _Spec("max_query_count", _Kind.UINT),
    "qsl_rng_seed": _Spec("qsl_rng_seed", _Kind.UINT),
    "sample_index_rng_seed": _Spec("sample_index_rng_seed", _Kind.UINT),
    "schedule_rng_seed": _Spec("schedule_rng_seed", _Kind.UINT),
    "accuracy_log_rng_seed": _Spec("accuracy_log_rng_seed", _Kind.UINT),
    "accuracy_log_probability": _Spec("accuracy_log_probability", _Kind.PERCENT),
    "accuracy_log_sampling_target": _Spec("accuracy_log_sampling_target", _Kind.UINT),
    "print_timestamps": _Spec("print_timestamps", _Kind.BOOL),
    "performance_issue_unique": _Spec("performance_issue_unique", _Kind.BOOL),
    "performance_issue_same": _Spec("performance_issue_same", _Kind.BOOL),
    "performance_issue_same_index": _Spec("performance_issue_same_index", _Kind.UINT),
    "performance_sample_count_override": _Spec("performance_sample_count_override", _Kind.UINT),
    "sample_concatenate_permutation": _Spec("sample_concatenate_permutation", _Kind.BOOL),
    # LoadGen 6.0.x
    "accuracy_sample_count_override": _Spec("accuracy_sample_count_override", _Kind.UINT),
    "use_token_latencies": _Spec("use_token_latencies", _Kind.BOOL),
    "infer_token_latencies": _Spec("infer_token_latencies", _Kind.BOOL),
    "token_latency_scaling_factor": _Spec("token_latency_scaling_factor", _Kind.UINT),
    "test05": _Spec("test05", _Kind.BOOL),
    "test05_qsl_rng_seed": _Spec("test05_qsl_rng_seed", _Kind.UINT),
    "test05_sample_index_rng_seed": _Spec("test05_sample_index_rng_seed", _Kind.UINT),
    "test05_schedule_rng_seed": _Spec("test05_schedule_rng_seed", _Kind.UINT),
}

# Keys the official FromConfig (v2.1) looks up under a FIXED scenario name, whatever the caller's scenario.
_FIXED_SCENARIO_KEYS: dict[tuple[Scenario, str], _Spec] = {
    (Scenario.SingleStream, "target_latency_percentile"): _Spec("single_stream_target_latency_percentile",
                                                                _Kind.PERCENTILE),
    (Scenario.SingleStream, "target_latency"): _Spec("single_stream_expected_latency_ns", _Kind.MS_FLOAT),
    (Scenario.MultiStream, "target_latency_percentile"): _Spec("multi_stream_target_latency_percentile",
                                                               _Kind.PERCENTILE),
    (Scenario.MultiStream, "target_latency"): _Spec("multi_stream_expected_latency_ns", _Kind.MS_FLOAT),
    (Scenario.MultiStream, "samples_per_query"): _Spec("multi_stream_samples_per_query", _Kind.POS_UINT),
    (Scenario.Server, "target_latency_percentile"): _Spec("server_target_latency_percentile", _Kind.PERCENTILE),
    # The official reader converts this one with strtoull, i.e. whole milliseconds (see the module docstring).
    (Scenario.Server, "target_latency"): _Spec("server_target_latency_ns", _Kind.MS_INT, zero_ok=True),
    (Scenario.Server, "target_qps"): _Spec("server_target_qps", _Kind.RATE),
    (Scenario.Server, "coalesce_queries"): _Spec("server_coalesce_queries", _Kind.BOOL),
    # The official reader narrows this one to a C int.
    (Scenario.Server, "max_async_queries"): _Spec("server_max_async_queries", _Kind.INT32),
    (Scenario.Offline, "target_qps"): _Spec("offline_expected_qps", _Kind.RATE),
    # LoadGen 6.0.x: whole milliseconds (strtoull x 1e6), read only while use_token_latencies is on
    (Scenario.Server, "ttft_latency"): _Spec("server_ttft_latency", _Kind.MS_INT),
    (Scenario.Server, "tpot_latency"): _Spec("server_tpot_latency", _Kind.MS_INT),
}

#: Setting names only LoadGen 6.0.x reads (a v2.1 run refuses a file that sets them).
CURRENT_ONLY_KEY_NAMES: frozenset[str] = frozenset({
    "accuracy_sample_count_override", "use_token_latencies", "infer_token_latencies",
    "token_latency_scaling_factor", "test05", "test05_qsl_rng_seed", "test05_sample_index_rng_seed",
    "test05_schedule_rng_seed", "ttft_latency", "tpot_latency",
})
#: Names LoadGen 6.0.x reads only from its built-in mlperf.conf (conf_type 0), never from user.conf or
#: audit.config: a round's seeds and accuracy-log probability are not the user's to set.
BUILTIN_ONLY_KEY_NAMES: frozenset[str] = frozenset({
    "qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed", "accuracy_log_probability", "test05",
    "test05_qsl_rng_seed", "test05_sample_index_rng_seed", "test05_schedule_rng_seed",
})

#: Names the official v2.1 mlperf.conf contains but the official LoadGen never reads; podium accepts them in
#: any scenario and ignores them too.
IGNORED_KEY_NAMES: frozenset[str] = frozenset({"target_duration"})

# Scenario-specific names that the official v2.1 mlperf.conf sets for a scenario that never reads them
# ("*.Offline.target_latency_percentile = 90"); accepted there and ignored.
_IGNORED_SCENARIO_KEYS: frozenset[tuple[Scenario, str]] = frozenset({(Scenario.Offline, "target_latency_percentile")})

_FIXED_NAMES: frozenset[str] = frozenset(name for _, name in _FIXED_SCENARIO_KEYS)

#: Every setting name podium accepts in the ``name`` position of a key: the names the official v2.1
#: FromConfig reads, plus ``target_duration`` (present in the official mlperf.conf, ignored).
KNOWN_KEY_NAMES: frozenset[str] = frozenset(_CALLER_SCENARIO_KEYS) | _FIXED_NAMES | IGNORED_KEY_NAMES

_SCENARIO_TOKENS = ("*",) + tuple(s.value for s in Scenario)

# Podium's value grammar.  Integers: decimal without leading zeros, or 0x hexadecimal; floats: decimal with
# a '.', an exponent or both.
_INT_RE = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_HEX_RE = re.compile(r"0[xX][0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LEADING_ZERO_RE = re.compile(r"[+-]?0[0-9]")

# What the official parser accepts as a whole token (strtoul base 0, else strtod), to decide whether it
# ignores or rejects a '#text' line; and the prefix strtoull converts, to tell the user what it would read.
_OFFICIAL_UINT_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_OFFICIAL_DOUBLE_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)",
    re.IGNORECASE,
)
_OFFICIAL_UINT_PREFIX_RE = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?")

# The official parser splits lines with std::getline ('\n' only) and tokens with operator>> (C-locale
# isspace); str.split()/splitlines() would also split on Unicode separators and shift line numbers.
_WHITESPACE_RE = re.compile(r"[ \t\n\v\f\r]+")


class ConfigEntries(dict[str, str]):
    """The ``key -> value text`` pairs of one settings file, plus where each came from.

    A plain ``dict[str, str]`` for every purpose; ``source`` (the file name) and ``lines`` (key -> line number
    of the occurrence that counts) only make later error messages point at the line at fault.
    """

    def __init__(self, source: str = "") -> None:
        """An empty set of entries read from ``source``."""
        super().__init__()
        self.source: str = source
        self.lines: dict[str, int] = {}


class _Problem(Exception):
    """An entry is wrong; the message says what was expected and is prefixed with the location by the caller."""


# --------------------------------------------------------------------------------------------------- parsing


def parse_config_text(text: str, source: str, *, verbatim_model: bool = False) -> ConfigEntries:
    """Parse settings-file text into ``key -> value text`` (later duplicates overwrite earlier ones).

    ``source`` names the file in error messages.  Raises ``ConfigError("<source>:<line>: ...")`` for every
    line the official parser would ignore, misread or reject (see the module docstring).  With
    ``verbatim_model`` (the drop-in ``FromConfig``, which matches the model name as given, like the official)
    a benchmark name such as ``bert-99`` in the model position is accepted, since such a key can match there.
    A leading UTF-8 byte-order mark is skipped.
    """
    # Editors on Windows write a BOM; the official parser makes it part of the first key, which then never
    # matches, silently dropping the first line.  Podium reads the line.
    if text.startswith("\ufeff"):
        text = text[1:]
    entries = ConfigEntries(source)
    for line_nr, line in enumerate(text.split("\n"), start=1):
        tokens = [t for t in _WHITESPACE_RE.split(line) if t]
        if not tokens or tokens[0] == "#":
            continue
        shown = line.strip(" \t\n\v\f\r")
        if tokens[0].startswith("#"):
            if _official_ignores(tokens):
                # The official parser stores '#key' under a name no lookup ever asks for: a commented-out line.
                continue
            raise ConfigError(f"{source}:{line_nr}: expected a comment to start with '#' followed by a space "
                              f"(the official LoadGen reads {tokens[0]!r} as a key and rejects this line), "
                              f"got {shown!r}")
        try:
            key, value = _split_line(tokens, shown)
            _check_entry(key, value, verbatim_model=verbatim_model)
        except _Problem as exc:
            raise ConfigError(f"{source}:{line_nr}: {exc}") from None
        entries[key] = value
        entries.lines[key] = line_nr
    return entries


def parse_config_file(path: str | os.PathLike[str], *, verbatim_model: bool = False) -> ConfigEntries:
    """Read and parse a settings file; the path as given names it in error messages.

    A missing or unreadable file, or one that is not UTF-8 text, raises :class:`ConfigError` naming the path.
    A UTF-8 byte-order mark at the start is skipped.  ``verbatim_model``: see :func:`parse_config_text`.
    """
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{name}: settings file not found") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read settings file ({exc.strerror or exc})") from None
    try:
        # utf-8-sig: a leading byte-order mark is not part of the first key (see parse_config_text).
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_nr = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{name}:{line_nr}: expected UTF-8 text, got byte 0x{data[exc.start]:02x}") from None
    return parse_config_text(text, name, verbatim_model=verbatim_model)


def _split_line(tokens: list[str], shown: str) -> tuple[str, str]:
    """Return (key, value) of a ``KEY = VALUE`` line, or raise _Problem saying what is wrong with it."""
    if len(tokens) == 1:
        if "=" in tokens[0]:
            raise _Problem(f"expected 'key = value' with spaces around '=', got {shown!r} "
                           "(the official LoadGen silently ignores such a line)")
        raise _Problem(f"expected 'key = value', got only {shown!r} (the official LoadGen silently ignores it)")
    if tokens[1] != "=":
        raise _Problem(f"expected 'key = value' with spaces around '=', got {shown!r}")
    if len(tokens) == 2:
        raise _Problem(f"expected a value after '=' for {tokens[0]!r}, got {shown!r} "
                       "(the official LoadGen silently ignores such a line)")
    if len(tokens) > 3:
        if tokens[3].startswith("#"):
            raise _Problem(f"expected a comment on a line of its own, got {shown!r} "
                           "(the official LoadGen rejects a comment after a value)")
        raise _Problem(f"expected one value after '=', got {shown!r} "
                       f"(the official LoadGen would silently use {tokens[-1]!r})")
    return tokens[0], tokens[2]


def _official_ignores(tokens: list[str]) -> bool:
    """True when the official v2.1 parser reads this line without an error (the tokens' state machine)."""
    looking_for = 0  # 0 = key, 1 = '=', 2 = value (stays 2: every further token is another value)
    for tok in tokens:
        if tok == "#" and looking_for != 2:
            return True
        if looking_for == 2:
            if _OFFICIAL_UINT_RE.fullmatch(tok) or _OFFICIAL_DOUBLE_RE.fullmatch(tok):
                continue
            return False
        if looking_for == 1 and tok != "=":
            return False
        looking_for += 1
    return True


# ------------------------------------------------------------------------------------------------ validation


def conf_model_name(model: str) -> str:
    """The mlperf.conf model name for a benchmark or model name (``bert-99.9`` -> ``bert``; others as given)."""
    return MODEL_NAME_ALIASES.get(model, model)


def _split_key(key: str, verbatim_model: bool = False) -> tuple[str, str, str]:
    """Split and check ``model.scenario.name``; raise _Problem when it is malformed or unknown.

    A benchmark name in the model position is an error unless ``verbatim_model`` (then it can match)."""
    parts = key.split(".")
    if len(parts) < 3 or any(not p for p in parts):
        raise _Problem(f"expected a key of the form 'model.scenario.name', got {key!r}")
    # Split from the right: model names may contain dots ("bert-99.9"), scenario and name never do.
    model, scenario, name = ".".join(parts[:-2]), parts[-2], parts[-1]
    if "*" in model and model != "*":
        raise _Problem(f"expected a model name or '*' in {key!r}, got {model!r} "
                       "(only a lone '*' is a wildcard)")
    if model in MODEL_NAME_ALIASES and not verbatim_model:
        raise _Problem(f"expected the mlperf.conf model name {MODEL_NAME_ALIASES[model]!r} in {key!r}, "
                       f"got the benchmark name {model!r} (a key with it never matches)")
    if scenario not in _SCENARIO_TOKENS:
        hint = ""
        try:
            hint = f" (did you mean {Scenario.parse(scenario).value!r}? case matters)"
        except ValueError:
            pass
        raise _Problem(f"expected scenario '*', SingleStream, MultiStream, Server or Offline in {key!r}, "
                       f"got {scenario!r}{hint}")
    if name not in KNOWN_KEY_NAMES:
        close = difflib.get_close_matches(name, sorted(KNOWN_KEY_NAMES), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "known names: " + ", ".join(sorted(KNOWN_KEY_NAMES))
        raise _Problem(f"expected a known setting name in {key!r}, got {name!r} ({hint})")
    return model, scenario, name


def _readers(scenario: str, name: str, key: str) -> list[tuple[str, _Spec]]:
    """The (label, spec) pairs that read a key with this scenario part and name; [] when it is ignored."""
    if name in IGNORED_KEY_NAMES:
        return []
    if name in _CALLER_SCENARIO_KEYS:
        return [(name, _CALLER_SCENARIO_KEYS[name])]
    readers = [(f"{s.value}.{n}", spec) for (s, n), spec in _FIXED_SCENARIO_KEYS.items()
               if n == name and (scenario == "*" or s.value == scenario)]
    if not readers:
        if (Scenario(scenario), name) in _IGNORED_SCENARIO_KEYS:
            return []
        owners = ", ".join(s.value for (s, n) in _FIXED_SCENARIO_KEYS if n == name)
        raise _Problem(f"expected scenario {owners} or '*' for {name!r} in {key!r}, got {scenario!r} "
                       f"(the official LoadGen reads {name!r} only for {owners} and silently ignores this key)")
    return readers


def _check_entry(key: str, value: str, verbatim_model: bool = False) -> None:
    """Check one key and its value text against every setting that may read it; raise _Problem if wrong."""
    _, scenario, name = _split_key(key, verbatim_model)
    readers = _readers(scenario, name, key)
    number = _parse_number(value, key)
    for label, spec in readers:
        if spec.zero_ok and number == 0:
            continue
        _convert(spec.kind, number, value, repr(key) if len(readers) == 1 else f"{key!r} (read as {label})")


def _parse_number(text: str, key: str) -> int | float:
    """Read podium's value grammar: an ``int`` for integer literals, a ``float`` for float literals."""
    if _HEX_RE.fullmatch(text):
        return int(text, 16)
    stripped = text.lstrip("+-").lstrip("0") or "0"
    if _LEADING_ZERO_RE.match(text) and (_INT_RE.fullmatch(stripped) or _FLOAT_RE.fullmatch(stripped)):
        raise _Problem(f"expected a number without leading zeros for {key!r}, got {text!r} (the official "
                       f"LoadGen reads a leading 0 as octal and would read {_official_uint(text)} for an "
                       "integer setting)")
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            raise _Problem(f"expected a finite number for {key!r}, got {text!r}")
        return value
    raise _Problem(f"expected a decimal integer, a 0x hexadecimal integer or a decimal float for {key!r}, "
                   f"got {text!r}")


def _official_uint(text: str) -> int:
    """What the official ``strtoull(text, nullptr, 0)`` returns (used in hints only)."""
    m = _OFFICIAL_UINT_PREFIX_RE.match(text)
    assert m is not None  # the pattern can match the empty prefix
    sign, digits = m.group(1), m.group(2)
    if not digits:
        return 0
    if digits[:2].lower() == "0x":
        value = int(digits[2:], 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    if value >= _U64_LIMIT:
        return _U64_LIMIT - 1
    return (-value) % _U64_LIMIT if sign == "-" else value


def _convert(kind: _Kind, number: int | float, text: str, what: str) -> Any:
    """Convert a parsed number to the TestSettings value of ``kind`` (official units); raise _Problem if out
    of range.  ``what`` names the key in messages (already quoted)."""
    expected = f"expected {kind.value} for {what}, got {text!r}"
    if kind in (_Kind.UINT, _Kind.POS_UINT, _Kind.INT32, _Kind.BOOL, _Kind.MODE, _Kind.MS_INT):
        if not isinstance(number, int):
            # The official strtoull stops at the first non-digit: "15.5" -> 15, "1e3" -> 1.
            raise _Problem(f"{expected} (the official LoadGen would silently read it as {_official_uint(text)})")
        if kind is _Kind.BOOL:
            if number not in (0, 1):
                raise _Problem(expected)
            return bool(number)
        if kind is _Kind.MODE:
            if not 0 <= number <= 3:
                raise _Problem(expected)
            return TestMode.from_code(number)
        low = 0 if kind in (_Kind.UINT, _Kind.INT32) else 1
        high = _I32_MAX if kind is _Kind.INT32 else _U64_LIMIT - 1
        if kind is _Kind.MS_INT:
            high = (_U64_LIMIT - 1) // 1_000_000  # the ns value must still fit the official uint64
        if not low <= number <= high:
            raise _Problem(expected)
        return number * 1_000_000 if kind is _Kind.MS_INT else number
    value = float(number)
    if kind is _Kind.PERCENTILE:
        if not 0.0 < value <= 100.0:
            raise _Problem(expected)
        return value * 0.01  # the official multiplies by 0.01; value / 100 can differ in the last bit
    if kind is _Kind.PERCENT:
        if not 0.0 <= value <= 100.0:
            raise _Problem(expected)
        return value * 0.01
    if kind is _Kind.MS_FLOAT:
        if not value > 0.0:
            raise _Problem(expected)
        return value * 1e6
    if kind is _Kind.RATE:
        if not value > 0.0:
            raise _Problem(expected)
        return value
    raise AssertionError(f"unhandled kind {kind}")  # pragma: no cover


# ------------------------------------------------------------------------------------------------- applying


def _as_scenario(scenario: Scenario | str) -> Scenario:
    """A Scenario from an enum member or its name (lenient spelling, as the CLI accepts it)."""
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return Scenario.parse(scenario)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _lookup(entries: Mapping[str, str], model: str, scenario: str, name: str) -> str | None:
    """The key that supplies (model, scenario, name), by the official precedence, or None."""
    for key in (f"{model}.{scenario}.{name}", f"*.{scenario}.{name}", f"{model}.*.{name}", f"*.*.{name}"):
        if key in entries:
            return key
    return None


def apply_config(settings: TestSettings, entries: Mapping[str, str], model: str, scenario: Scenario | str,
                 source: str = "", *, verbatim_model: bool = False, round: RoundRules | str | None = None,
                 conf_type: int = 0) -> TestSettings:
    """Return a copy of ``settings`` with every setting that ``entries`` supplies for (model, scenario).

    This is the official ``FromConfig`` minus the file reading: the caller-scenario keys are looked up under
    ``scenario``, the scenario-specific keys under their own scenario (spec §3.2), each by the precedence
    ``model.scenario.name`` > ``*.scenario.name`` > ``model.*.name`` > ``*.*.name``, and converted to
    TestSettings units.  Settings not supplied keep their value; ``settings.scenario`` is not changed (as
    FromConfig does not).  ``model`` may be a benchmark name (see :data:`MODEL_NAME_ALIASES`) or ``*``.

    ``verbatim_model=True`` is the official ``FromConfig`` exactly (the drop-in ``podium.mlperf_loadgen``
    uses it): ``model`` is matched as given, so ``bert-99`` matches ``bert-99.*`` keys and never ``bert.*``
    ones, and keys naming a benchmark are accepted.  The default maps a benchmark name to its mlperf.conf
    model name first (``bert-99`` -> ``bert``), which is podium's own settings builder's convenience.

    Every entry is checked, used or not, so a hand-built dict gets the same checks as a parsed file; errors
    name ``source`` (default: the entries' own source) and the key, and the line when the entries carry it.

    ``round`` (default: the default round) decides which keys exist: a v2.1 round refuses the keys LoadGen
    6.0.x added. ``conf_type`` is the official ``FromConfig``'s: 0 for the round's mlperf.conf, 1 for user.conf,
    2 for audit.config; in LoadGen 6.0.x the seeds, ``accuracy_log_probability`` and the test05 keys come only
    from conf_type 0, so such a key in another file is an error here (the official silently ignores it). As the
    official, ``ttft_latency``/``tpot_latency`` apply only while ``use_token_latencies`` is on and
    ``token_latency_scaling_factor`` only while ``infer_token_latencies`` is.
    """
    rules = round_rules(round if round is not None else _rules.current_round())
    if not verbatim_model:
        model = conf_model_name(model)
    scen = _as_scenario(scenario)
    src = source or getattr(entries, "source", "") or "<settings>"
    lines: Mapping[str, int] = getattr(entries, "lines", {})

    def where(key: str) -> str:
        """``source:line`` of a key when known, else ``source``."""
        return f"{src}:{lines[key]}" if key in lines else src

    for key, value in entries.items():
        try:
            _check_entry(key, value, verbatim_model)
        except _Problem as exc:
            raise ConfigError(f"{where(key)}: {exc}") from None
        name = key.rsplit(".", 1)[-1]
        if not rules.current and name in CURRENT_ONLY_KEY_NAMES:
            raise ConfigError(f"{where(key)}: {key!r} is a LoadGen 6.0.x setting; round {rules.name}'s LoadGen "
                              "has no such key (choose round v6.0 or later, or remove the line)")
        if rules.current and conf_type != 0 and name in BUILTIN_ONLY_KEY_NAMES:
            raise ConfigError(f"{where(key)}: {key!r} can only come from round {rules.name}'s built-in "
                              "mlperf.conf (LoadGen 6.0.x ignores it in user.conf and audit.config); remove the "
                              "line")

    changes: dict[str, Any] = {}
    lookups = [(scen.value, name, spec) for name, spec in _CALLER_SCENARIO_KEYS.items()]
    lookups += [(s.value, name, spec) for (s, name), spec in _FIXED_SCENARIO_KEYS.items()]
    for scenario_name, name, spec in lookups:
        found = _lookup(entries, model, scenario_name, name)
        if found is None:
            continue
        key = found
        text = entries[key]
        try:
            number = _parse_number(text, key)
            changes[spec.field] = 0 if spec.zero_ok and number == 0 else _convert(spec.kind, number, text,
                                                                                  repr(key))
        except _Problem as exc:  # pragma: no cover - _check_entry above already checked every reader
            raise ConfigError(f"{where(key)}: {exc}") from None
    # The official reads the token bounds only while token latencies are on, and the scaling factor only
    # while inferred token rates are (the switch as it stands after this file's own value).
    if not changes.get("use_token_latencies", settings.use_token_latencies):
        changes.pop("server_ttft_latency", None)
        changes.pop("server_tpot_latency", None)
    if not changes.get("infer_token_latencies", settings.infer_token_latencies):
        changes.pop("token_latency_scaling_factor", None)
    return settings.copy(**changes)


def builtin_mlperf_conf_path(round: RoundRules | str | None = None) -> Path:
    """Path of a round's official mlperf.conf shipped inside the podium package (default: the default round's)."""
    rules = round_rules(round if round is not None else _rules.current_round())
    return Path(str(importlib.resources.files("podium.loadgen").joinpath(rules.mlperf_conf)))


def builtin_mlperf_conf_text(round: RoundRules | str | None = None) -> str:
    """A round's built-in mlperf.conf text (what the official package compiles in)."""
    rules = round_rules(round if round is not None else _rules.current_round())
    return importlib.resources.files("podium.loadgen").joinpath(rules.mlperf_conf).read_text(encoding="utf-8")


def _builtin_entries(round: RoundRules | str | None = None) -> ConfigEntries:
    """The parsed built-in mlperf.conf of a round."""
    return parse_config_text(builtin_mlperf_conf_text(round), str(builtin_mlperf_conf_path(round)))


def _check_audit_keys(entries: ConfigEntries) -> None:
    """Reject audit.config keys naming a model: the official reads audit.config with model '*', so they
    would never apply."""
    for key in entries:
        model, scenario, name = _split_key(key)
        if model != "*":
            raise ConfigError(f"{entries.source}:{entries.lines.get(key, 0)}: expected model '*' in {key!r} "
                              f"(the official LoadGen reads audit.config with model '*', so this key never "
                              f"applies; write '*.{scenario}.{name}')")


def load_settings(model: str, scenario: Scenario | str,
                  mlperf_conf: str | os.PathLike[str] | ConfigEntries | None = None,
                  user_conf: str | os.PathLike[str] | ConfigEntries | None = None,
                  audit_config: str | os.PathLike[str] | None = None,
                  base: TestSettings | None = None, round: RoundRules | str | None = None) -> TestSettings:
    """The TestSettings of a run, built the way the official reference applications and StartTest do.

    Starting from ``base`` (default: ``TestSettings()``) with ``scenario`` set, apply ``mlperf_conf`` (the
    built-in v2.1 mlperf.conf when None), then ``user_conf`` over it, then ``audit_config`` over both, the
    latter read with model ``*`` as the official StartTest does.  Each file only overrides the settings it
    supplies.  ``model`` is the mlperf.conf model name (``resnet50``, ``bert``, ...) or a benchmark name in
    :data:`MODEL_NAME_ALIASES`.  The official LoadGen looks for ``audit.config`` in the working directory by
    itself; podium only reads one when its path is given. ``mlperf_conf``/``user_conf`` may also be entries
    a caller already parsed (``parse_config_file``), so a file is read once.

    ``round`` (default: the default round) picks the built-in mlperf.conf and the keys each file may set
    (see :func:`apply_config`: in LoadGen 6.0.x rounds user.conf and audit.config cannot set the seeds).
    """
    rules = round_rules(round if round is not None else _rules.current_round())
    scen = _as_scenario(scenario)
    conf_model = conf_model_name(model)
    settings = (base if base is not None else TestSettings()).copy(scenario=scen)
    entries = _builtin_entries(rules) if mlperf_conf is None else _entries(mlperf_conf)
    settings = apply_config(settings, entries, conf_model, scen, round=rules, conf_type=0)
    if user_conf is not None:
        settings = apply_config(settings, _entries(user_conf), conf_model, scen, round=rules, conf_type=1)
    if audit_config is not None:
        audit = parse_config_file(audit_config)
        _check_audit_keys(audit)
        settings = apply_config(settings, audit, "*", scen, round=rules, conf_type=2)
    return settings


def _entries(conf: str | os.PathLike[str] | ConfigEntries) -> ConfigEntries:
    return conf if isinstance(conf, ConfigEntries) else parse_config_file(conf)


def settings_to_dict(settings: Any) -> dict[str, Any]:
    """A JSON-friendly dict of a settings dataclass (TestSettings, LogSettings, RunOptions): field name ->
    value, enums as their values."""
    if not dataclasses.is_dataclass(settings) or isinstance(settings, type):
        raise TypeError(f"expected a settings dataclass instance, got {type(settings).__name__}")
    return {f.name: _jsonable(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def _jsonable(value: Any) -> Any:
    """Enums to their values, containers to lists/dicts, everything else unchanged."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value
