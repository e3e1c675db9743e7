"""Drop-in replacement for the official ``mlperf_loadgen`` Python binding, on podium's LoadGen.

The binding follows a round: ``v6.1`` or ``v6.0`` (the official LoadGen 6.0.17 binding, PyPI
``mlcommons-loadgen``) or ``v2.1`` (the round-v2.1 binding). The round is the one named by the environment
variable ``PODIUM_ROUND`` when the module is used (default: the newest, as installing the newest official
package would give), or the one set by ``SetRound("v2.1")`` (podium's, called before ``StartTest``). In a
6.0 round the module has the 6.0.17 names and behaviour: every ``TestSettings`` field (token latencies,
``accuracy_sample_count_override``, TEST05 seeds), ``FirstTokenComplete``, ``QuerySampleResponse(id, data,
size, n_tokens)``, ``ConstructQDL``/``DestroyQDL``, ``FromConfig(path, model, scenario, conf_type=1)`` with the
round's built-in mlperf.conf; in v2.1 those 6.0-only names do not exist (``AttributeError``), as with the v2.1
binding.

A harness written against the official binding runs unchanged after ``import podium.mlperf_loadgen as lg``::

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.FromConfig("mlperf.conf", "resnet50", "Offline")
    sut = lg.ConstructSUT(issue_queries, flush_queries)        # issue_queries(list[QuerySample])
    qsl = lg.ConstructQSL(total, perf, load_samples, unload_samples)
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
    ...  # from any thread, while the test runs:
    lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, ptr, nbytes)])

Names, defaults, enum values and call semantics follow the official v2.1 binding (spec loadgen.md §1, §3):

* ``ConstructSUT``/``ConstructFastSUT``/``ConstructQSL`` return integer handles, as the official returns
  pointers; the SUT is named "PySUT" (fast: "PyFastSUT") and the QSL "PyQSL" in the logs.
* ``QuerySampleResponse(id, data, size)``: ``data`` is a raw host address (``array.buffer_info()[0]``,
  ``ndarray.ctypes.data``). The bytes are read, with ctypes, only for samples that are accuracy-logged, and
  only during the ``QuerySamplesComplete`` call, as the official does; ``response_cb`` is called (with a
  copy of the response, which it may point at host memory) just before those bytes are read.
* ``TestSettings.FromConfig`` reads the file with podium's strict parser (``podium.loadgen.config``):
  0 on success, ``-ENOENT`` when the file cannot be opened, ``-EINVAL`` for any malformed entry (the
  one-line ``file:line: ...`` reason is printed to stderr); the settings are left untouched on error.
  In a 6.0 round, as 6.0.17: ``conf_type=1`` (user.conf) first applies the round's built-in mlperf.conf on
  the process's first such call (a later one is "Multiple conf files are used", printed to stderr and logged
  as ``error_invalid_config`` by the next ``StartTest``), ``conf_type=0`` applies the built-in conf only (the
  path is not read), and a user.conf may not set the seeds or ``accuracy_log_probability``.
  ``model`` is matched verbatim, as the official does: ``bert-99`` reads ``bert-99.*`` keys, never ``bert.*``
  ones (podium's own settings builder maps benchmark names; the drop-in does not).
* Attribute assignments are type-checked as pybind11 checks them (a float for an integer field, an int for
  an enum field, or a misspelt attribute name raise ``TypeError``/``AttributeError``).

Deliberate differences from the official binding:

* ``FromConfig`` is podium-strict: lines the official parser silently ignores or misreads are errors
  (``-EINVAL``), and the scenario must be spelt exactly ``SingleStream``, ``MultiStream``, ``Server`` or
  ``Offline`` (the official silently skips every scenario-specific key for another spelling).
  In round v2.1, ``conf_type`` (a later binding's 4th argument) is accepted and ignored.
  A UTF-8 byte-order mark at the start of the file is skipped (the official makes it part of the first
  key, which then silently never matches).
* ``StartTest`` does not raise for podium's user errors (``PodiumError``): the message is printed to stderr
  and the call returns, as the official prints and returns when it cannot open its logs.
* An exception raised by ``response_cb``, or a response with a null ``data`` and a non-zero ``size`` that
  is accuracy-logged (the official would crash), completes the samples of the call normally, logs empty data
  for that sample, and is raised from ``QuerySamplesComplete`` once the call has been recorded.
* A response ``size`` is taken in full (a size_t, as the official), but one larger than the machine's
  physical memory is refused like a null ``data``: empty data is logged and a ``ValueError`` naming the
  size is raised from ``QuerySamplesComplete`` (the official would read past the buffer and crash).
* ``QuerySamplesComplete`` with no test running is ignored (a warning on stderr) instead of crashing.
* ``AbortTest`` (not in the official v2.1 Python binding; in its C++ API) is provided and stops issuing
  in the running test (``podium.loadgen.abort_test``).
* Only one ``StartTest`` may run at a time in a process (the official LoadGen is a singleton too);
  a second concurrent call raises ``RuntimeError``.
* Extras of later official bindings that are harmless in v2.1 terms: the ``TestSettings`` fields
  ``sample_concatenate_permutation``, ``accuracy_log_sampling_target``, ``server_num_issue_query_threads``
  and the ``n_tokens`` field / 4-argument constructor of ``QuerySampleResponse`` (stored, unused in v2.1).
* ``server_num_issue_query_threads`` > 0 (6.0 rounds): Python cannot register issue threads, so the official
  waits 10 s, logs the thread-count mismatch and, in Server, then waits forever; podium logs the same error at
  once and issues from its own thread.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import numbers
import operator
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from podium.errors import ConfigError, PodiumError
from podium.loadgen import config as _config
from podium.loadgen import rules as _rules
from podium.loadgen import run as _run
from podium.loadgen import session as _session
from podium.loadgen import settings as _ps
from podium.loadgen.types import SimpleQSL as _SimpleQSL

__all__ = [
    "AbortTest",
    "ConstructFastSUT",
    "ConstructQSL",
    "ConstructSUT",
    "DestroyFastSUT",
    "DestroyQSL",
    "DestroySUT",
    "LogOutputSettings",
    "LogSettings",
    "LoggingMode",
    "QuerySample",
    "QuerySampleResponse",
    "QuerySamplesComplete",
    "SetRound",
    "StartTest",
    "StartTestWithLogSettings",
    "TestMode",
    "TestScenario",
    "TestSettings",
    "VectorQuerySample",
    "VectorQuerySampleResponse",
]

# ----------------------------------------------------------------------------------------- private hooks
#: Tests set this to a zero-argument callable returning a ``podium.loadgen.clock`` Clock (e.g. ``SimClock``);
#: None uses the engine's real clock.
_clock_factory: Callable[[], Any] | None = None
#: Podium-only run options (``podium.loadgen.RunOptions``) for every StartTest; None uses the defaults.
_run_options: _ps.RunOptions | None = None
#: The ``podium.loadgen.TestResult`` of the last StartTest (None if it failed before producing one).
_last_result: _run.TestResult | None = None

#: The round set by ``SetRound`` (None: ``PODIUM_ROUND``, else the newest).
_round_override: _rules.RoundRules | None = None
#: LoadGen 6.0.x FromConfig(conf_type=1) calls in this process (the official keeps a static count)
_user_conf_count = 0
#: errors FromConfig could not log yet (no test running): the next StartTest logs them
_pending_config_errors: list[str] = []

#: Names only the 6.0.17 binding has: absent (AttributeError) in round v2.1.
_CURRENT_ONLY_SETTINGS = frozenset({
    "accuracy_sample_count_override", "use_token_latencies", "ttft_latency", "tpot_latency",
    "infer_token_latencies", "token_latency_scaling_factor", "test05", "test05_qsl_rng_seed",
    "test05_sample_index_rng_seed", "test05_schedule_rng_seed",
})
_CURRENT_ONLY_FUNCTIONS = frozenset({"FirstTokenComplete", "ConstructQDL", "DestroyQDL"})


def SetRound(name: str | None) -> None:
    """Make the module follow round ``name`` (``v2.1``, ``v6.0``, ``v6.1``) instead of ``PODIUM_ROUND``;
    None goes back to the environment. Podium's own call (the official module is built for one round)."""
    global _round_override
    _round_override = None if name is None else _rules.round_rules(name)


