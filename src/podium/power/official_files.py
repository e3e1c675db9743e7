"""The ``power/`` folder of an official power session: ``client.json``, ``server.json``, ``client.log``,
``server.log`` and ``ptd_logs.txt`` (the v2.1 submission checker requires exactly these five files).

The MLCommons power client and server (power-dev) write them; podium plays both parts, so it writes both
with the same keys (``version``, ``timezone``, ``modules``, ``sources``, ``messages``, ``uuid``,
``session_name``, ``results``, ``phases``; the server adds ``ptd_messages`` and ``ptd_config``) and a
``podium`` key saying who wrote them. What cannot be reproduced: ``sources``/``modules`` are power-dev's
source hashes (podium records its own version instead, so power-dev's ``check.py`` sources check fails),
``messages`` is the client/server conversation podium does not have (empty), and ``ptd_logs.txt`` is
PTDaemon's console output, which only the director has: podium writes its simulator's log when it ran
one, otherwise its own transcript of the PTDaemon conversation, and says so in the file's first line.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

import podium
from podium.power.ptd_client import Exchange

POWER_FILES = ("client.json", "client.log", "ptd_logs.txt", "server.json", "server.log")


def hash_dir(root: Path, skip: Sequence[str] = ()) -> dict[str, str]:
    """SHA-1 of every file under ``root`` keyed by its '/'-separated relative path, sorted (power-dev's form)."""
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel in skip:
                continue
            out[rel] = hashlib.sha1(path.read_bytes()).hexdigest()
    return dict(sorted(out.items()))


def _log_time(ns: int) -> str:
    secs, rem = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs)) + ",%03d" % (rem // 1_000_000)


def server_log_lines(exchanges: Sequence[Exchange]) -> list[str]:
    """The PTDaemon conversation in power-dev's server log style."""
    lines = []
    for e in exchanges:
        lines.append(f"podium-power {_log_time(e.cmd_ns)} [INFO] Sending to ptd: {e.cmd!r}")
        lines.append(f"podium-power {_log_time(e.reply_ns)} [INFO] Reply from ptd: {e.reply!r}"
                     + (f" (+{len(e.extra_lines)} sample lines)" if e.extra_lines else ""))
    return lines


def ptd_transcript(exchanges: Sequence[Exchange]) -> list[str]:
    """``ptd_logs.txt`` when podium has no PTDaemon console log: the replies as PTDaemon logs them."""
    from podium.power.samples import format_stamp

    lines = ["# podium: PTDaemon's console log is on the director; this is podium's transcript of the "
             "conversation (times are the SUT's clock, UTC)"]
    for e in exchanges:
        lines.append(f"{format_stamp(e.cmd_ns)}: Command from client: {e.cmd}")
        lines.append(f"{format_stamp(e.reply_ns)}: Response to client sent: {e.reply}")
    return lines


def session_json(session_name: str, uuids: dict[str, str], phases: dict[str, list[list[float]]],
                 results: dict[str, str], note: dict[str, Any], server: bool = False,
                 exchanges: Sequence[Exchange] = (), ptd_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """One of ``client.json`` / ``server.json``."""
    d: dict[str, Any] = {
        "version": "1.0",
        "timezone": -time.localtime().tm_gmtoff,
        "modules": {"podium": podium.__version__},
        "sources": {},
        "messages": [],
        "uuid": uuids,
        "session_name": session_name,
        "results": results,
        "phases": phases,
    }
    if server:
        d["ptd_messages"] = [{"cmd": e.cmd, "reply": e.reply, "cmd_time": e.cmd_ns / 1e9,
                              "reply_time": e.reply_ns / 1e9} for e in exchanges]
        d["ptd_config"] = ptd_config or {}
    d["podium"] = note
    return d


def write_power_folder(session_dir: Path, session_name: str, phases: dict[str, list[list[float]]],
                       exchanges: Sequence[Exchange], client_log: Sequence[str], ptd_log: Sequence[str] | None,
                       note: dict[str, Any], ptd_config: dict[str, Any]) -> Path:
    """Write ``<session_dir>/power/`` with the five files; results hashes cover the session folder."""
    power = session_dir / "power"
    power.mkdir(parents=True, exist_ok=True)
    (power / "client.log").write_text("\n".join(client_log) + "\n", encoding="utf-8")
    (power / "server.log").write_text("\n".join(server_log_lines(exchanges)) + "\n", encoding="utf-8")
    lines = list(ptd_log) if ptd_log is not None else ptd_transcript(exchanges)
    (power / "ptd_logs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = hash_dir(session_dir, skip=("power/client.json", "power/server.json"))
    uuids = {"client": str(uuid.uuid4()), "server": str(uuid.uuid4())}
    client = session_json(session_name, uuids, phases, results, note)
    server = session_json(session_name, uuids, phases, results, note, server=True, exchanges=exchanges,
                          ptd_config=ptd_config)
    (power / "client.json").write_text(json.dumps(client, indent=4) + "\n", encoding="utf-8")
    (power / "server.json").write_text(json.dumps(server, indent=4) + "\n", encoding="utf-8")
    return power


#: What the v2.1 checker accepts in ``ranging/`` and ``run_1/`` of a power result: exactly the LoadGen
#: summary and detail logs and ``spl.txt``, optionally the accuracy log (plus trace/results.json/.gitkeep).
RUN_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "spl.txt")
OPTIONAL_RUN_FILES = ("mlperf_log_accuracy.json",)


def export_power_tree(session_dir: Path, dest: Path) -> Path:
    """Copy a power session's official files into ``dest`` (a submission's ``…/<scenario>/performance``).

    Podium keeps its own files (``podium_result.json``, ``power_summary.txt``) beside the LoadGen logs; the
    checker rejects a power run folder holding anything else, so a submission gets this subset.
    """
    import shutil

    from podium.power.errors import PowerError

    session_dir, dest = Path(session_dir), Path(dest)
    plan: list[tuple[Path, Path]] = []
    for name in POWER_FILES:
        plan.append((session_dir / "power" / name, dest / "power" / name))
    for run in ("ranging", "run_1"):
        for name in RUN_FILES:
            plan.append((session_dir / run / name, dest / run / name))
        for name in OPTIONAL_RUN_FILES:
            if (session_dir / run / name).is_file():
                plan.append((session_dir / run / name, dest / run / name))
    missing = [str(src) for src, _ in plan if not src.is_file()]
    if missing:
        raise PowerError(f"{missing[0]}: missing; expected a complete power session folder (power/, ranging/, "
                         f"run_1/) from a PTDaemon run ({len(missing)} file(s) missing)")
    for src, dst in plan:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return dest
