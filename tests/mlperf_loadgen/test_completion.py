"""``QuerySamplesComplete``: raw-pointer responses, the response callback, errors, no running test,
``AbortTest`` from another thread, and the official demos on real threads and the real clock."""

from __future__ import annotations

import array
import ctypes
import json
import mmap
import os
import threading
import time

import numpy as np
import pytest

import podium.mlperf_loadgen as lg
from podium.loadgen import RunOptions
from podium.loadgen.logs import read_detail_log


def _accuracy_log(path):
    return json.loads((path / "mlperf_log_accuracy.json").read_text())


def _log_settings(outdir):
    ls = lg.LogSettings()
    ls.log_output.outdir = str(outdir)
    ls.enable_trace = False
    return ls


def _expected_bytes(index: int) -> bytes:
    if index % 2 == 0:
        return np.array([index, index / 3], dtype=np.float32).tobytes()
    return array.array("d", [index, -index, 0.25]).tobytes()


def test_responses_from_numpy_and_array_pointers_are_logged_hex_exactly(sim, tmp_path):
    """AccuracyOnly Offline: every response is read from its raw address, large calls and small ones."""
    clock = sim()

    def complete(samples):
        keep = []
        responses = []
        for s in samples:
            if s.index % 2 == 0:
                buf = np.array([s.index, s.index / 3], dtype=np.float32)
                keep.append(buf)
                responses.append(lg.QuerySampleResponse(s.id, buf.ctypes.data, buf.nbytes))
            else:
                buf = array.array("d", [s.index, -s.index, 0.25])
                keep.append(buf)
                ptr, n = buf.buffer_info()
                responses.append(lg.QuerySampleResponse(s.id, ptr, n * buf.itemsize))
        lg.QuerySamplesComplete(responses)
        del keep  # the memory need only live for the duration of the call

    def issue(samples):
        # one call with > 64 responses (the engine's vectorised path) and small ones
        clock.call_at(clock.now() + 1000, lambda: complete(samples[:100]))
        for k in range(100, len(samples), 7):
            clock.call_at(clock.now() + 2000, lambda k=k: complete(samples[k:k + 7]))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.mode = lg.TestMode.AccuracyOnly
    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(150, 150, None, None)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path))
    log = _accuracy_log(tmp_path)
    assert sorted(e["qsl_idx"] for e in log) == list(range(150))
    for e in log:
        assert e["data"] == _expected_bytes(e["qsl_idx"]).hex().upper()


def _perf_run(tmp_path, clock, respond, probability, n_per_call=1, scenario=lg.TestScenario.Server):
    settings = lg.TestSettings()
    settings.scenario = scenario
    settings.server_target_qps = 1000
    settings.offline_expected_qps = 1000
    settings.min_duration_ms = 200
    settings.min_query_count = 100
    settings.accuracy_log_probability = probability
    settings.accuracy_log_rng_seed = 12345

    def issue(samples):
        for k in range(0, len(samples), n_per_call):
            clock.call_at(clock.now() + 500_000, lambda part=samples[k:k + n_per_call]: respond(part))

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(256, 256, None, None)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path))
    return _accuracy_log(tmp_path)


@pytest.mark.parametrize("scenario,n_per_call", [(lg.TestScenario.Server, 1), (lg.TestScenario.Offline, 100)])
def test_response_cb_only_for_logged_samples_and_before_the_read(sim, tmp_path, scenario, n_per_call):
    clock = sim()
    seen = []
    buffers = {}

    def response_cb(r):
        # the data is not on the host yet: the callback is what puts it there
        assert (r.data, r.size) == (0, 0)
        seen.append(r.id)
        buf = array.array("B", [r.id % 256, 0xAB])
        buffers[r.id] = buf
        r.data = buf.buffer_info()[0]
        r.size = 2

    def respond(samples):
        responses = [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]
        lg.QuerySamplesComplete(responses, response_cb)
        assert all((r.data, r.size) == (0, 0) for r in responses)  # the callback got copies

    log = _perf_run(tmp_path, clock, respond, 0.2, n_per_call, scenario)
    assert 0 < len(log) < lg._last_result.performance.sample_count
    assert sorted(seen) == sorted(e["seq_id"] + 1 for e in log)
    for e in log:
        assert e["data"] == bytes([(e["seq_id"] + 1) % 256, 0xAB]).hex().upper()


def test_response_cb_not_called_when_nothing_is_logged(sim, tmp_path):
    clock = sim()
    seen = []

    def respond(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples], seen.append)

    log = _perf_run(tmp_path, clock, respond, 0.0)
    assert log == [] and seen == []
    assert lg._last_result.performance.sample_count >= 100