def Round() -> str:
    """The round the module follows now (podium's own call)."""
    return _current_round().name


def _current_round() -> _rules.RoundRules:
    return _round_override if _round_override is not None else _rules.env_round(_rules.NEWEST)


def __getattr__(name: str) -> Any:
    """The 6.0-only functions exist only while the round is a 6.0 one (PEP 562)."""
    if name in _CURRENT_ONLY_FUNCTIONS:
        rules = _current_round()
        if rules.current:
            return globals()["_" + name]
        raise AttributeError(f"module 'mlperf_loadgen' has no attribute {name!r} in round {rules.name} "
                             "(LoadGen 6.0.x added it; set PODIUM_ROUND=v6.1 or call SetRound)")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_U64_MAX = 2**64 - 1
_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1


# ------------------------------------------------------------------------------------------------- enums
class _BindingEnum(enum.Enum):
    """An enum that behaves like a pybind11 ``enum_``: ``int()``-convertible, not equal to plain ints."""

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)


class TestScenario(_BindingEnum):
    """The four scenarios, with the official integer values."""

    __test__ = False  # not a pytest test class

    SingleStream = 0
    MultiStream = 1
    Server = 2
    Offline = 3


class TestMode(_BindingEnum):
    """The test modes, with the official integer values (also the ``mode`` codes of the config files)."""

    __test__ = False  # not a pytest test class

    SubmissionRun = 0
    AccuracyOnly = 1
    PerformanceOnly = 2
    FindPeakPerformance = 3


class LoggingMode(_BindingEnum):
    """The official logging modes (accepted and ignored: podium writes its logs as the test runs)."""

    AsyncPoll = 0
    EndOfTestOnly = 1
    Synchronous = 2


# ------------------------------------------------------------------------------------- typed attributes
def _bad(owner: str, name: str, expected: str, value: Any) -> TypeError:
    return TypeError(f"{owner}.{name}: expected {expected}, got {value!r} ({type(value).__name__})")


def _as_uint(owner: str, name: str, value: Any, maximum: int = _U64_MAX) -> int:
    if isinstance(value, (float, str, bytes, bytearray)):
        raise _bad(owner, name, f"an integer from 0 to {maximum}", value)
    try:
        i = operator.index(value)
    except TypeError:
        raise _bad(owner, name, f"an integer from 0 to {maximum}", value) from None
    if not 0 <= i <= maximum:
        raise _bad(owner, name, f"an integer from 0 to {maximum}", value)
    return i


