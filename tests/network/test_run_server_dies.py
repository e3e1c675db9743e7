"""``podium run --sut-url`` when the server dies mid-run: an INVALID result table, the run recorded, no
accuracy pass against the dead endpoint, no traceback."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from podium.cli.main import main
from podium.network import InferenceServer, ServeOptions, serve_backend


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
@pytest.mark.parametrize("scenario", ["Server", "Offline"])
def test_server_dying_mid_run_ends_cleanly(protocol: str, scenario: str, bench: Any, backend: Any,
                                           tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(db))
    model = serve_backend("digits", backend, postprocess=bench.postprocess)
    srv = InferenceServer({"digits": model}, ServeOptions(http_port=0, grpc_port=0, inference_threads=2)).start()
    url = srv.urls()[0 if protocol == "rest" else 1]
    # calibration and the start of the performance run reach the server; then it goes away
    killer = threading.Timer(2.5, srv.stop, kwargs={"grace_s": 0})
    killer.start()
    try:
        rc = main(["run", "--sut-url", url, "--scenario", scenario, "--duration", "6", "--sut-timeout", "2",
                   "--output", str(tmp_path / "res")])
    finally:
        killer.cancel()
        srv.stop(grace_s=0)
    cap = capsys.readouterr()
    assert rc == 1, cap.err
    assert "Traceback" not in cap.err and "AttributeError" not in cap.err
    assert "INVALID" in cap.out  # the result table is shown
    assert "accuracy skipped: the network SUT failed" in cap.out
    run_dir = (tmp_path / "res" / "latest").resolve()
    assert (run_dir / "performance" / "mlperf_log_summary.txt").is_file()
    assert not (run_dir / "accuracy").exists()
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1
