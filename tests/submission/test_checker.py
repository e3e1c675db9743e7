"""Every rule of podium's v2.1 checker fires on a tree broken for it (and only then the verdict is an error)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Callable

import pytest

from podium.submission import RULES, check_submission, write_summary_csv
from podium.submission.table import HEADER

SUB = "closed/SimOrg"
RES = f"{SUB}/results/simsys/resnet"
OFF = f"{RES}/Offline"
SRV = f"{RES}/Server"
COMP = f"{SUB}/compliance/simsys/resnet"


def edit_detail(path: Path, key: str, value) -> None:
    """Set the value of the first record ``key`` of a detail log."""
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(":::MLLOG") and f'"key": "{key}"' in line:
            rec = json.loads(line[len(":::MLLOG"):])
            rec["value"] = value
            lines[i] = ":::MLLOG " + json.dumps(rec)
            break
    else:
        raise AssertionError(f"{key} not in {path}")
    path.write_text("\n".join(lines) + "\n")


def drop_detail_key(path: Path, key: str) -> None:
    path.write_text("\n".join(line for line in path.read_text().splitlines() if f'"key": "{key}"' not in line)
                    + "\n")


def edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    path.write_text(json.dumps(data))


def _detail(t: Path, folder: str) -> Path:
    return t / folder / "performance/run_1/mlperf_log_detail.txt"


def _untruncate(t: Path) -> None:
    p = t / OFF / "accuracy/mlperf_log_accuracy.json"
    p.write_text("[\n" + ",\n".join('{ "seq_id" : %d, "qsl_idx" : 1, "data" : "00" }' % i for i in range(400))
                 + "\n]\n")


def _remove_scenario(t: Path) -> None:
    for kind in ("results", "measurements", "compliance"):
        shutil.rmtree(t / SUB / kind / "simsys/resnet/Server")


def _rename_model(t: Path) -> None:
    for kind in ("results", "measurements", "compliance"):
        (t / SUB / kind / "simsys/resnet").rename(t / SUB / kind / "simsys/resnet-sparse")


def _add_power(t: Path) -> None:
    (t / OFF / "performance/power").mkdir()
    (t / OFF / "performance/power/client.json").write_text("{}")


# rule -> [(what is broken, how)]
BREAKERS: dict[str, list[tuple[str, Callable[[Path], None]]]] = {
    "layout": [("invalid division folder", lambda t: (t / "closed-ish").mkdir()),
               ("scenario folder misspelt", lambda t: (t / RES / "Ofline").mkdir())],
    "files": [("extra file in performance/run_1", lambda t: (t / OFF / "performance/run_1/notes.txt").write_text("x")),
              ("accuracy.txt missing", lambda t: (t / OFF / "accuracy/accuracy.txt").unlink()),
              ("performance/run_1 missing", lambda t: shutil.rmtree(t / SRV / "performance"))],
    "system": [("required field missing", lambda t: edit_json(t / SUB / "systems/simsys.json", cooling=None)),
               ("invalid status", lambda t: edit_json(t / SUB / "systems/simsys.json", status="sold")),
               ("submitter differs", lambda t: edit_json(t / SUB / "systems/simsys.json", submitter="Other")),
               ("systems json missing", lambda t: (t / SUB / "systems/simsys.json").unlink())],
    "model": [("unofficial name in closed", _rename_model)],
    "measurements": [("user.conf missing",
                      lambda t: (t / SUB / "measurements/simsys/resnet/Offline/user.conf").unlink()),
                     ("JSON key missing", lambda t: edit_json(
                         t / SUB / "measurements/simsys/resnet/Offline/simsys_podium-onnxruntime_Offline.json",
                         retraining=None)),
                     ("code folder missing", lambda t: shutil.rmtree(t / SUB / "code"))],
    "log": [("invalid :::MLLOG line", lambda t: _detail(t, OFF).write_text(
                _detail(t, OFF).read_text() + ':::MLLOG {"key": broken\n')),
            ("required key missing", lambda t: drop_detail_key(_detail(t, SRV), "effective_target_latency_ns")),
            ("error entry", lambda t: _detail(t, OFF).write_text(_detail(t, OFF).read_text() + ':::MLLOG '
                + json.dumps({"key": "error_runtime", "value": "boom", "metadata": {"is_error": True}}) + "\n"))],
    "validity": [("INVALID result", lambda t: edit_detail(_detail(t, OFF), "result_validity", "INVALID"))],
    "seeds": [("wrong qsl seed", lambda t: edit_detail(_detail(t, OFF), "effective_qsl_rng_seed", 1)),
              ("TEST05 run with default seeds", lambda t: edit_detail(
                  t / COMP / "Offline/TEST05/performance/run_1/mlperf_log_detail.txt", "effective_schedule_rng_seed",
                  299063814864929621))],
    "duration": [("min_duration 60 s", lambda t: edit_detail(_detail(t, SRV), "effective_min_duration_ms", 60000))],
    "sample-count": [("performance sample count", lambda t: edit_detail(
                         _detail(t, OFF), "effective_performance_sample_count", 500)),
                     ("Offline samples per query", lambda t: edit_detail(
                         _detail(t, OFF), "effective_samples_per_query", 1000))],
    "latency": [("Server bound", lambda t: edit_detail(_detail(t, SRV), "effective_target_latency_ns", 20_000_000))],
    "early-stopping": [("not met", lambda t: edit_detail(_detail(t, SRV), "early_stopping_met", False))],
    "accuracy": [("below target", lambda t: (t / OFF / "accuracy/accuracy.txt").write_text(
                     "accuracy=70.000%, good=1, total=2\nhash=" + "0" * 64 + "\n")),
                 ("no hash line", lambda t: (t / OFF / "accuracy/accuracy.txt").write_text(
                     (t / OFF / "accuracy/accuracy.txt").read_text().split("hash=")[0])),
                 ("log not truncated", _untruncate)],
    "compliance": [("TEST04 missing", lambda t: shutil.rmtree(t / COMP / "Offline/TEST04")),
                   ("verification failed", lambda t: (t / COMP / "Server/TEST05/verify_performance.txt").write_text(
                       "TEST FAIL\n")),
                   ("compliance folder missing", lambda t: shutil.rmtree(t / COMP / "Server"))],
    "scenarios": [("Server missing for datacenter", _remove_scenario)],
    "power": [("power folder incomplete", _add_power)],
}
CASES = [(rule, what, fn) for rule, items in BREAKERS.items() for what, fn in items]


def test_every_rule_has_a_breaker():
    assert set(BREAKERS) == set(RULES)


@pytest.mark.parametrize("rule,what,breaker", CASES, ids=[f"{r}:{w}" for r, w, _ in CASES])
def test_rule_fires(tree, rule, what, breaker):
    breaker(tree)
    rep = check_submission(tree)
    assert not rep.ok
    hits = [p for p in rep.errors if p.rule == rule]
    assert hits, f"{what}: expected a {rule} error, got {[p.line() for p in rep.errors]}"
    # one-line messages naming the file or folder
    assert all("\n" not in p.message and p.path for p in rep.problems)


def test_ignored_scenario_only_warns(tree):
    shutil.copytree(tree / OFF, tree / RES / "SingleStream")  # not a datacenter scenario of resnet
    rep = check_submission(tree)
    assert rep.ok
    assert any(p.rule == "scenarios" and p.level == "warning" and "ignored" in p.message for p in rep.warnings)


def test_log_scenario_must_match_its_folder(tree):
    """An Offline log in a MultiStream folder is an error (only SingleStream may stand in for MultiStream)."""
    from podium.submission.checks import Findings, check_performance

    f = Findings(tree)
    check_performance(f, tree / OFF / "performance/run_1", "resnet", "MultiStream", "closed", {})
    assert any(p.rule == "log" and "Offline run but its folder is MultiStream" in p.message for p in f.problems)
    f = Findings(tree)
    check_performance(f, tree / OFF / "performance/run_1", "resnet", "Offline", "closed", {})
    assert f.problems == []


def test_summary_csv(packaged):
    rep = check_submission(packaged)
    buf = io.StringIO()
    write_summary_csv(rep.rows, buf)
    text = buf.getvalue()
    assert '"datacenter","simsys",simsys,resnet,resnet,Offline,' in text  # the official quoting
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(HEADER)
    assert len(rows) == 3 and all(len(r) == len(HEADER) for r in rows)
    by_scen = {r[8]: dict(zip(HEADER, r, strict=True)) for r in rows[1:]}
    off = by_scen["Offline"]
    assert (off["Organization"], off["Availability"], off["Division"]) == ("SimOrg", "available", "closed")
    assert off["SystemType"] == "datacenter" and off["Platform"] == "simsys" and off["MlperfModel"] == "resnet"
    assert float(off["Result"]) == pytest.approx(40.0, rel=0.01)  # 24600 samples in 615 s
    assert off["Accuracy"] == "80.469"
    assert off["Units"] == "Samples/s" and by_scen["Server"]["Units"] == "Queries/s"
    assert off["Location"] == OFF
    assert [off[k] for k in ("compilance", "errors", "version", "inferred", "has_power")] == \
        ["1", "0", "v2.1", "0", "False"]


def test_cli_check_exit_codes(tree, packaged, capsys, tmp_path):
    from tests.submission.cli import run_cli

    assert run_cli(["submission", "check", str(packaged), "--csv", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "SUMMARY: submission looks OK" in out
    assert (tmp_path / "s.csv").read_text().startswith("Organization,")
    edit_detail(_detail(tree, SRV), "early_stopping_met", False)
    assert run_cli(["submission", "check", str(tree)]) == 1
    out = capsys.readouterr().out
    assert "ERROR [early-stopping]" in out and "SUMMARY: submission has errors" in out
    assert run_cli(["submission", "table", str(packaged), "--csv", "-"]) == 0
    assert capsys.readouterr().out.count("\n") == 3


def test_empty_or_missing_root(tmp_path):
    rep = check_submission(tmp_path)
    assert not rep.ok and rep.errors[0].rule == "layout"
    rep = check_submission(tmp_path / "nope")
    assert not rep.ok


def test_an_accuracy_log_of_another_scenario_is_flagged(tree):
    """A stale Offline accuracy log copied under Server: the checker names it (the official one does not)."""
    from podium.submission.checks import Findings, check_accuracy

    f = Findings(tree)
    check_accuracy(f, tree / OFF / "accuracy", "resnet", True, "Server")
    assert any(p.rule == "log" and "accuracy log is a Offline run but its folder is Server" in p.message
               for p in f.problems)
    f = Findings(tree)
    check_accuracy(f, tree / OFF / "accuracy", "resnet", True, "Offline")
    assert not [p for p in f.problems if p.rule == "log"]
