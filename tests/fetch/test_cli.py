"""`podium fetch` on the command line: the list fits 80 columns, fetches say what they did, gated exits non-zero."""

from __future__ import annotations

import io
import json

from podium.cli.main import main
from podium.fetch.progress import PlainProgress

from tests.fetch.loopback import Behaviour, asset, md5


def _write_cat(path, base):
    path.write_text(json.dumps({"benchmarks": {"tb": {"aliases": ["tb"], "paths": {"model": "model/m.onnx"}, "assets": [
        asset("m.onnx", "model", "model/m.onnx", [base + "/m.onnx"], checksum={"algorithm": "md5", "value": md5(b"m" * 10)}),
        asset("secret-set", "data", "data", ["https://example.invalid/apply"], gated=True,
              manual={"steps": "apply for access", "expect": "data/index.txt"}),
    ]}}}))
    return str(path)


def test_list_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(len(line.rstrip()) <= 80 for line in out.splitlines())
    for word in ("resnet50_v1.onnx", "imagenet2012-val", "gated", "dev-clean.tar.gz", "tb00_40M.pt", "md5"):
        assert word in out


def test_fetch_then_refetch_then_gated(capsys, server, tmp_path):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(b"m" * 10)
    cat = _write_cat(tmp_path / "cat.json", base)
    dest = str(tmp_path / "d")
    assert main(["fetch", "tb", "--what", "model", "--catalogue", cat, "--dest", dest]) == 0
    out = capsys.readouterr()
    assert "m.onnx: fetched and verified (md5" in out.out
    assert "m.onnx: downloading 10 B" in out.err  # plain progress lines when not on a terminal
    assert main(["fetch", "tb", "--what", "model", "--catalogue", cat, "--dest", dest]) == 0
    assert "already fetched and verified" in capsys.readouterr().out
    assert len(state.requests("/m.onnx")) == 1
    rc = main(["fetch", "tb", "--catalogue", cat, "--dest", dest])
    err = capsys.readouterr().err
    assert rc == 3 and "Traceback" not in err
    assert "secret-set cannot be downloaded by podium" in err and "apply for access" in err
    assert str(tmp_path / "d" / "data" / "index.txt") in err


def test_a_failed_download_is_one_line_exit_2(capsys, server, tmp_path):
    base, state = server
    state.paths["/m.onnx"] = Behaviour(b"wrong")
    cat = _write_cat(tmp_path / "cat.json", base)
    rc = main(["fetch", "tb", "--what", "model", "--catalogue", cat, "--dest", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("podium: error: asset m.onnx: md5 mismatch: expected ")
    assert "Traceback" not in "\n".join(err)


def test_digits_has_nothing_to_fetch_and_no_benchmark_is_one_line(capsys):
    assert main(["fetch", "digits"]) == 0
    assert "nothing to fetch" in capsys.readouterr().out
    assert main(["fetch"]) == 2
    assert "benchmark: missing" in capsys.readouterr().err


def test_plain_progress_prints_tenths_not_every_chunk():
    buf = io.StringIO()
    p = PlainProgress(buf)
    p.start("big.bin", 1000, 0)
    for done in range(10, 1001, 10):
        p.update(done)
    p.finish()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "big.bin: downloading 1000 B"
    assert 8 <= len(lines) <= 11 and lines[1].startswith("big.bin: 10%")


def test_the_rich_bar_runs_through_two_downloads_and_a_retry():
    from podium.fetch.progress import RichProgress

    p = RichProgress()
    for name in ("a.bin", "b.bin"):
        p.start(name, 100, 0)
        p.update(50)
        p.start(name, 100, 50)  # a retry resumes the same bar
        p.update(100)
        p.finish()
    p.finish()  # a second finish is harmless


def test_the_real_imagenet_entry_says_where_to_put_it_and_exits_3(capsys, tmp_path):
    rc = main(["fetch", "resnet", "--what", "data", "--dest", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 3 and "Traceback" not in err
    assert "image-net.org" in err and f"put it at:   {tmp_path / 'data'}" in err
    assert str(tmp_path / "data" / "val_map.txt") in err