def test_response_cb_error_is_raised_after_the_samples_are_recorded(sim, tmp_path):
    clock = sim()
    raised = []

    def bad_cb(r):
        raise KeyError("device buffer lost")

    def respond(samples):
        try:
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples], bad_cb)
        except KeyError:
            raised.append(samples[0].id)

    log = _perf_run(tmp_path, clock, respond, 0.3)
    result = lg._last_result
    assert raised and len(raised) == len(log)  # raised exactly for the logged samples
    assert result.performance.sample_count == result.series[0].completed_samples  # nothing lost, no hang
    assert not result.timed_out
    assert all(e["data"] == "" for e in log)


def test_null_pointer_with_a_size_is_an_error_not_a_crash(sim, tmp_path):
    clock = sim()
    errors = []

    def respond(samples):
        try:
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 16) for s in samples])
        except ValueError as exc:
            errors.append(str(exc))

    log = _perf_run(tmp_path, clock, respond, 0.3)
    assert len(errors) == len(log) > 0
    assert "null pointer" in errors[0]
    assert not lg._last_result.timed_out


def test_complete_with_no_test_running_is_ignored(capsys):
    buf = array.array("B", b"xyz")
    lg.QuerySamplesComplete([lg.QuerySampleResponse(1, buf.buffer_info()[0], 3)])
    lg.QuerySamplesComplete([lg.QuerySampleResponse(2, 0, 0)] * 100, lambda r: None)
    lg.QuerySamplesComplete([])
    assert "no test is running" in capsys.readouterr().err


def test_complete_rejects_what_is_not_a_response(sim, tmp_path):
    clock = sim()
    errors = []

    def respond(samples):
        try:
            lg.QuerySamplesComplete([(s.id, 0, 0) for s in samples])
        except TypeError as exc:
            errors.append(exc)
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    _perf_run(tmp_path, clock, respond, 0.0)
    assert errors and "QuerySampleResponse" in str(errors[0])
    assert not lg._last_result.errors


def test_stray_completion_during_a_test_is_a_logged_error(sim, tmp_path):
    clock = sim()

    def respond(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])
        lg.QuerySamplesComplete([lg.QuerySampleResponse(10**12, 0, 0)])

    _perf_run(tmp_path, clock, respond, 0.0)
    msgs = [r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt") if r["metadata"]["is_error"]]
    assert msgs and all("unknown sample id" in m for m in msgs)


# ---- real threads, real clock -------------------------------------------------------------------------
def _run_in_thread(fn):
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_abort_test_from_another_thread_ends_a_long_server_test(tmp_path):
    pending = []

    def process(samples):
        time.sleep(0.001)
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    def issue_query(samples):
        t = threading.Thread(target=process, args=[samples])
        pending.append(t)
        t.start()
        if len(pending) == 10:  # the test is surely running: abort it from another thread
            threading.Timer(0.2, lg.AbortTest).start()

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.server_target_qps = 200
    settings.min_duration_ms = 60_000  # would run a minute
    settings.min_query_count = 100
    sut = lg.ConstructSUT(issue_query, lambda: None)
    qsl = lg.ConstructQSL(128, 64, None, None)
    t0 = time.monotonic()
    runner = _run_in_thread(lambda: lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path)))
    runner.join(20)
    assert not runner.is_alive()
    assert time.monotonic() - t0 < 10
    for t in pending:
        t.join()
    res = lg._last_result
    assert res is not None and not res.valid
    assert 0 < res.performance.query_count < 1000
    assert "Result is : INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()


def test_abort_test_ends_a_test_whose_sut_stopped_answering(tmp_path):
    issued = []

    def issue_query(samples):
        issued.append(samples)
        if len(issued) <= 3:  # answers the first three queries only
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])
        else:  # abort once the test is surely running and stuck on the unanswered query
            threading.Timer(0.2, lg.AbortTest).start()

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.SingleStream
    settings.min_duration_ms = 60_000
    sut = lg.ConstructSUT(issue_query, lambda: None)
    qsl = lg.ConstructQSL(64, 64, None, None)
    runner = _run_in_thread(lambda: lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path)))
    runner.join(20)
    assert not runner.is_alive()
    assert len(issued) == 4
    assert not lg._last_result.valid
    # a later completion for that test is harmless
    lg.QuerySamplesComplete([lg.QuerySampleResponse(issued[-1][0].id, 0, 0)])


def test_abort_with_no_test_running_is_harmless():
    lg.AbortTest()


