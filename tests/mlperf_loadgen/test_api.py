"""The names, defaults, enum values and attribute semantics of the official v2.1 ``mlperf_loadgen`` binding."""

from __future__ import annotations

import array
import dataclasses
import pickle

import numpy as np
import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen import settings as ps

# Every attribute the official v2.1 binding's TestSettings exposes (python_api.cc, tag v2.1).
OFFICIAL_V21_TEST_SETTINGS = [
    "scenario", "mode", "single_stream_expected_latency_ns", "single_stream_target_latency_percentile",
    "multi_stream_expected_latency_ns", "multi_stream_target_latency_percentile", "multi_stream_samples_per_query",
    "server_target_qps", "server_target_latency_ns", "server_target_latency_percentile", "server_coalesce_queries",
    "server_find_peak_qps_decimals_of_precision", "server_find_peak_qps_boundary_step_size",
    "server_max_async_queries", "offline_expected_qps", "min_duration_ms", "max_duration_ms", "min_query_count",
    "max_query_count", "qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed", "accuracy_log_rng_seed",
    "accuracy_log_probability", "print_timestamps", "performance_issue_unique", "performance_issue_same",
    "performance_issue_same_index", "performance_sample_count_override",
]


def test_module_has_the_official_names():
    for name in ("TestScenario", "TestMode", "TestSettings", "LoggingMode", "LogOutputSettings", "LogSettings",
                 "QuerySample", "QuerySampleResponse", "VectorQuerySample", "VectorQuerySampleResponse",
                 "ConstructSUT", "DestroySUT", "ConstructFastSUT", "DestroyFastSUT", "ConstructQSL", "DestroyQSL",
                 "StartTest", "StartTestWithLogSettings", "QuerySamplesComplete", "AbortTest"):
        assert hasattr(lg, name), name


def test_enums_have_the_official_integer_values():
    assert {m.name: int(m) for m in lg.TestScenario} == {"SingleStream": 0, "MultiStream": 1, "Server": 2,
                                                        "Offline": 3}
    assert {m.name: int(m) for m in lg.TestMode} == {"SubmissionRun": 0, "AccuracyOnly": 1, "PerformanceOnly": 2,
                                                    "FindPeakPerformance": 3}
    assert {m.name: int(m) for m in lg.LoggingMode} == {"AsyncPoll": 0, "EndOfTestOnly": 1, "Synchronous": 2}
    s = lg.TestScenario.Server
    assert s.value == 2 and s.name == "Server" and lg.TestScenario(2) is s
    assert str(s) == "TestScenario.Server" and repr(s) == "<TestScenario.Server: 2>"
    assert s != 2  # like a pybind11 enum: not equal to a plain int
    assert list(lg.TestScenario.__members__) == ["SingleStream", "MultiStream", "Server", "Offline"]
    assert pickle.loads(pickle.dumps(lg.TestMode.AccuracyOnly)) is lg.TestMode.AccuracyOnly


def test_test_settings_attributes_and_defaults_match_podium_and_official():
    s = lg.TestSettings()
    for name in OFFICIAL_V21_TEST_SETTINGS:
        assert hasattr(s, name), name
    podium_defaults = ps.TestSettings()
    fields = [f.name for f in dataclasses.fields(ps.TestSettings)]
    # the binding spells two of podium's fields as the 6.0.17 binding does
    binding = {"server_ttft_latency": "ttft_latency", "server_tpot_latency": "tpot_latency"}
    assert sorted(lg.TestSettings._fields) == sorted(binding.get(f, f) for f in fields)
    v21_fields = [f for f in fields if f not in ps.CURRENT_ONLY_FIELDS]
    for name in v21_fields:
        ours = getattr(s, name)
        if name in ("scenario", "mode"):
            assert ours.name == getattr(podium_defaults, name).value
        else:
            assert ours == getattr(podium_defaults, name), name
    assert s.scenario is lg.TestScenario.SingleStream and s.mode is lg.TestMode.PerformanceOnly
    # doubles read back as floats, as pybind11 returns a C++ double
    s.single_stream_expected_latency_ns = 1000000
    assert isinstance(s.single_stream_expected_latency_ns, float)


def test_attribute_assignment_is_type_checked_like_pybind11():
    s = lg.TestSettings()
    with pytest.raises(TypeError):
        s.min_query_count = 1.5  # no float -> integer conversion
    with pytest.raises(TypeError):
        s.min_query_count = -1  # uint64
    with pytest.raises(TypeError):
        s.min_query_count = "100"
    with pytest.raises(TypeError):
        s.scenario = 2  # enums are not ints
    with pytest.raises(TypeError):
        s.server_target_qps = "10"
    with pytest.raises(AttributeError):
        s.min_querycount = 5  # a misspelt name is an error, not a new attribute
    s.min_query_count = np.int64(7)
    s.server_coalesce_queries = 1
    s.server_target_qps = 12
    assert s.min_query_count == 7 and type(s.min_query_count) is int
    assert s.server_coalesce_queries is True and s.server_target_qps == 12.0
    s.qsl_rng_seed = 2**64 - 1  # the full uint64 range
    assert s.qsl_rng_seed == 2**64 - 1


def test_settings_convert_to_podium_settings():
    s = lg.TestSettings()
    s.scenario = lg.TestScenario.Offline
    s.mode = lg.TestMode.SubmissionRun
    s.offline_expected_qps = 123.5
    s.min_duration_ms = 42
    p = s._to_podium()
    assert p.scenario is ps.Scenario.Offline and p.mode is ps.TestMode.SubmissionRun
    assert p.offline_expected_qps == 123.5 and p.min_duration_ms == 42