def _convert_field(owner: str, name: str, kind: Any, value: Any) -> Any:
    if kind == "u64":
        return _as_uint(owner, name, value)
    if kind == "int":
        if isinstance(value, (float, str, bytes, bytearray)):
            raise _bad(owner, name, "an integer (a C int)", value)
        try:
            i = operator.index(value)
        except TypeError:
            raise _bad(owner, name, "an integer (a C int)", value) from None
        if not _I32_MIN <= i <= _I32_MAX:
            raise _bad(owner, name, "an integer (a C int)", value)
        return i
    if kind == "f64":
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, numbers.Real) and not (
                hasattr(type(value), "__float__") or hasattr(type(value), "__index__")):
            raise _bad(owner, name, "a number", value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(owner, name, "a number", value) from None
    if kind == "bool":
        if value is None:
            return False
        if isinstance(value, (bool, np.bool_, numbers.Number)) and not isinstance(value, complex):
            return bool(value)
        raise _bad(owner, name, "a bool", value)
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("utf-8")
        raise _bad(owner, name, "a str", value)
    if isinstance(kind, type) and issubclass(kind, _BindingEnum):
        if isinstance(value, kind):
            return value
        # Podium's own enums name the same members.
        if isinstance(value, (_ps.Scenario, _ps.TestMode)) and value.value in kind.__members__:
            return kind[value.value]
        raise _bad(owner, name, f"a {kind.__name__} member", value)
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


class _Field:
    """A typed, read-write attribute (pybind11 ``def_readwrite``) stored in the instance's ``_v`` dict."""

    __slots__ = ("default", "kind", "name")

    def __init__(self, kind: Any, default: Any) -> None:
        self.kind = kind
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj._v[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        obj._v[self.name] = _convert_field(type(obj).__name__, self.name, self.kind, value)


class _Struct:
    """Base of the settings structs: fixed attributes with defaults, no other attributes, a readable repr."""

    __slots__ = ("_v",)
    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._fields = tuple(k for k, v in cls.__dict__.items() if isinstance(v, _Field))

    def __init__(self) -> None:
        cls = type(self)
        self._v = {name: getattr(cls, name).default for name in cls._fields}

    def _visible(self) -> tuple[str, ...]:
        """The fields the round's binding has (all of them but in a TestSettings under round v2.1)."""
        return self._fields

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={self._v[k]!s}" if isinstance(self._v[k], enum.Enum) else f"{k}={self._v[k]!r}"
                          for k in self._visible())
        return f"{type(self).__name__}({inner})"

    def __getstate__(self) -> dict[str, Any]:
        return {k: self._v[k] for k in self._visible()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        for k, v in state.items():
            setattr(self, k, v)


# ------------------------------------------------------------------------------------------ TestSettings
class TestSettings(_Struct):
    """The official ``mlperf_loadgen.TestSettings``: every setting of the round's binding, with the official
    defaults and units (``*_ns`` nanoseconds, ``*_ms`` milliseconds, percentiles and probabilities as
    fractions; ``ttft_latency``/``tpot_latency`` ns). The 6.0-only fields raise ``AttributeError`` in v2.1."""

    __test__ = False  # not a pytest test class
    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name in _CURRENT_ONLY_SETTINGS:
            _require_current(name)
        return object.__getattribute__(self, name)

    def _visible(self) -> tuple[str, ...]:
        if _current_round().current:
            return self._fields
        return tuple(f for f in self._fields if f not in _CURRENT_ONLY_SETTINGS)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CURRENT_ONLY_SETTINGS:
            _require_current(name)
        object.__setattr__(self, name, value)

    scenario = _Field(TestScenario, TestScenario.SingleStream)
    mode = _Field(TestMode, TestMode.PerformanceOnly)
    single_stream_expected_latency_ns = _Field("f64", 1000000.0)
    single_stream_target_latency_percentile = _Field("f64", 0.90)
    multi_stream_expected_latency_ns = _Field("f64", 8000000.0)
    multi_stream_target_latency_percentile = _Field("f64", 0.99)
    multi_stream_samples_per_query = _Field("u64", 8)
    server_target_qps = _Field("f64", 1.0)
    server_target_latency_ns = _Field("u64", 100000000)
    server_target_latency_percentile = _Field("f64", 0.99)
    server_coalesce_queries = _Field("bool", False)
    server_find_peak_qps_decimals_of_precision = _Field("int", 1)
    server_find_peak_qps_boundary_step_size = _Field("f64", 1.0)
    server_max_async_queries = _Field("u64", 0)
    server_num_issue_query_threads = _Field("u64", 0)
    offline_expected_qps = _Field("f64", 1.0)
    sample_concatenate_permutation = _Field("bool", False)
    min_duration_ms = _Field("u64", 10000)
    max_duration_ms = _Field("u64", 0)
    min_query_count = _Field("u64", 100)
    max_query_count = _Field("u64", 0)
    qsl_rng_seed = _Field("u64", 0)
    sample_index_rng_seed = _Field("u64", 0)
    schedule_rng_seed = _Field("u64", 0)
    accuracy_log_rng_seed = _Field("u64", 0)
    accuracy_log_probability = _Field("f64", 0.0)
    accuracy_log_sampling_target = _Field("u64", 0)
    print_timestamps = _Field("bool", False)
    performance_issue_unique = _Field("bool", False)
    performance_issue_same = _Field("bool", False)
    performance_issue_same_index = _Field("u64", 0)
    performance_sample_count_override = _Field("u64", 0)
    # ---- the 6.0.17 binding's additions (6.0 rounds only) ----
    test05 = _Field("bool", False)
    test05_qsl_rng_seed = _Field("u64", 0)
    test05_sample_index_rng_seed = _Field("u64", 0)
    test05_schedule_rng_seed = _Field("u64", 0)
    accuracy_sample_count_override = _Field("u64", 0)
    use_token_latencies = _Field("bool", False)
    ttft_latency = _Field("u64", 100000000)
    tpot_latency = _Field("u64", 100000000)
    infer_token_latencies = _Field("bool", False)
    token_latency_scaling_factor = _Field("u64", 0)

    def FromConfig(self, path: str, model: str, scenario: str, conf_type: int = 1) -> int:
        """Apply the settings a config file supplies for ``(model, scenario)``; 0, -ENOENT or -EINVAL.

        The file is read with podium's strict parser; on any error the one-line reason goes to stderr and
        nothing is changed. In a 6.0 round ``conf_type`` is the official's (module docstring); in v2.1 it is
        ignored.
        """
        global _user_conf_count
        rules = _current_round()
        if isinstance(conf_type, bool) or not isinstance(conf_type, int):
            raise TypeError(f"TestSettings.FromConfig: expected an int conf_type, got {conf_type!r}")
        for what, value in (("model", model), ("scenario", scenario)):
            if not isinstance(value, str):
                raise TypeError(f"TestSettings.FromConfig: expected a str {what}, got {value!r}")
        if isinstance(path, bytes):
            path = path.decode("utf-8")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"TestSettings.FromConfig: expected a str path, got {path!r}")
        name = os.fspath(path)
        builtin_only = rules.current and conf_type == 0
        if not builtin_only:
            try:
                with open(name, "rb"):
                    pass
            except OSError as exc:
                print(f"{name}: cannot open settings file ({exc.strerror or exc})", file=sys.stderr)
                return -errno.ENOENT
        scenarios = [s.value for s in _ps.Scenario]
        if scenario not in scenarios:
            print(f"{name}: expected scenario SingleStream, MultiStream, Server or Offline (case matters), "
                  f"got {scenario!r}", file=sys.stderr)
            return -errno.EINVAL
        scen = _ps.Scenario(scenario)
        try:
            current = self._to_podium()
            if rules.current and conf_type == 1:
                if _user_conf_count == 0:
                    # 6.0.17: the first user.conf of the process brings the built-in mlperf.conf with it
                    current = self._builtin(current, model, scen, rules)
                else:
                    message = "Multiple conf files are used. This is not valid for official submission."
                    print(f"podium.mlperf_loadgen: {message}", file=sys.stderr)
                    _pending_config_errors.append(message)
                _user_conf_count += 1
            if builtin_only:
                updated = self._builtin(current, model, scen, rules)
            else:
                # verbatim_model: the official matches ``model`` as given (no bert-99 -> bert mapping, which is
                # podium's own settings builder's convenience), so bert-99 never picks up bert.* lines.
                entries = _config.parse_config_file(name, verbatim_model=True)
                updated = _config.apply_config(current, entries, model, scen, source=name, verbatim_model=True,
                                               round=rules, conf_type=conf_type if rules.current else 0)
        except ConfigError as exc:
            print(str(exc), file=sys.stderr)
            return -errno.EINVAL
        self._update_from_podium(updated)
        return 0

    @staticmethod
    def _builtin(settings: _ps.TestSettings, model: str, scen: _ps.Scenario,
                 rules: _rules.RoundRules) -> _ps.TestSettings:
        """``settings`` with the round's built-in mlperf.conf applied for ``model`` (verbatim), conf_type 0."""
        path = _config.builtin_mlperf_conf_path(rules)
        entries = _config.parse_config_text(_config.builtin_mlperf_conf_text(rules), str(path), verbatim_model=True)
        return _config.apply_config(settings, entries, model, scen, source=str(path), verbatim_model=True,
                                    round=rules, conf_type=0)

    # ---- conversion to and from podium's TestSettings ----------------------------------------------------
    def _to_podium(self) -> _ps.TestSettings:
        v = dict(self._v)
        v["scenario"] = _ps.Scenario(v["scenario"].name)
        v["mode"] = _ps.TestMode(v["mode"].name)
        for binding, field in _PODIUM_NAMES.items():
            v[field] = v.pop(binding)
        return _ps.TestSettings(**v)

    def _update_from_podium(self, s: _ps.TestSettings) -> None:
        for name in self._fields:
            value = getattr(s, _PODIUM_NAMES.get(name, name))
            if name == "scenario":
                value = TestScenario[_ps.Scenario(value).value]
            elif name == "mode":
                value = TestMode[_ps.TestMode(value).value]
            self._v[name] = _convert_field("TestSettings", name, type(self).__dict__[name].kind, value)


#: binding attribute names that differ from podium's TestSettings fields
_PODIUM_NAMES = {"ttft_latency": "server_ttft_latency", "tpot_latency": "server_tpot_latency"}


def _require_current(name: str) -> None:
    rules = _current_round()
    if not rules.current:
        raise AttributeError(f"'TestSettings' object has no attribute {name!r} in round {rules.name} "
                             "(LoadGen 6.0.x added it; set PODIUM_ROUND=v6.1 or call SetRound)")


class LogOutputSettings(_Struct):
    """Where the log files go: ``<outdir>/<prefix>[<datetime>_]summary<suffix>.txt`` and friends."""

    __slots__ = ()

    outdir = _Field("str", ".")
    prefix = _Field("str", "mlperf_log_")
    suffix = _Field("str", "")
    prefix_with_datetime = _Field("bool", False)
    copy_detail_to_stdout = _Field("bool", False)
    copy_summary_to_stdout = _Field("bool", False)


class LogSettings(_Struct):
    """The official ``LogSettings``. ``log_output`` is the settings' own ``LogOutputSettings`` (changing its
    attributes changes these settings); assigning one copies its values in, as the official does."""

    __slots__ = ("_log_output",)

    log_mode = _Field(LoggingMode, LoggingMode.AsyncPoll)
    log_mode_async_poll_interval_ms = _Field("u64", 1000)
    enable_trace = _Field("bool", True)

    def __init__(self) -> None:
        super().__init__()
        self._log_output = LogOutputSettings()

    @property
    def log_output(self) -> LogOutputSettings:
        return self._log_output

    @log_output.setter
    def log_output(self, value: LogOutputSettings) -> None:
        if not isinstance(value, LogOutputSettings):
            raise _bad("LogSettings", "log_output", "a LogOutputSettings", value)
        self._log_output._v = dict(value._v)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", log_output={self._log_output!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self._v)
        state["log_output"] = self._log_output
        return state

    def _to_podium(self) -> _ps.LogSettings:
        o = self._log_output._v
        return _ps.LogSettings(outdir=o["outdir"], prefix=o["prefix"], suffix=o["suffix"],
                               prefix_with_datetime=o["prefix_with_datetime"],
                               copy_detail_to_stdout=o["copy_detail_to_stdout"],
                               copy_summary_to_stdout=o["copy_summary_to_stdout"],
                               enable_trace=self._v["enable_trace"])


# ---------------------------------------------------------------------------- samples and responses
class QuerySample:
    """One sample of a query: ``id`` (opaque, to complete it with) and ``index`` (into the QSL)."""

    __slots__ = ("id", "index")

    def __init__(self, id: int = 0, index: int = 0) -> None:
        self.id = id
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        return (QuerySample, (self.id, self.index))

    def __repr__(self) -> str:
        return f"QuerySample(id={self.id}, index={self.index})"


def _check_response_args(id: Any, data: Any, size: Any, n_tokens: Any) -> tuple[int, int, int, int]:
    out = []
    for what, value in (("id", id), ("data", data), ("size", size)):
        out.append(_as_uint("QuerySampleResponse", what, value))
    if isinstance(n_tokens, (float, str, bytes, bytearray)):
        raise _bad("QuerySampleResponse", "n_tokens", "an integer", n_tokens)
    try:
        out.append(operator.index(n_tokens))
    except TypeError:
        raise _bad("QuerySampleResponse", "n_tokens", "an integer", n_tokens) from None
    return out[0], out[1], out[2], out[3]


class QuerySampleResponse:
    """The answer for one sample: its ``id``, and ``size`` bytes at the raw host address ``data``.

    The memory must stay valid until ``QuerySamplesComplete`` returns; it is read only if the sample is
    accuracy-logged.
    """

    __slots__ = ("data", "id", "n_tokens", "size")

    def __init__(self, id: int = 0, data: int = 0, size: int = 0, n_tokens: int = 0) -> None:
        if type(id) is not int or type(data) is not int or type(size) is not int or type(n_tokens) is not int \
                or id < 0 or data < 0 or size < 0:
            id, data, size, n_tokens = _check_response_args(id, data, size, n_tokens)
        self.id = id
        self.data = data
        self.size = size
        self.n_tokens = n_tokens

    def __reduce__(self) -> tuple[Any, ...]:
        return (QuerySampleResponse, (self.id, self.data, self.size, self.n_tokens))

    def __repr__(self) -> str:
        return f"QuerySampleResponse(id={self.id}, data={self.data:#x}, size={self.size})"


class VectorQuerySample(list):
    """The binding's list type for QuerySample (a plain list here)."""


class VectorQuerySampleResponse(list):
    """The binding's list type for QuerySampleResponse (a plain list here)."""


# --------------------------------------------------------------------------------- SUT and QSL handles
_handles: dict[int, Any] = {}
_handles_lock = threading.Lock()


def _register(obj: Any) -> int:
    handle = id(obj)
    with _handles_lock:
        _handles[handle] = obj
    return handle


def _unregister(handle: Any) -> None:
    with _handles_lock:
        _handles.pop(handle, None)


def _lookup(handle: Any, kind: type, what: str) -> Any:
    obj = _handles.get(handle) if isinstance(handle, int) else None
    if not isinstance(obj, kind):
        raise ValueError(  # noqa: TRY004 - a wrong handle value, as for a stale pointer
f"{what}: expected a handle returned by Construct{'SUT' if what == 'sut' else 'QSL'} "
                         f"and not yet destroyed, got {handle!r}")
    return obj


def _callable_or_noop(fn: Any, what: str) -> Callable[..., None]:
    if fn is None:
        return lambda *_a: None
    if not callable(fn):
        raise TypeError(f"{what}: expected a callable, got {fn!r}")
    return fn


class _Sink:
    """The completion entry points of the running test (given to the SUT by the engine's ``bind``)."""

    __slots__ = ("complete", "complete_ids")

    def __init__(self, complete: Callable[..., None], complete_ids: Callable[..., None]) -> None:
        self.complete = complete
        self.complete_ids = complete_ids


_sink: _Sink | None = None  # where QuerySamplesComplete goes; None when no test is running
_idle_warned = False
#: the running test counts tokens (only then does QuerySamplesComplete pass each response's n_tokens on)
_token_test = False


class _PySUT:
    """The SUT that ``ConstructSUT`` makes: queries go to ``issue_cb(list[QuerySample])``."""

    name = "PySUT"

    def __init__(self, issue_cb: Callable[[list[QuerySample]], None], flush_cb: Callable[[], None]) -> None:
        self._issue_cb = issue_cb
        self._flush_cb = flush_cb

    def bind(self, complete: Callable[..., None], complete_ids: Callable[..., None]) -> None:
        global _sink
        _sink = _Sink(complete, complete_ids)

    def issue_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        self._issue_cb(list(map(QuerySample, ids.tolist(), indices.tolist())))

    def issue_queries(self, samples: list[Any]) -> None:
        self._issue_cb([QuerySample(s[0], s[1]) for s in samples])

    def flush_queries(self) -> None:
        self._flush_cb()


class _PyFastSUT(_PySUT):
    """The SUT that ``ConstructFastSUT`` makes: queries go to ``fast_issue_cb(list[id], list[index])``."""

    name = "PyFastSUT"

    def __init__(self, fast_issue_cb: Callable[[list[int], list[int]], None], flush_cb: Callable[[], None]) -> None:
        super().__init__(lambda _s: None, flush_cb)
        self._fast_issue_cb = fast_issue_cb

    def issue_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        self._fast_issue_cb(ids.tolist(), indices.tolist())

    def issue_queries(self, samples: list[Any]) -> None:
        self._fast_issue_cb([s[0] for s in samples], [s[1] for s in samples])


def ConstructSUT(issue_cb: Callable[[list[QuerySample]], None], flush_queries_cb: Callable[[], None]) -> int:
    """A SUT whose ``issue_cb`` receives each query as a list of QuerySample; returns its handle."""
    if not callable(issue_cb):
        raise TypeError(f"ConstructSUT: expected a callable issue_cb, got {issue_cb!r}")
    return _register(_PySUT(issue_cb, _callable_or_noop(flush_queries_cb, "ConstructSUT flush_queries_cb")))


def ConstructFastSUT(fast_issue_cb: Callable[[list[int], list[int]], None],
                     flush_queries_cb: Callable[[], None]) -> int:
    """A SUT whose ``fast_issue_cb(ids, indices)`` receives each query as two lists of ints; returns its handle."""
    if not callable(fast_issue_cb):
        raise TypeError(f"ConstructFastSUT: expected a callable fast_issue_cb, got {fast_issue_cb!r}")
    return _register(_PyFastSUT(fast_issue_cb,
                                _callable_or_noop(flush_queries_cb, "ConstructFastSUT flush_queries_cb")))


class _PyQDL(_PySUT):
    """The query dispatch library ``ConstructQDL`` makes (LoadGen 6.0.x): a SUT whose name comes from a
    callback (over the network, in the official's design)."""

    def __init__(self, issue_cb: Callable[[list[QuerySample]], None], flush_cb: Callable[[], None],
                 name_cb: Callable[[], str]) -> None:
        super().__init__(issue_cb, flush_cb)
        self._name_cb = name_cb
        # the engine reads ``name`` (an attribute or a method) once per test
        self.name = _QDLName(name_cb)  # type: ignore[assignment]


class _QDLName:
    """A QDL's name: asked of its callback each time the engine reads it (over the network, officially)."""

    def __init__(self, name_cb: Callable[[], str]) -> None:
        self._cb = name_cb

    def __call__(self) -> str:
        return str(self._cb())


def _ConstructQDL(issue_cb: Callable[[list[QuerySample]], None], flush_queries_cb: Callable[[], None],
                  name_cb: Callable[[], str]) -> int:
    """A query dispatch library (a SUT for the network division) with a name callback; returns its handle."""
    for what, fn in (("issue_cb", issue_cb), ("name_cb", name_cb)):
        if not callable(fn):
            raise TypeError(f"ConstructQDL: expected a callable {what}, got {fn!r}")
    return _register(_PyQDL(issue_cb, _callable_or_noop(flush_queries_cb, "ConstructQDL flush_queries_cb"),
                            name_cb))


def _DestroyQDL(qdl: int) -> None:
    """Forget a QDL handle (unknown handles are ignored)."""
    _unregister(qdl)


def DestroySUT(sut: int) -> None:
    """Forget a SUT handle (unknown handles are ignored)."""
    _unregister(sut)


def DestroyFastSUT(sut: int) -> None:
    """Forget a fast-SUT handle (unknown handles are ignored)."""
    _unregister(sut)


def ConstructQSL(total_sample_count: int, performance_sample_count: int,
                 load_samples_to_ram_cb: Callable[[list[int]], None],
                 unload_samples_from_ram_cb: Callable[[list[int]], None]) -> int:
    """A QSL named "PyQSL" with these counts and load/unload callbacks (each given a list of indices)."""
    total = _as_uint("ConstructQSL", "total_sample_count", total_sample_count)
    perf = _as_uint("ConstructQSL", "performance_sample_count", performance_sample_count)
    qsl = _SimpleQSL(total, perf, _callable_or_noop(load_samples_to_ram_cb, "ConstructQSL load_samples_to_ram_cb"),
                     _callable_or_noop(unload_samples_from_ram_cb, "ConstructQSL unload_samples_from_ram_cb"),
                     name="PyQSL")
    return _register(qsl)


def DestroyQSL(qsl: int) -> None:
    """Forget a QSL handle (unknown handles are ignored)."""
    _unregister(qsl)


# ------------------------------------------------------------------------------------------------- tests
_test_lock = threading.Lock()


def StartTest(sut: int, qsl: int, test_settings: TestSettings,
              audit_config_filename: str = "audit.config") -> None:
    """Run a test with the default LogSettings (logs in the working directory)."""
    _start(sut, qsl, test_settings, LogSettings(), audit_config_filename)


def StartTestWithLogSettings(sut: int, qsl: int, test_settings: TestSettings,
                             log_settings: LogSettings, audit_config_filename: str = "audit.config") -> None:
    """Run a test with these LogSettings."""
    _start(sut, qsl, test_settings, log_settings, audit_config_filename)


def _start(sut: int, qsl: int, test_settings: TestSettings, log_settings: LogSettings, audit: Any) -> None:
    global _sink, _last_result, _idle_warned, _token_test
    sut_obj = _lookup(sut, _PySUT, "sut")
    qsl_obj = _lookup(qsl, _SimpleQSL, "qsl")
    if not isinstance(test_settings, TestSettings):
        raise TypeError(f"StartTest: expected a TestSettings, got {test_settings!r}")
    if not isinstance(log_settings, LogSettings):
        raise TypeError(f"StartTestWithLogSettings: expected a LogSettings, got {log_settings!r}")
    if isinstance(audit, bytes):
        audit = audit.decode("utf-8")
    if not isinstance(audit, (str, os.PathLike)):
        raise TypeError(f"StartTest: expected a str audit_config_filename, got {audit!r}")
    settings = test_settings._to_podium()
    logs = log_settings._to_podium()
    clock = _clock_factory() if _clock_factory is not None else None
    try:
        rules = _current_round()
    except PodiumError as exc:
        print(f"podium.mlperf_loadgen.StartTest: {exc}", file=sys.stderr)
        return
    pending = list(_pending_config_errors)
    _pending_config_errors.clear()
    if not _test_lock.acquire(blocking=False):
        raise RuntimeError("StartTest: another test is already running in this process")
    try:
        _idle_warned = False
        _last_result = None
        # an audit.config may switch token latencies on: then count them too
        _token_test = rules.current and (settings.use_token_latencies or os.path.isfile(os.fspath(audit)))
        try:
            _last_result = _run.start_test(sut_obj, qsl_obj, settings, logs, _run_options, audit_config=audit,
                                           clock=clock, round=rules, config_errors=pending)
        except PodiumError as exc:
            print(f"podium.mlperf_loadgen.StartTest: {exc}", file=sys.stderr)
        if _last_result is not None and _last_result.failure_exc is not None:
            raise _last_result.failure_exc  # a harness callback's exception reaches the caller, logs written
    finally:
        _sink = None
        _token_test = False
        _test_lock.release()


def AbortTest() -> None:
    """Stop issuing in the running test; it ends INVALID with its logs written."""
    _session.abort_test()


# ---------------------------------------------------------------------------------------- completion
class _Call:
    """One QuerySamplesComplete call: its response callback and the errors to raise once it is recorded."""

    __slots__ = ("cb", "errors")

    def __init__(self, cb: Callable[[QuerySampleResponse], None] | None) -> None:
        self.cb = cb
        self.errors: list[BaseException] = []


class _RawData:
    """The response bytes of one sample, read from the raw address only if the engine asks (``bytes()``)."""

    __slots__ = ("call", "r")

    def __init__(self, r: QuerySampleResponse, call: _Call) -> None:
        self.r = r
        self.call = call

    def __bytes__(self) -> bytes:
        # Called by the engine (under its recorder lock) only for accuracy-logged samples: must never raise.
        r = self.r
        call = self.call
        try:
            if call.cb is not None:
                # The official hands the callback its own copy of the response, then reads that copy.
                r = QuerySampleResponse(r.id, r.data, r.size, r.n_tokens)
                call.cb(r)
            size = r.size
            if not size:
                return b""
            if not r.data:
                call.errors.append(ValueError(
                    f"QuerySamplesComplete: the response for id {r.id} has data=0 (a null pointer) and size={size}; "
                    "empty data was logged"))
                return b""
            limit = _memory_limit()
            if size > limit:
                call.errors.append(ValueError(
                    f"QuerySamplesComplete: the response for id {r.id} has size={size} bytes, more than this "
                    f"machine's memory ({limit} bytes); expected the byte count of the data; empty data was logged"))
                return b""
            try:
                return _read_host(r.data, size)
            except MemoryError:
                call.errors.append(ValueError(
                    f"QuerySamplesComplete: the response for id {r.id} has size={size} bytes, too many to copy "
                    "into memory; empty data was logged"))
                return b""
        except BaseException as exc:  # noqa: BLE001 - re-raised after the engine has recorded the call
            call.errors.append(exc)
            return b""


def _host_view(address: int, size: int) -> ctypes.Array:
    """A zero-copy ctypes view of ``size`` bytes at the raw host ``address`` (its length is a Py_ssize_t)."""
    return (ctypes.c_char * size).from_address(address)


def _read_host(address: int, size: int) -> bytes:
    """The ``size`` bytes at the raw host ``address``, ``size`` taken in full (the official's is a size_t)."""
    if size <= _I32_MAX:
        return ctypes.string_at(address, size)
    # ctypes.string_at passes its size as a C int: 2**32 + 2 would read 2 bytes and 2**40 none.
    return _host_view(address, size).raw


_memory_bytes: int | None = None


def _memory_limit() -> int:
    """The most bytes one response may claim: the machine's physical memory (a larger size cannot be real
    data, and copying it would read far past the caller's buffer; the official would crash)."""
    global _memory_bytes
    if _memory_bytes is None:
        try:
            _memory_bytes = min(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), sys.maxsize)
        except (AttributeError, OSError, ValueError):  # no sysconf (Windows): only Python's own limit
            _memory_bytes = sys.maxsize
    return _memory_bytes


