"""``podium serve`` from the command line: it starts, prints its URLs, serves, and stops on Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from podium.cli import cmd_serve
from podium.errors import PodiumError
from tests.network.serve_process import listening_urls, start_serve, stop_serve

# cli/main.py registers the subcommand once the lead wires it in; this launcher does the same meanwhile.


def test_serve_then_run_against_it(tmp_path: Path, bench, qsl) -> None:
    from podium.network import make_client_sut
    from tests.network.conftest import run

    token = tmp_path / "token"
    token.write_text("t0ken\n")
    proc = start_serve("--http-port", "0", "--grpc-port", "0", "--token-file", str(token),
                       "--backend-option", "intra_op_threads=1")
    try:
        urls = listening_urls(proc, 2)
        assert [u.split(":")[0] for u in urls] == ["http", "grpc"], proc.stdout.read() if proc.poll() else urls
        for url in urls:
            with pytest.raises(PodiumError, match="401|UNAUTHENTICATED"):
                make_client_sut([url], bench, qsl, "Offline")
            with make_client_sut([url], bench, qsl, "Offline", token="t0ken") as sut:
                run(sut, qsl, tmp_path / url.split(":")[0], "Offline")
                assert sut.failed_requests == 0
    finally:
        stop_serve(proc)
    assert proc.returncode in (0, 130, -signal.SIGINT)


def test_token_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cmd_serve.TOKEN_ENV, raising=False)
    assert cmd_serve.read_token(None) is None
    monkeypatch.setenv(cmd_serve.TOKEN_ENV, "abc")
    assert cmd_serve.read_token(None) == "abc"
    bad = tmp_path / "bad"
    bad.write_text("two\nlines\n")
    with pytest.raises(PodiumError, match="one line"):
        cmd_serve.read_token(str(bad))
    with pytest.raises(PodiumError, match="cannot read"):
        cmd_serve.read_token(str(tmp_path / "missing"))
