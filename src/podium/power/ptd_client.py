"""A PTDaemon client: the TCP conversation (``PtdClient``) and the meter built on it (``PtdMeter``).

Podium talks to PTDaemon directly (the MLCommons flow puts a power server beside PTDaemon and a client on
the SUT; podium is that client and server in one, on the SUT). During a measurement a background thread
reads the unread samples (``RL``) every ``poll_s``, so a broken connection is noticed while the run goes
on and the samples taken so far are kept.

Clock offset: PTDaemon stamps samples with its host's clock. After draining unread samples, ``RL,1``
waits for the next sample and PTDaemon answers as soon as it is taken, so that sample was taken about half
a round trip before the reply arrived. ``offset = meter stamp - (reply time - rtt/2)``, with the round trip
measured on the read-only ``Watts`` command. ``uncertainty_ms`` (half the round trip plus a millisecond)
assumes PTDaemon replies within a millisecond of taking the sample; ``bounds_ms`` holds whatever that
latency: the sample was taken after the probe was sent and before its reply arrived. Measured after ``Go``
and again before ``Stop`` (the bounds of both must hold at once, so a drifting clock shows as empty bounds).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

from podium.power import ptd_protocol as proto
from podium.power.errors import (
    MeterDisconnectedError,
    MeterUnavailableError,
    PowerError,
    PtdReplyError,
)
from podium.power.meter import Meter
from podium.power.samples import (
    MeterInfo,
    PowerSample,
    check_mark,
    format_stamp,
    parse_spl_line,
)

#: power-dev waits this long after changing ranges so the analyzer settles (``ANALYZER_SLEEP_SECONDS``).
OFFICIAL_SETTLE_S = 10.0


@dataclass(frozen=True)
class Exchange:
    """One command and its reply, with local UTC epoch ns of sending and of the reply's arrival."""

    cmd: str
    cmd_ns: int
    reply: str
    reply_ns: int
    extra_lines: tuple[str, ...] = ()


