"""``podium`` errors a user can cause: each is one line on stderr naming what is wrong, exit code 2."""

from __future__ import annotations

import pytest

from podium.cli.main import main


@pytest.mark.parametrize("argv, expected", [
    (["run", "--scenario", "Bogus"], "unknown scenario 'Bogus'"),
    (["run", "--mode", "perf"], "--mode perf: expected one of performance, accuracy, submission"),
    (["run", "--model-path", "/nonexistent/model.onnx"], "--model-path /nonexistent/model.onnx: file not found"),
    (["run", "--benchmark", "nope"], "benchmark 'nope': unknown"),
    (["run", "--duration", "-1"], "--duration: expected a positive number of seconds"),
    (["run", "--backend-option", "x"], "--backend-option 'x': expected KEY=VALUE"),
    (["run", "--full", "--duration", "3"], "--full and --duration: choose one"),
    (["run", "--target-qps", "0"], "--target-qps: expected a positive number"),
    (["run", "--backend", "tensorrt"], "backend 'tensorrt': unknown"),
])
def test_bad_options_give_one_line_error(argv, expected, capsys, tmp_path):
    rc = main(argv + ["--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("podium: error: ") and expected in err[0]


def test_corrupt_model_file(tmp_path, capsys):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx model")
    rc = main(["run", "--model-path", str(bad), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and f"{bad}: not a loadable ONNX model" in err[0]


def test_malformed_user_conf_names_file_and_line(tmp_path, capsys):
    conf = tmp_path / "user.conf"
    conf.write_text("# my settings\n*.Offline.target_qps=100\n")
    rc = main(["run", "--user-conf", str(conf), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and f"{conf}:2: expected 'key = value'" in err[0]


def test_list_shows_digits_and_onnxruntime(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "onnxruntime" in out
