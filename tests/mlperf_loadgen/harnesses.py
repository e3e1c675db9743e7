"""Harnesses in the style of the official ``loadgen/demos/py_demo_*.py``, on ``podium.mlperf_loadgen``, and the
same harnesses on podium's native API, so that both can be run on a ``SimClock`` and their files compared.

The official demos complete samples from threads after ``time.sleep``; here the "threads" are callbacks on
the simulated clock (``clock.call_at``), so every completion happens at an exact, repeatable time. Each
binding harness writes its responses through raw pointers (``array.array(...).buffer_info()`` or a numpy
array's ``.ctypes.data``) exactly as a harness for the official binding does; the native twin completes the
same samples at the same times with the same bytes.
"""

from __future__ import annotations

import array
from pathlib import Path

import numpy as np

import podium.mlperf_loadgen as lg
from podium.loadgen import (
    BaseSUT,
    LogSettings,
    Scenario,
    SimpleQSL,
    TestMode,
    TestSettings,
    start_test,
)
from podium.loadgen.clock import SimClock

SEEDS = dict(qsl_rng_seed=14284205019438841327, sample_index_rng_seed=4163916728725999944,
             schedule_rng_seed=299063814864929621, accuracy_log_rng_seed=720381539243781796)

MS = 1_000_000


# ---- what every harness answers and when -----------------------------------------------------------
def f32_payload(index: int) -> array.array:
    """A float32 response, different for every sample."""
    return array.array("f", [index, index / 4, -1.5] + [2.0**k for k in range(6)])


def i32_payload(index: int, i_slice: int) -> np.ndarray:
    return np.array([index, i_slice, -index], dtype=np.int32)


def u8_payload(index: int) -> array.array:
    return array.array("B", [(index * 7 + k) % 256 for k in range(index % 5 + 1)])


OFFLINE_WIDTH = 3  # float64 values per sample in the Offline harness' shared output buffer


def offline_rows(indices: list[int]) -> np.ndarray:
    return np.array([[i, i * 0.5, -1.0 / (i + 1)] for i in indices], dtype=np.float64)


def single_stream_delay(index: int) -> int:
    return MS + (index % 5) * 100_000


def server_delay(index: int) -> int:
    return 2 * MS + (index % 7) * 300_000


# ---- the binding harnesses (official demo style) -------------------------------------------------------
def load_samples_to_ram(indices):
    """Nothing to load: the simulated SUT makes its answers from the sample index."""


def unload_samples_from_ram(indices):
    """Nothing to unload."""


def flush_queries():
    """The simulated SUT never holds queries back."""


def _log_settings(outdir: Path) -> lg.LogSettings:
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(outdir)
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = True
    return log_settings


def _apply(settings: lg.TestSettings, values: dict) -> None:
    for k, v in values.items():
        setattr(settings, k, v)