def test_log_settings_defaults_and_log_output_identity():
    ls = lg.LogSettings()
    assert ls.log_mode is lg.LoggingMode.AsyncPoll
    assert ls.log_mode_async_poll_interval_ms == 1000
    assert ls.enable_trace is True
    o = ls.log_output
    assert (o.outdir, o.prefix, o.suffix) == (".", "mlperf_log_", "")
    assert not (o.prefix_with_datetime or o.copy_detail_to_stdout or o.copy_summary_to_stdout)
    # the attribute is the settings' own object: changing it changes the settings
    assert ls.log_output is ls.log_output
    ls.log_output.outdir = "/tmp/x"
    assert ls.log_output.outdir == "/tmp/x"
    # assigning copies the values in (C++ struct assignment); the assigned object stays separate
    other = lg.LogOutputSettings()
    other.prefix = "p_"
    ls.log_output = other
    assert ls.log_output is o and ls.log_output is not other
    assert ls.log_output.prefix == "p_" and ls.log_output.outdir == "."
    other.prefix = "changed_"
    assert ls.log_output.prefix == "p_"
    with pytest.raises(TypeError):
        ls.log_output = {"outdir": "x"}
    with pytest.raises(TypeError):
        ls.log_mode = 0
    p = ls._to_podium()
    assert p.prefix == "p_" and p.enable_trace is True


def test_query_sample_fields_and_pickling():
    q = lg.QuerySample()
    assert (q.id, q.index) == (0, 0)
    q = lg.QuerySample(12345, 67)
    assert (q.id, q.index) == (12345, 67)
    q.index = 3
    r = pickle.loads(pickle.dumps(q))
    assert type(r) is lg.QuerySample and (r.id, r.index) == (12345, 3)


def test_query_sample_response_fields_and_pickling():
    r = lg.QuerySampleResponse()
    assert (r.id, r.data, r.size) == (0, 0, 0)
    buf = array.array("B", b"abc")
    ptr, n = buf.buffer_info()
    r = lg.QuerySampleResponse(7, ptr, n)
    assert (r.id, r.data, r.size, r.n_tokens) == (7, ptr, 3, 0)
    assert lg.QuerySampleResponse(7, ptr, n, 5).n_tokens == 5  # later bindings' 4-argument form
    r2 = pickle.loads(pickle.dumps(r))
    assert (r2.id, r2.data, r2.size) == (7, ptr, 3)
    arr = np.zeros(4, np.float32)
    r3 = lg.QuerySampleResponse(np.uint64(9), arr.ctypes.data, arr.nbytes)
    assert (r3.id, r3.size) == (9, 16) and type(r3.id) is int
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1, arr, arr.nbytes)  # the array, not its address
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1, 0, -1)
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1, 0.5, 0)


def test_handles_and_constructors_check_their_arguments():
    sut = lg.ConstructSUT(lambda qs: None, lambda: None)
    fast = lg.ConstructFastSUT(lambda ids, idx: None, lambda: None)
    qsl = lg.ConstructQSL(10, 5, lambda s: None, lambda s: None)
    assert all(isinstance(h, int) for h in (sut, fast, qsl))
    assert len({sut, fast, qsl}) == 3
    with pytest.raises(TypeError):
        lg.ConstructSUT(None, lambda: None)
    with pytest.raises(TypeError):
        lg.ConstructQSL(-1, 5, None, None)
    with pytest.raises(ValueError):
        lg.StartTest(qsl, sut, lg.TestSettings())  # swapped handles
    with pytest.raises(TypeError):
        lg.StartTest(sut, qsl, object())
    lg.DestroySUT(sut)
    lg.DestroyFastSUT(fast)
    lg.DestroyQSL(qsl)
    lg.DestroyQSL(qsl)  # unknown or destroyed handles are ignored
    with pytest.raises(ValueError):
        lg.StartTest(sut, qsl, lg.TestSettings())


def test_start_test_uses_default_log_settings_in_the_working_directory(sim, tmp_path):
    clock = sim()

    def issue(samples):
        clock.call_at(clock.now() + 1000, lambda: lg.QuerySamplesComplete(
            [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    settings = lg.TestSettings()
    settings.min_duration_ms = 10
    settings.min_query_count = 5
    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 8, None, None)
    lg.StartTest(sut, qsl, settings)
    names = sorted(p.name for p in tmp_path.iterdir())
    # the official default LogSettings has enable_trace on: all four official files are written
    assert names == ["mlperf_log_accuracy.json", "mlperf_log_detail.txt", "mlperf_log_summary.txt",
                     "mlperf_log_trace.json", "podium"]
    assert lg._last_result.performance.query_count >= 5


def test_start_test_reads_audit_config_in_the_working_directory(sim, tmp_path):
    (tmp_path / "audit.config").write_text("*.*.mode = 1\n")  # AccuracyOnly
    clock = sim()

    def issue(samples):
        clock.call_at(clock.now() + 1000, lambda: lg.QuerySamplesComplete(
            [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]))

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 8, None, None)
    lg.StartTest(sut, qsl, lg.TestSettings())
    assert lg._last_result.mode.value == "AccuracyOnly"
    assert lg._last_result.accuracy_log_entries == 16
    # and not when another file name is given
    lg.StartTest(sut, qsl, lg.TestSettings(), audit_config_filename="no-such.config")
    assert lg._last_result.mode.value == "PerformanceOnly"


def test_podium_errors_are_printed_not_raised(sim, tmp_path, capsys):
    sim()
    sut = lg.ConstructSUT(lambda s: None, lambda: None)
    qsl = lg.ConstructQSL(0, 0, None, None)  # an empty QSL cannot be run
    lg.StartTest(sut, qsl, lg.TestSettings())
    err = capsys.readouterr().err
    assert "StartTest" in err and "sample counts must be positive" in err
    assert lg._last_result is None
