"""``podium suite plan``: the matrix, the estimates, and every prerequisite problem before anything runs."""

from __future__ import annotations

from pathlib import Path

from podium.campaign import load_campaign, make_plan
from podium.campaign import plan as plan_mod
from podium.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "campaign.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_plan_digits_example_is_ready_and_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rc = main(["suite", "plan", str(EXAMPLES / "digits.yaml")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "8 runs (short runs)" in out and "ready" in out
    assert "digits-Offline-ort-2t" in out and "total (rough):" in out
    assert "not a valid MLPerf duration" in out
    assert all(len(line) <= 80 for line in out.splitlines() if "note:" not in line)


def test_plan_v21_datacenter_lists_missing_files(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rc = main(["suite", "plan", str(EXAMPLES / "v2.1-datacenter-closed.yaml")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "13 runs" in out
    for bench in ("resnet", "retinanet", "bert-99", "bert-99.9", "rnnt", "3d-unet-99", "dlrm-99"):
        assert f"{bench}-Offline-onnxruntime" in out
    assert "model_path" in out and "file not found" in out and "data_dir" in out and "folder not found" in out
    assert "nothing can run" in out


def test_prerequisite_problems_are_all_listed(tmp_path, monkeypatch):
    text = """\
round: v2.1
division: closed
category: datacenter
submitter: acme
system: {name: box1, description: nope.json}
settings: {full: true}
modes: [performance, accuracy]
runs:
  - benchmark: resnet
    scenario: Offline
    backend: nosuchbackend
    model_path: missing.onnx
    data_dir: missing-data
  - benchmark: digits
    scenario: Offline
"""
    p = make_plan(load_campaign(_write(tmp_path, text)))
    probs = "\n".join(p.problems)
    assert "system.description" in probs and "nope.json: file not found" in probs
    assert "resnet on a datacenter system needs Server, Offline in v2.1; missing Server" in probs
    assert "campaign.yaml:9: resnet-Offline-nosuchbackend: the closed division needs compliance (modes)" in probs
    assert "backend nosuchbackend: unknown backend" in probs
    assert "model_path" in probs and "missing.onnx: file not found" in probs
    assert "data_dir" in probs and "missing-data: folder not found" in probs
    assert any("digits is not an MLPerf v2.1 benchmark" in n for n in p.notes)
    assert not p.ok


def test_memory_check_uses_the_model_size(tmp_path, monkeypatch):
    monkeypatch.setattr(plan_mod, "available_memory", lambda: 1000)
    text = "division: open\ncategory: edge\nsubmitter: a\nsystem: b\nruns:\n  - {benchmark: digits, scenario: Offline}\n"
    p = make_plan(load_campaign(_write(tmp_path, text)))
    assert any("memory: the model" in x and "GiB available" in x for x in p.problems)
    monkeypatch.setattr(plan_mod, "available_memory", lambda: 2**40)
    assert make_plan(load_campaign(_write(tmp_path, text))).ok


def test_bad_file_exits_with_the_lines(tmp_path, capsys):
    p = _write(tmp_path, "division: open\ncategory: edge\nsubmitter: a\nsystem: b\nruns:\n"
                         "  - {benchmark: digits, scenario: offline2}\n")
    rc = main(["suite", "plan", str(p)])
    err = capsys.readouterr().err
    assert rc != 0
    assert ("campaign.yaml:6: runs[0].scenario: expected one of SingleStream, MultiStream, Server, Offline, got "
            "'offline2'") in err
