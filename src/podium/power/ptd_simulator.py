"""A PTDaemon simulator: a real TCP server speaking PTDaemon's protocol, for tests and dry runs.

It measures nothing. Sample k of a measurement is taken at ``Go time + k * interval`` and its watts are the
profile at ``k * interval`` seconds (plus seeded Gaussian noise if asked), so a run's average is known in
advance. Samples are produced from the clock when a command needs them, so their times are exact whatever
the machine's load. It identifies itself as ``PodiumSimulator`` and podium labels every result from it
SIMULATED.

Faults for testing clients: ``clock_offset_s`` (its clock runs ahead of the host's), ``disconnect_after_s``
(close every connection that long after the ``disconnect_at_go``-th ``Go``) and ``error_replies`` (answer
commands starting with a prefix with a fixed reply, e.g. ``{"SR,A": "Error: range not supported"}``).
"""

from __future__ import annotations

import platform
import select
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import podium
from podium.power import ptd_protocol as proto
from podium.power.errors import PowerError
from podium.power.profiles import ConstantProfile, WattsProfile
from podium.power.samples import (
    UNKNOWN,
    PowerSample,
    format_sample_line,
    format_spl_line,
    format_stamp,
)

IDENTITY_MODEL = "PodiumSimulator"


@dataclass
class SimulatorConfig:
    """What the simulator reports and which faults it injects."""

    profile: WattsProfile = field(default_factory=lambda: ConstantProfile(100.0))
    noise_w: float = 0.0
    seed: int = 0
    volts: float = 230.0
    pf: float = 0.95
    uncertainty: float = 0.001
    clock_offset_s: float = 0.0
    disconnect_after_s: float | None = None
    disconnect_at_go: int = 1
    error_replies: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None


class _Measurement:
    """One ``Go``..``Stop``: generated samples and the read position."""

    def __init__(self, go_ns: int, interval_ms: int, mark: str, rng: np.random.Generator) -> None:
        self.go_ns = go_ns
        self.interval_ns = interval_ms * 1_000_000
        self.interval_ms = interval_ms
        self.mark = mark
        self.rng = rng
        self.samples: list[PowerSample] = []
        self.read = 0
        self.end_ns: int | None = None

    def next_due_ns(self) -> int:
        return self.go_ns + (len(self.samples) + 1) * self.interval_ns