class PtdClient:
    """One TCP connection to PTDaemon: send a line, read the reply; thread-safe; keeps a transcript."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.timeout_s = host, int(port), timeout_s
        self._sock: socket.socket | None = None
        self._buf = b""
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise MeterUnavailableError(f"PTDaemon at {self.address}: cannot connect ({exc.strerror or exc}); is "
                                        "PTDaemon (or 'podium power simulate') listening there?") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _readline(self, cmd: str) -> str:
        sock = self._sock
        if sock is None:
            raise MeterDisconnectedError(f"PTDaemon at {self.address}: not connected (sending {cmd!r})")
        while b"\n" not in self._buf:
            try:
                chunk = sock.recv(65536)
            except socket.timeout as exc:
                raise MeterDisconnectedError(f"PTDaemon at {self.address}: no reply to {cmd!r} within "
                                             f"{self.timeout_s:g} s") from exc
            except OSError as exc:
                raise MeterDisconnectedError(f"PTDaemon at {self.address}: connection lost during {cmd!r} "
                                             f"({exc.strerror or exc})") from exc
            if not chunk:
                raise MeterDisconnectedError(f"PTDaemon at {self.address}: connection closed by the meter "
                                             f"during {cmd!r}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def _send(self, cmd: str) -> None:
        if self._sock is None:
            raise MeterDisconnectedError(f"PTDaemon at {self.address}: not connected (sending {cmd!r})")
        try:
            self._sock.sendall(cmd.encode() + b"\r\n")
        except OSError as exc:
            raise MeterDisconnectedError(f"PTDaemon at {self.address}: connection lost sending {cmd!r} "
                                         f"({exc.strerror or exc})") from exc

    def command(self, cmd: str, expect: str | None = None, expect_prefix: str | None = None) -> str:
        """Send ``cmd``; return the reply; a PTDaemon error reply or an unexpected one raises ``PtdReplyError``."""
        with self._lock:
            t0 = time.time_ns()
            self._send(cmd)
            reply = self._readline(cmd)
            self.exchanges.append(Exchange(cmd, t0, reply, time.time_ns()))
        ok = (expect is None or reply == expect) and (expect_prefix is None or reply.startswith(expect_prefix))
        if not ok or (expect is None and expect_prefix is None and proto.is_error_reply(reply)):
            wanted = expect or (expect_prefix and expect_prefix + "…") or "a non-error reply"
            raise PtdReplyError(f"PTDaemon at {self.address}: {cmd!r} answered {reply!r}; expected {wanted!r}")
        return reply

    def read_samples(self, arg: str | None = None) -> tuple[list[PowerSample], int, int]:
        """``RL`` (or ``RL,<arg>``): the unread samples, with local send and arrival times (ns)."""
        cmd = "RL" if arg is None else f"RL,{arg}"
        with self._lock:
            t0 = time.time_ns()
            self._send(cmd)
            head = self._readline(cmd)
            try:
                n = proto.parse_rl_header(head)
            except PtdReplyError:
                self.exchanges.append(Exchange(cmd, t0, head, time.time_ns()))
                raise PtdReplyError(f"PTDaemon at {self.address}: {cmd!r} answered {head!r}; expected "
                                    "'Last <n> samples'") from None
            lines = tuple(self._readline(cmd) for _ in range(n))
            t1 = time.time_ns()
            self.exchanges.append(Exchange(cmd, t0, head, t1, lines))
        samples = [parse_spl_line(line, f"PTDaemon at {self.address}, {cmd} reply")[0] for line in lines]
        return samples, t0, t1

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                try:
                    self._sock.close()
                finally:
                    self._sock = None


def _fmt_range(x: float) -> str:
    return "%f" % x


class PtdMeter(Meter):
    """Power from PTDaemon (or podium's simulator) with the official ranging and testing runs.

    ``interval_ms``: the ``Go`` sampling interval (the official flow uses 1000). ``settle_s``: wait after
    setting ranges (None: power-dev's 10 s for a real analyzer, 0 for podium's simulator).
    """

    needs_ranging = True
    kind = "ptd"

    def __init__(self, host: str, port: int = proto.DEFAULT_PORT, interval_ms: int = 1000, poll_s: float = 1.0,
                 offset_probes: int = 3, timeout_s: float | None = None, settle_s: float | None = None,
                 owned: Any = None) -> None:
        if interval_ms <= 0 or poll_s <= 0:
            raise PowerError(f"ptd meter: interval_ms and poll_s must be positive (got {interval_ms}, {poll_s:g})")
        self.interval_ms = int(interval_ms)
        self.poll_s = poll_s
        self.offset_probes = int(offset_probes)
        self.settle_s = settle_s
        self.client = PtdClient(host, port, timeout_s or max(10.0, 3 * self.interval_ms / 1000))
        self._owned = owned  # e.g. an in-process simulator to shut down on close()
        self._lock = threading.Lock()
        self._samples: list[PowerSample] = []
        self._seen: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._failure: PowerError | None = None
        self._go_ns: int | None = None
        self._measuring = False
        self.initial_ranges: proto.Ranges | None = None
        self.identify: str | None = None
        self.offsets: list[dict[str, Any]] = []
        self.watts_stats: proto.WattsStats | None = None
        self.uncertainty: proto.UncertaintyStats | None = None
        self.ranges_set: dict[str, str] = {}
        self.mark: str | None = None
        self.phase: str | None = None
        self._info = MeterInfo(kind="ptd", name="PTDaemon", address=self.client.address,
                               interval_ms=float(self.interval_ms))

    # ---- connection -------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.client._sock is not None

    def open(self) -> None:
        """Connect, check it is PTDaemon, identify the analyzer and read its initial ranges."""
        if self.connected:
            return
        self.client.connect()
        reply = self.client.command("Hello")
        if reply != proto.HELLO_REPLY:
            self.client.close()
            raise PtdReplyError(f"{self.client.address}: 'Hello' answered {reply!r}; this is not PTDaemon "
                                f"(expected {proto.HELLO_REPLY!r})")
        self.identify = self.client.command("Identify")
        self.initial_ranges = proto.parse_ranges(self.client.command("RR"))
        fields = proto.identify_fields(self.identify)
        simulated = fields["model"].startswith("PodiumSimulator")
        self._info = MeterInfo(
            kind="ptd", name=("PTDaemon simulator (podium)" if simulated else f"PTDaemon, analyzer {fields['model']}"),
            simulated=simulated, scope=("a simulated watts profile (no measurement)" if simulated
                                        else "wall power of the system under test"), address=self.client.address, identify=self.identify,
            interval_ms=float(self.interval_ms), details={"ptd_version": fields.get("version")})
        if self.settle_s is None:
            self.settle_s = 0.0 if simulated else OFFICIAL_SETTLE_S

    @property
    def info(self) -> MeterInfo:
        if self.offsets:
            self._info.clock_offset = self.clock_offset()
        self._info.details.update(mark=self.mark, ranges_set=dict(self.ranges_set))
        if self.watts_stats is not None:
            self._info.details["ptd_watts"] = self.watts_stats.__dict__
        if self.uncertainty is not None:
            self._info.details["ptd_uncertainty"] = self.uncertainty.__dict__
        return self._info

    # ---- ranging ----------------------------------------------------------------------------------------
    def _set_range(self, which: str, value: str) -> None:
        expect = proto.RANGE_V_REPLY if which == "V" else proto.RANGE_A_REPLY
        self.client.command(f"SR,{which},{value}", expect=expect)
        self.ranges_set[which] = value

    def prepare(self, phase: str, ranging_samples: Sequence[PowerSample] | None = None) -> None:
        """Ranging: both ranges automatic. Testing: the highest volts and amps the ranging run saw."""
        self.open()
        self.phase = phase
        if phase == "testing" and ranging_samples is not None:
            if not ranging_samples:
                raise PowerError(f"PTDaemon at {self.client.address}: the ranging run produced no samples (shorter "
                                 f"than the {self.interval_ms} ms sampling interval?); cannot set the testing ranges")
            volts = max(s.volts for s in ranging_samples)
            amps = max(s.amps for s in ranging_samples)
            if volts <= 0 or amps <= 0:
                raise PowerError(f"PTDaemon at {self.client.address}: the ranging run has no volts/amps readings "
                                 f"(max volts {volts:g}, max amps {amps:g}); cannot set the testing ranges")
            self._set_range("V", _fmt_range(volts))
            self._set_range("A", _fmt_range(amps))
        else:
            self._set_range("V", "Auto")
            self._set_range("A", "Auto")
        if self.settle_s:
            time.sleep(self.settle_s)

    # ---- measuring --------------------------------------------------------------------------------------
    def start(self, mark: str) -> None:
        self.open()
        check_mark(mark)
        with self._lock:
            self._samples, self._seen, self._failure = [], set(), None
        self.offsets = []
        self.mark = mark
        self.client.command(f"Go,{self.interval_ms},0,{mark}", expect_prefix="Starting untimed measurement")
        self._go_ns = time.time_ns()
        self._measuring = True
        if self.offset_probes > 0:
            self.offsets.append(self._measure_offset("after Go"))
        self._stopping.clear()
        self._thread = threading.Thread(target=self._poll_loop, name="podium-ptd-poll", daemon=True)
        self._thread.start()

    def _keep(self, samples: Sequence[PowerSample]) -> None:
        with self._lock:
            for s in samples:
                if s.wall_ns not in self._seen:  # a stamp is a sample: re-reads never double-count
                    self._seen.add(s.wall_ns)
                    self._samples.append(s)

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self.poll_s):
            try:
                self._keep(self.client.read_samples()[0])
            except PowerError as exc:
                self._fail(exc)
                return

    def _fail(self, exc: PowerError) -> None:
        if self._failure is None:
            when = time.time_ns()
            into = f", {(when - self._go_ns) / 1e9:.2f} s after Go" if self._go_ns else ""
            self._failure = type(exc)(f"{exc} (at {format_stamp(when)} UTC{into}, mark {self.mark})")
        self.client.close()

    def _measure_offset(self, when: str) -> dict[str, Any]:
        c = self.client
        rtts = []
        for _ in range(3):
            t0 = time.time_ns()
            c.command("Watts", expect_prefix="Watts")
            rtts.append(time.time_ns() - t0)
        rtt = min(rtts)
        self._keep(c.read_samples()[0])  # drain: what is unread now was taken before the probes
        estimates: list[int] = []
        lower: list[int] = []
        upper: list[int] = []
        for _ in range(max(self.offset_probes, 1) * 3):
            if len(estimates) >= self.offset_probes:
                break
            got, t0, t1 = c.read_samples("1")
            if not got:
                continue
            self._keep(got)
            stamp = got[-1].wall_ns
            lower.append(stamp - t1)  # taken before its reply arrived: offset > stamp - t1
            if t1 - t0 > 2 * rtt + 200_000:  # the reply waited for a fresh sample, taken after t0
                upper.append(stamp + 1_000_000 - t0)  # stamps are truncated to the millisecond
                estimates.append(stamp + 500_000 - (t1 - rtt // 2))
        if not estimates:
            return {"when": when, "offset_ms": None, "method": "no fresh sample during the probes"}
        lo, hi = max(lower), min(upper)
        offset = min(max(statistics.median(estimates), lo), hi)
        return {"when": when, "offset_ms": offset / 1e6, "uncertainty_ms": (rtt / 2 + 1_000_000) / 1e6,
                "bounds_ms": [lo / 1e6, hi / 1e6], "rtt_ms": rtt / 1e6, "probes": len(estimates)}

    def clock_offset(self) -> dict[str, Any]:
        """The offset block for results: meter clock minus SUT clock, the mean of the probes made."""
        good = [o for o in self.offsets if o.get("offset_ms") is not None]
        if not good:
            return {"offset_ms": None, "method": "not measured", "measurements": self.offsets}
        mean = sum(o["offset_ms"] for o in good) / len(good)
        bounds = [max(o["bounds_ms"][0] for o in good), min(o["bounds_ms"][1] for o in good)]
        return {"offset_ms": mean, "uncertainty_ms": max(o["uncertainty_ms"] for o in good), "bounds_ms": bounds,
                "drift_ms": (good[-1]["offset_ms"] - good[0]["offset_ms"]) if len(good) > 1 else 0.0,
                "method": "RL,1 round-trip midpoint (meter stamp minus local arrival time less half the round trip)",
                "measurements": self.offsets}

    def stop(self) -> list[PowerSample]:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._measuring = False
        if self._failure is None:
            try:
                if self.offset_probes > 0:
                    self.offsets.append(self._measure_offset("before Stop"))  # reads every unread sample
                else:
                    self._keep(self.client.read_samples()[0])
                self.watts_stats = proto.parse_watts(self.client.command("Watts", expect_prefix="Watts"))
                self.uncertainty = proto.parse_uncertainty(self.client.command("Uncertainty",
                                                                               expect_prefix="Uncertainty"))
                self.client.command("Stop", expect=proto.STOP_REPLY)
                try:
                    self._keep(self.client.read_samples()[0])
                except PtdReplyError as exc:
                    # every sample up to the read just before Stop is kept, and that read came after the run
                    # ended, so a refused read after Stop loses nothing inside the run's window
                    self._info.details["final_read"] = str(exc)
            except PowerError as exc:
                self._fail(exc)
        if self._failure is not None:
            raise self._failure
        return self.samples()

    def samples(self) -> list[PowerSample]:
        with self._lock:
            return sorted(self._samples, key=lambda s: s.wall_ns)

    def close(self) -> None:
        """Set the initial ranges back (as power-dev does), then disconnect."""
        try:
            if self.connected and self.initial_ranges is not None and self._failure is None:
                if self._measuring:
                    self.client.command("Stop")
                    self._measuring = False
                self.client.command(f"SR,V,{self.initial_ranges.initial_setting('V')}")
                self.client.command(f"SR,A,{self.initial_ranges.initial_setting('A')}")
        except PowerError:
            pass  # closing after a failure: the failure was already reported
        finally:
            self.client.close()
            if self._owned is not None:
                self._owned.close()
                self._owned = None
