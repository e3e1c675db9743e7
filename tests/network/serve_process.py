"""``podium serve`` in a child process for the tests: start it on loopback, read its URLs, stop it for sure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

#: runs ``podium serve`` alone (no other subcommand imported) in a child interpreter
LAUNCH = ("import argparse, sys; from podium.cli import cmd_serve; ap = argparse.ArgumentParser(); "
          "cmd_serve.add_parser(ap.add_subparsers()); a = ap.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def start_serve(*args: str) -> subprocess.Popen[str]:
    """``podium serve ARGS`` with stdout and stderr on one pipe (read its URLs with ``listening_urls``)."""
    return subprocess.Popen([sys.executable, "-c", LAUNCH, "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def listening_urls(proc: subprocess.Popen[str], count: int = 1, timeout_s: float = 60.0) -> list[str]:
    """The first ``count`` URLs the server prints as ``listening: URL`` (fewer if it exits or times out)."""
    urls: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(urls) < count and time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        if line.startswith("listening: "):
            urls.append(line.split(" ", 1)[1].strip())
    return urls


def stop_serve(proc: subprocess.Popen[str]) -> None:
    """Resume it if stopped, Ctrl-C it, and kill it if it has not exited within 20 s."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)  # a test that paused it must never leave it stopped
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