class PtdSimulator:
    """The server. ``start()`` serves on a background thread; ``serve_forever()`` in the foreground."""

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self._lock = threading.Lock()
        self._m: _Measurement | None = None
        self._last: _Measurement | None = None
        self.go_count = 0
        self.commands: list[str] = []
        self.log_lines: list[str] = []
        self.ranges = {"A": (1, 20.0), "V": (1, 300.0)}  # autorange on, the analyzer's top ranges
        self._disconnect_at_ns: int | None = None
        self._disconnected = False
        sim = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sim._serve_connection(self.request, self.client_address)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        try:
            self._server = Server((host, port), Handler)
        except OSError as exc:
            raise PowerError(f"PTDaemon simulator: cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
        self._thread: threading.Thread | None = None
        self._log_fh = open(self.config.log_path, "a", encoding="utf-8") if self.config.log_path else None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"ptd://{host}:{port}"

    def start(self) -> "PtdSimulator":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="podium-ptd-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def __enter__(self) -> "PtdSimulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- time and samples -------------------------------------------------------------------------------
    def _meter_ns(self, local_ns: int) -> int:
        return local_ns + int(round(self.config.clock_offset_s * 1e9))

    def _log(self, text: str) -> None:
        line = f"{format_stamp(self._meter_ns(time.time_ns()))}: {text}"
        self.log_lines.append(line)
        if self._log_fh is not None:
            self._log_fh.write(line + "\n")
            self._log_fh.flush()

    def _generate(self, m: _Measurement, upto_local_ns: int) -> None:
        """Append every sample due at or before ``upto_local_ns`` (and before the measurement's end)."""
        cfg = self.config
        limit = upto_local_ns if m.end_ns is None else min(upto_local_ns, m.end_ns)
        while m.next_due_ns() <= limit:
            k = len(m.samples) + 1
            watts = float(cfg.profile(k * m.interval_ns / 1e9))
            if cfg.noise_w:
                watts += float(m.rng.normal(0.0, cfg.noise_w))
            amps = watts / (cfg.volts * cfg.pf) if cfg.volts and cfg.pf else UNKNOWN
            s = PowerSample(wall_ns=self._meter_ns(m.next_due_ns()), watts=watts, volts=cfg.volts, amps=amps,
                            pf=cfg.pf)
            m.samples.append(s)
            if self._log_fh is not None:
                self._log_fh.write(format_spl_line(s, m.mark) + "\n")

    # ---- protocol ---------------------------------------------------------------------------------------
    def reply(self, cmd: str) -> list[str]:
        """The reply lines to one command (the whole protocol; also usable without a socket)."""
        self.commands.append(cmd)
        for prefix, canned in self.config.error_replies.items():
            if cmd.startswith(prefix):
                return [canned]
        parts = cmd.split(",")
        name = parts[0]
        if cmd == "Hello":
            return [proto.HELLO_REPLY]
        if cmd == "Identify":
            return [f"{IDENTITY_MODEL}-none,1000,1,1,1,1,0,0,0,version=podium-sim-{podium.__version__},"
                    f"OS={platform.system()},mode=power,1,1,1"]
        if cmd == "RR":
            (aa, ar), (va, vr) = self.ranges["A"], self.ranges["V"]
            return [f"Ranges,{aa},{ar:f},{va},{vr:f}"]
        if name == "SR" and len(parts) == 3 and parts[1] in ("V", "A"):
            value = parts[2]
            if value == "Auto":
                self.ranges[parts[1]] = (1, self.ranges[parts[1]][1])
            else:
                try:
                    self.ranges[parts[1]] = (0, float(value))
                except ValueError:
                    return [f"Error: invalid range value {value!r}"]
            return [proto.RANGE_V_REPLY if parts[1] == "V" else proto.RANGE_A_REPLY]
        if name == "Go" and len(parts) >= 3:
            return self._go(parts)
        if cmd == "Stop":
            with self._lock:
                m = self._m
                if m is None:
                    return [proto.NO_MEASUREMENT_REPLY]
                now = time.time_ns()
                self._generate(m, now)
                m.end_ns = now
                self._m = None
            self._log(": Completed test")
            return [proto.STOP_REPLY]
        if cmd == "Watts":
            return [self._watts()]
        if cmd == "Uncertainty":
            with self._lock:
                m = self._m or self._last
                n = len(m.samples) if m else 0
            u = self.config.uncertainty
            return [f"Uncertainty,{u:f},{u:f},{u:f},{n},0,{n},0"]
        if name == "RL":
            return self._rl(parts[1] if len(parts) > 1 else "*")
        return [f"Unknown command: {cmd}"]

    def _go(self, parts: list[str]) -> list[str]:
        try:
            interval_ms = int(parts[1])
            if interval_ms <= 0:
                raise ValueError(interval_ms)
        except ValueError:
            return [f"Error: invalid sampling interval {parts[1]!r}"]
        mark = parts[3] if len(parts) > 3 else "notset"
        now = time.time_ns()
        with self._lock:
            self.go_count += 1
            rng = np.random.default_rng([self.config.seed, self.go_count])
            self._m = self._last = _Measurement(now, interval_ms, mark, rng)
            if (self.config.disconnect_after_s is not None and self.go_count == self.config.disconnect_at_go
                    and not self._disconnected):
                self._disconnect_at_ns = now + int(self.config.disconnect_after_s * 1e9)
        self._log(f": Go with mark {mark!r}")
        return [proto.go_reply(interval_ms)]

    def _watts(self) -> str:
        with self._lock:
            m = self._m or self._last
            if m is not None and m is self._m:
                self._generate(m, time.time_ns())
            values = [s.watts for s in m.samples] if m else []
        if not values:
            return "Watts,-1.000000,-1.000000,-1.000000,0,0,0"
        return (f"Watts,{sum(values) / len(values):f},{min(values):f},{max(values):f},{len(values)},0,"
                f"{len(values)}")

    def _rl(self, arg: str) -> list[str]:
        count = None
        if arg not in ("*", ""):
            try:
                count = max(int(arg), 1)
            except ValueError:
                return [f"Invalid number of parameters or bad count {arg!r}"]
        unread: list[PowerSample] = []
        for attempt in range(2):
            with self._lock:
                m = self._m or self._last
                if m is None:
                    return [proto.NO_UNREAD_REPLY]
                self._generate(m, time.time_ns())
                unread = m.samples[m.read:]
                if unread or m is not self._m or attempt == 1:
                    m.read = len(m.samples)
                    break
                wait_ns = m.next_due_ns() - time.time_ns()
            # PTDaemon waits up to one sampling interval for a sample when none is unread
            time.sleep(max(wait_ns, 0) / 1e9 + 0.0002)
        if not unread:
            return [proto.NO_UNREAD_REPLY]
        if count is not None:
            unread = unread[-count:]
        lines = [f"Last {len(unread)} sample{'s' if len(unread) != 1 else ''}"]
        lines += [format_sample_line(s) for s in unread]
        return lines

    # ---- connections ------------------------------------------------------------------------------------
    def _due_disconnect(self) -> bool:
        at = self._disconnect_at_ns
        if at is not None and time.time_ns() >= at:
            self._disconnected = True
            return True
        return False

    def _serve_connection(self, sock: socket.socket, peer: Any) -> None:
        self._log(f"Accepted connection from {peer[0]}:{peer[1]}")
        buf = b""
        try:
            while True:
                if self._due_disconnect():
                    self._log("Simulated disconnect: closing the connection")
                    sock.shutdown(socket.SHUT_RDWR)
                    return
                ready, _, _ = select.select([sock], [], [], 0.02)
                if not ready:
                    continue
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    cmd = raw.rstrip(b"\r").decode(errors="replace").strip()
                    if not cmd:
                        continue
                    lines = self.reply(cmd)
                    if self._due_disconnect():
                        sock.shutdown(socket.SHUT_RDWR)
                        return
                    sock.sendall("".join(line + "\r\n" for line in lines).encode())
                    self._log(f"Response to client sent: {lines[0]}")
        except OSError:
            return
        finally:
            sock.close()