def test_official_offline_demo_completing_from_three_threads(tmp_path, monkeypatch):
    """py_demo_offline.py with shorter sleeps: three threads complete slices of the one query concurrently."""
    monkeypatch.setattr(lg, "_run_options", RunOptions(completion_timeout_s=10))

    def process_query_async(query_samples, i_slice):
        time.sleep(0.01 * (i_slice + 1))
        responses = []
        keep = []
        for s in query_samples[i_slice:len(query_samples):3]:
            buf = array.array("i", [s.index, i_slice])
            keep.append(buf)
            ptr, n = buf.buffer_info()
            responses.append(lg.QuerySampleResponse(s.id, ptr, n * buf.itemsize))
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        for i in range(3):
            threading.Thread(target=process_query_async, args=(query_samples, i)).start()

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.mode = lg.TestMode.SubmissionRun
    settings.offline_expected_qps = 1000
    settings.min_duration_ms = 300
    settings.accuracy_log_probability = 0.1
    sut = lg.ConstructSUT(issue_query, lambda: None)
    qsl = lg.ConstructQSL(200, 128, None, None)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    res = lg._last_result
    assert not res.timed_out and not res.errors
    assert res.performance.sample_count == 330
    log = _accuracy_log(tmp_path)
    for e in log:
        idx, i_slice = array.array("i", bytes.fromhex(e["data"]))
        assert idx == e["qsl_idx"] and 0 <= i_slice < 3
    assert len([e for e in log if e["seq_id"] < 200]) == 200  # the accuracy series logs every sample


def test_official_server_demo_on_threads(tmp_path):
    """py_demo_server.py with a short run: a thread per query completes after 1 ms."""

    def process_query_async(query_samples):
        time.sleep(0.001)
        responses = [lg.QuerySampleResponse(s.id, 0, 0) for s in query_samples]
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        threading.Thread(target=process_query_async, args=[query_samples]).start()

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.mode = lg.TestMode.PerformanceOnly
    settings.server_target_qps = 200
    settings.server_target_latency_ns = 100000000
    settings.min_query_count = 50
    settings.min_duration_ms = 300
    sut = lg.ConstructSUT(issue_query, lambda: None)
    qsl = lg.ConstructQSL(1024, 128, None, None)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(tmp_path))
    res = lg._last_result
    assert res.performance.query_count >= 50 and not res.timed_out and not res.errors
    assert res.performance.sample_latency_min >= 1_000_000


# ------------------------------------------------------------------------ sizes beyond a C int (issue 13)
def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def test_host_view_spans_a_size_beyond_a_c_int():
    """2**32 + 2 bytes are 2**32 + 2 bytes (the official's size is a size_t), not 2 (a C int's wrap)."""
    size = 2**32 + 2
    region = mmap.mmap(-1, size)  # anonymous and lazily mapped: untouched pages cost no memory
    region[:4] = b"head"
    region[size - 4:] = b"tail"
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))  # the temporary export ends here
    view = lg._host_view(address, size)
    assert len(view) == size
    assert view[:4] == b"head" and view[size - 4:size] == b"tail"
    del view
    region.close()


def test_a_logged_response_is_read_with_its_full_size(monkeypatch):
    reads = []
    monkeypatch.setattr(lg, "_memory_bytes", 2**36)  # a 64 GiB machine: 4 GiB + 2 is a plausible size
    monkeypatch.setattr(lg, "_read_host", lambda address, size: reads.append((address, size)) or b"ok")
    r = lg.QuerySampleResponse(7, 0x1000, 2**32 + 2)
    call = lg._Call(None)
    assert bytes(lg._RawData(r, call)) == b"ok"
    assert reads == [(0x1000, 2**32 + 2)] and not call.errors


@pytest.mark.skipif(os.environ.get("PODIUM_BIG_MEMORY_TESTS") != "1" or _mem_available() < 12 * 2**30,
                    reason="copies 4 GiB (~20 s): set PODIUM_BIG_MEMORY_TESTS=1 on a machine with 12 GiB free")
def test_size_beyond_a_c_int_is_copied_in_full():
    size = 2**32 + 2
    region = mmap.mmap(-1, size)
    region[:4] = b"head"
    region[size - 4:] = b"tail"
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    data = bytes(lg._RawData(lg.QuerySampleResponse(7, address, size), lg._Call(None)))
    assert len(data) == size and data[:4] == b"head" and data[-4:] == b"tail"
    del data
    region.close()


def test_size_beyond_the_machine_memory_is_an_error_naming_the_size(sim, tmp_path):
    clock = sim()
    buf = array.array("B", b"abcd")
    errors = []

    def respond(samples):
        try:
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, buf.buffer_info()[0], 2**40) for s in samples])
        except ValueError as exc:
            errors.append(str(exc))

    log = _perf_run(tmp_path, clock, respond, 0.3)
    assert len(errors) == len(log) > 0  # one error per logged sample; the old code logged 0 bytes silently
    assert "size=1099511627776 bytes" in errors[0] and "\n" not in errors[0]
    assert all(e["data"] == "" for e in log)
    assert not lg._last_result.timed_out


def test_small_sizes_still_read_exactly():
    buf = array.array("B", bytes(range(200)))
    r = lg.QuerySampleResponse(1, buf.buffer_info()[0], 200)
    assert bytes(lg._RawData(r, lg._Call(None))) == bytes(range(200))
