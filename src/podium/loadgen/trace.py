"""``mlperf_log_trace.json``: a Chrome trace of every sample (async "Sample" begin/end pairs), optional.

Written from the series' time arrays after the series ends, so tracing costs nothing on the issue path (the
official traces inline, which raised its Server p50 from 67 µs to 506 µs on this machine).
"""

from __future__ import annotations

import os
from typing import IO

import numpy as np


class TraceWriter:
    """Streams trace events; ``close`` writes the official trailer."""

    def __init__(self, stream: IO[str], origin_ns: int) -> None:
        self._out = stream
        self._origin = origin_ns
        self._pid = os.getpid()
        self._out.write('{"traceEvents":[\n')

    def _ts(self, t_ns: int) -> str:
        return "%.3f" % ((t_ns - self._origin) / 1000.0)

    def complete_event(self, name: str, start_ns: int, end_ns: int, tid: int = 0) -> None:
        self._out.write('{"name":"%s","ph":"X","pid":%d,"tid":%d,"ts":%s,"dur":%.3f},\n'
                        % (name, self._pid, tid, self._ts(start_ns), (end_ns - start_ns) / 1000.0))

    def samples(self, first_seq: int, spq: int, qsl_idx: np.ndarray, scheduled_ns: np.ndarray,
                issued_ns: np.ndarray, done_ns: np.ndarray, per_sample_query: bool) -> None:
        """One begin/end pair per completed sample; times relative to the sample's scheduled time."""
        write = self._out.write
        n = len(done_ns)
        for k in range(n):
            done = int(done_ns[k])
            if not done:
                continue
            q = k // spq if per_sample_query else 0
            sched = int(scheduled_ns[q])
            seq = first_seq + k
            args = ('{"sample_seq":%d,"query_seq":%d,"sample_idx":%d,"issue_start_ns":%d,"complete_ns":%d}'
                    % (seq, q, int(qsl_idx[k]), int(issued_ns[q]) - sched, done - sched))
            write('{"name":"Sample","cat":"default","ph":"b","pid":%d,"tid":0,"id":%d,"ts":%s,"args":%s},\n'
                  % (self._pid, seq, self._ts(sched), args))
            write('{"name":"Sample","cat":"default","ph":"e","pid":%d,"tid":0,"id":%d,"ts":%s},\n'
                  % (self._pid, seq, self._ts(done)))

    def close(self) -> None:
        self._out.write('{"name":"LastTrace"}\n],\n"displayTimeUnit":"ns",\n"otherData":{\n"ts":%.3f,\n'
                        '"version":"MLPerf LoadGen v1.0"\n}\n}\n' % (self._origin / 1000.0))
        self._out.close()