def lg_single_stream(clock: SimClock, outdir: Path) -> None:
    def process_query_async(query_samples):
        responses = []
        keep = []
        for s in query_samples:
            out = f32_payload(s.index)
            keep.append(out)
            address, count = out.buffer_info()
            responses.append(lg.QuerySampleResponse(s.id, address, count * out.itemsize))
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        delay = single_stream_delay(query_samples[0].index)
        clock.call_at(clock.now() + delay, lambda: process_query_async(query_samples))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.SingleStream
    settings.mode = lg.TestMode.PerformanceOnly
    settings.single_stream_expected_latency_ns = 1000000
    settings.min_query_count = 100
    settings.min_duration_ms = 300
    settings.accuracy_log_probability = 0.1
    _apply(settings, SEEDS)

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(1024, 128, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


NUM_AGENTS = 8
LOOPBACK_LATENCY_NS = MS


def lg_multi_stream(clock: SimClock, outdir: Path) -> None:
    # Agent k answers every NUM_AGENTS-th sample of the query, starting at k, after (k + 1) loopback latencies.
    def process_query_async(query_samples, i_slice):
        responses = []
        keep = []
        for s in query_samples[i_slice::NUM_AGENTS]:
            out = i32_payload(s.index, i_slice)
            keep.append(out)
            responses.append(lg.QuerySampleResponse(s.id, out.ctypes.data, out.nbytes))
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        for i in range(NUM_AGENTS):
            clock.call_at(clock.now() + LOOPBACK_LATENCY_NS * (i + 1),
                          lambda i=i: process_query_async(query_samples, i))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.MultiStream
    settings.mode = lg.TestMode.PerformanceOnly
    settings.multi_stream_expected_latency_ns = 8000000
    settings.multi_stream_samples_per_query = 8
    settings.min_query_count = 30
    settings.min_duration_ms = 300
    settings.accuracy_log_probability = 0.05
    _apply(settings, SEEDS)

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(1024, 128, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


class _Workers:
    """``n`` FIFO servers on the simulated clock (a stand-in for the demos' worker threads)."""

    def __init__(self, clock: SimClock, n: int) -> None:
        self.clock = clock
        self.free_at = [0] * n

    def finish_time(self, service_ns: int) -> int:
        w = min(range(len(self.free_at)), key=self.free_at.__getitem__)
        end = max(self.clock.now(), self.free_at[w]) + service_ns
        self.free_at[w] = end
        return end


def lg_server(clock: SimClock, outdir: Path) -> None:
    workers = _Workers(clock, 2)

    def process_query_async(query_samples):
        responses = []
        keep = []
        for s in query_samples:
            out = u8_payload(s.index)
            keep.append(out)
            ptr, n = out.buffer_info()
            responses.append(lg.QuerySampleResponse(s.id, ptr, n * out.itemsize))
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        end = workers.finish_time(server_delay(query_samples[0].index))
        clock.call_at(end, lambda: process_query_async(query_samples))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.mode = lg.TestMode.PerformanceOnly
    settings.server_target_qps = 400
    settings.server_target_latency_ns = 100000000
    settings.min_query_count = 100
    settings.min_duration_ms = 400
    settings.accuracy_log_probability = 0.2
    _apply(settings, SEEDS)

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(1024, 128, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


def lg_offline(clock: SimClock, outdir: Path) -> None:
    """SubmissionRun: accuracy over the whole QSL, then performance; 3 slices per query, as the demo."""

    # Three workers each answer a third of the query, at 3, 6 and 9 ms; a worker's outputs are the rows of one
    # contiguous float64 buffer, and each response points at its row.
    def process_query_async(query_samples, i_slice):
        samples_to_complete = query_samples[i_slice::3]
        out = offline_rows([s.index for s in samples_to_complete])
        base = out.ctypes.data
        row = out.strides[0]
        responses = []
        for j, s in enumerate(samples_to_complete):
            responses.append(lg.QuerySampleResponse(s.id, base + j * row, row))
        lg.QuerySamplesComplete(responses)

    def issue_query(query_samples):
        for i in range(3):
            clock.call_at(clock.now() + 3 * MS * (i + 1), lambda i=i: process_query_async(query_samples, i))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.mode = lg.TestMode.SubmissionRun
    settings.offline_expected_qps = 2000
    settings.min_duration_ms = 200
    settings.accuracy_log_probability = 0.1
    _apply(settings, SEEDS)

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(300, 256, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


def lg_server_response_cb(clock: SimClock, outdir: Path) -> dict:
    """SubmissionRun where responses stay "on the device" (data=0, size=0) until ``response_cb`` copies them to
    host memory: only accuracy-logged samples are ever copied."""
    workers = _Workers(clock, 4)
    device = {}  # response id -> bytes still "on the device"
    host = []  # host buffers made by response_cb, kept alive until the end
    copied = []  # ids response_cb was called for

    def response_cb(response):
        copied.append(response.id)
        buf = array.array("B", device[response.id])
        host.append(buf)
        response.data, n = buf.buffer_info()
        response.size = n * buf.itemsize

    def process_query_async(query_samples):
        responses = []
        for s in query_samples:
            device[s.id] = u8_payload(s.index).tobytes()
            responses.append(lg.QuerySampleResponse(s.id, 0, 0))
        lg.QuerySamplesComplete(responses, response_cb)

    def issue_query(query_samples):
        end = workers.finish_time(server_delay(query_samples[0].index))
        clock.call_at(end, lambda: process_query_async(query_samples))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.mode = lg.TestMode.SubmissionRun
    settings.server_target_qps = 300
    settings.server_target_latency_ns = 50000000
    settings.min_query_count = 50
    settings.min_duration_ms = 300
    settings.accuracy_log_probability = 0.3
    _apply(settings, SEEDS)

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(64, 32, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    return {"copied": copied}


def lg_fast_server(clock: SimClock, outdir: Path) -> dict:
    """The fast SUT: ``fast_issue_query(ids, indices)`` gets two lists of ints per query."""
    workers = _Workers(clock, 2)
    calls = []

    def complete(ids, indices):
        responses = []
        keep = []
        for rid, idx in zip(ids, indices):
            out = u8_payload(idx)
            keep.append(out)
            ptr, n = out.buffer_info()
            responses.append(lg.QuerySampleResponse(rid, ptr, n))
        lg.QuerySamplesComplete(responses)

    def fast_issue_query(ids, indices):
        calls.append((type(ids), type(indices), len(ids)))
        end = workers.finish_time(server_delay(indices[0]))
        clock.call_at(end, lambda: complete(ids, indices))

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.mode = lg.TestMode.PerformanceOnly
    settings.server_target_qps = 400
    settings.server_target_latency_ns = 100000000
    settings.min_query_count = 100
    settings.min_duration_ms = 300
    settings.accuracy_log_probability = 0.2
    _apply(settings, SEEDS)

    sut = lg.ConstructFastSUT(fast_issue_query, flush_queries)
    qsl = lg.ConstructQSL(1024, 128, load_samples_to_ram, unload_samples_from_ram)
    lg.StartTestWithLogSettings(sut, qsl, settings, _log_settings(outdir))
    lg.DestroyQSL(qsl)
    lg.DestroyFastSUT(sut)
    return {"calls": calls}


# ---- the same harnesses on podium's native API ---------------------------------------------------------
class _NativeSUT(BaseSUT):
    def __init__(self, clock: SimClock, schedule, name: str = "PySUT") -> None:
        super().__init__()
        self.clock = clock
        self.schedule = schedule  # schedule(sut, samples as [(id, index)]) -> None
        self.name = name

    def issue_queries(self, samples):
        self.schedule(self, [(s.id, s.index) for s in samples])


def _native_run(clock: SimClock, outdir: Path, sut: BaseSUT, total: int, perf: int, **settings) -> None:
    start_test(sut, SimpleQSL(total, perf, name="PyQSL"), TestSettings(**SEEDS, **settings),
               LogSettings(outdir=str(outdir), enable_trace=True), clock=clock, audit_config=None)


def native_single_stream(clock: SimClock, outdir: Path) -> None:
    def schedule(sut, samples):
        (rid, idx), = samples
        clock.call_at(clock.now() + single_stream_delay(idx),
                      lambda: sut.complete([(rid, f32_payload(idx).tobytes())]))

    _native_run(clock, outdir, _NativeSUT(clock, schedule), 1024, 128, scenario=Scenario.SingleStream,
                single_stream_expected_latency_ns=1000000, min_query_count=100, min_duration_ms=300,
                accuracy_log_probability=0.1)


def native_multi_stream(clock: SimClock, outdir: Path) -> None:
    def schedule(sut, samples):
        for i in range(NUM_AGENTS):
            part = samples[i::NUM_AGENTS]
            clock.call_at(clock.now() + LOOPBACK_LATENCY_NS * (i + 1),
                          lambda part=part, i=i: sut.complete([(rid, i32_payload(idx, i).tobytes())
                                                               for rid, idx in part]))

    _native_run(clock, outdir, _NativeSUT(clock, schedule), 1024, 128, scenario=Scenario.MultiStream,
                multi_stream_expected_latency_ns=8000000, multi_stream_samples_per_query=8, min_query_count=30,
                min_duration_ms=300, accuracy_log_probability=0.05)


def native_server(clock: SimClock, outdir: Path) -> None:
    workers = _Workers(clock, 2)

    def schedule(sut, samples):
        end = workers.finish_time(server_delay(samples[0][1]))
        clock.call_at(end, lambda: sut.complete([(rid, u8_payload(idx).tobytes()) for rid, idx in samples]))

    _native_run(clock, outdir, _NativeSUT(clock, schedule), 1024, 128, scenario=Scenario.Server,
                server_target_qps=400, server_target_latency_ns=100000000, min_query_count=100,
                min_duration_ms=400, accuracy_log_probability=0.2)


def native_offline(clock: SimClock, outdir: Path) -> None:
    def schedule(sut, samples):
        for i in range(3):
            part = samples[i::3]
            clock.call_at(clock.now() + 3 * MS * (i + 1),
                          lambda part=part: sut.complete(
                              list(zip([rid for rid, _ in part], offline_rows([idx for _, idx in part])))))

    _native_run(clock, outdir, _NativeSUT(clock, schedule), 300, 256, scenario=Scenario.Offline,
                mode=TestMode.SubmissionRun, offline_expected_qps=2000, min_duration_ms=200,
                accuracy_log_probability=0.1)


def native_server_response_cb(clock: SimClock, outdir: Path) -> None:
    workers = _Workers(clock, 4)

    def schedule(sut, samples):
        end = workers.finish_time(server_delay(samples[0][1]))
        clock.call_at(end, lambda: sut.complete([(rid, u8_payload(idx).tobytes()) for rid, idx in samples]))

    _native_run(clock, outdir, _NativeSUT(clock, schedule), 64, 32, scenario=Scenario.Server,
                mode=TestMode.SubmissionRun, server_target_qps=300, server_target_latency_ns=50000000,
                min_query_count=50, min_duration_ms=300, accuracy_log_probability=0.3)


def native_fast_server(clock: SimClock, outdir: Path) -> None:
    workers = _Workers(clock, 2)

    def schedule(sut, samples):
        end = workers.finish_time(server_delay(samples[0][1]))
        clock.call_at(end, lambda: sut.complete([(rid, u8_payload(idx).tobytes()) for rid, idx in samples]))

    _native_run(clock, outdir, _NativeSUT(clock, schedule, name="PyFastSUT"), 1024, 128,
                scenario=Scenario.Server, server_target_qps=400, server_target_latency_ns=100000000,
                min_query_count=100, min_duration_ms=300, accuracy_log_probability=0.2)


PAIRS = {
    "SingleStream": (lg_single_stream, native_single_stream),
    "MultiStream": (lg_multi_stream, native_multi_stream),
    "Server": (lg_server, native_server),
    "Offline": (lg_offline, native_offline),
    "Server-response_cb": (lg_server_response_cb, native_server_response_cb),
    "Server-FastSUT": (lg_fast_server, native_fast_server),
}