class _LazyData:
    """The data list of a large completion call: one ``_RawData`` made only for each item the engine reads."""

    __slots__ = ("call", "rs")

    def __init__(self, rs: list[QuerySampleResponse] | tuple[QuerySampleResponse, ...], call: _Call) -> None:
        self.rs = rs
        self.call = call

    def __len__(self) -> int:
        return len(self.rs)

    def __getitem__(self, i: int) -> _RawData:
        return _RawData(self.rs[i], self.call)

    def __iter__(self) -> Any:
        call = self.call
        for r in self.rs:
            yield _RawData(r, call)


def _not_a_response(responses: Any) -> TypeError:
    bad = next((r for r in responses if not isinstance(r, QuerySampleResponse)), None)
    return TypeError(f"QuerySamplesComplete: expected a list of QuerySampleResponse, got an item {bad!r}")


def QuerySamplesComplete(responses: Any, response_cb: Callable[[QuerySampleResponse], None] | None = None) -> None:
    """Report finished samples (from any thread). ``response_cb(response)`` is called only for samples being
    accuracy-logged, just before their bytes are read."""
    global _idle_warned
    if not isinstance(responses, (list, tuple)):
        responses = list(responses)
    if response_cb is not None and not callable(response_cb):
        raise TypeError(f"QuerySamplesComplete: expected a callable response_cb, got {response_cb!r}")
    sink = _sink
    if sink is None:
        if not _idle_warned:
            _idle_warned = True
            print("podium.mlperf_loadgen: QuerySamplesComplete called while no test is running; ignored",
                  file=sys.stderr)
        return
    call = _Call(response_cb)
    tokens = _token_test  # n_tokens is read only when the test counts tokens (the response path stays lean)
    if len(responses) <= 64:
        try:
            items = ([(r.id, _RawData(r, call), r.n_tokens) for r in responses] if tokens
                     else [(r.id, _RawData(r, call)) for r in responses])
        except AttributeError:
            raise _not_a_response(responses) from None
        sink.complete(items)
    else:
        try:
            ids = np.fromiter([r.id for r in responses], dtype=np.int64, count=len(responses))
            n_tokens = (np.fromiter([r.n_tokens for r in responses], dtype=np.int64, count=len(responses))
                        if tokens else None)
        except AttributeError:
            raise _not_a_response(responses) from None
        except (OverflowError, TypeError, ValueError):
            # ids that are no podium ids at all: the per-item path reports each as an unknown sample
            sink.complete([(r.id, _RawData(r, call), r.n_tokens) for r in responses])
        else:
            sink.complete_ids(ids, _LazyData(responses, call), n_tokens=n_tokens)
    _raise_call_errors(call)


def _raise_call_errors(call: _Call) -> None:
    if call.errors:
        err = call.errors[0]
        if len(call.errors) > 1:
            print(f"podium.mlperf_loadgen: {len(call.errors) - 1} more error(s) in this QuerySamplesComplete "
                  "call:", file=sys.stderr)
            for e in call.errors[1:]:
                traceback.print_exception(e, file=sys.stderr)
        raise err


def _FirstTokenComplete(responses: Any, response_cb: Callable[[QuerySampleResponse], None] | None = None) -> None:
    """Report the first token of samples (LoadGen 6.0.x; from any thread, before each sample's
    ``QuerySamplesComplete``). The token bytes are read only for accuracy-logged samples, just after
    ``response_cb(response)``; TTFT is measured to this call."""
    if not isinstance(responses, (list, tuple)):
        responses = list(responses)
    if response_cb is not None and not callable(response_cb):
        raise TypeError(f"FirstTokenComplete: expected a callable response_cb, got {response_cb!r}")
    if _sink is None:
        return
    call = _Call(response_cb)
    try:
        items = [(r.id, _RawData(r, call)) for r in responses]
    except AttributeError:
        raise _not_a_response(responses) from None
    _session.first_token_complete(items)
    _raise_call_errors(call)
