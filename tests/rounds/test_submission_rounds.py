"""Submission trees of the current rounds (v6.0/v6.1): the packager's layout, podium's checker of that layout,
the results table's columns, and (when the official checker is at hand) the official v6.1 checker's verdict.

The runs are SIMULATED (tests/submission/fake_runs.py): full-length resnet runs on the simulated clock over a
50,000-sample QSL (the ImageNet validation set's size, which the current checker compares the accuracy run with).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podium.errors import PodiumError
from podium.loadgen.rules import active_round
from podium.submission import RunInput, SubmissionRefused, check_submission, package_submission, write_summary_csv
from podium.submission.checker import tree_round
from podium.submission.machine import Machine
from tests.submission.conftest import SYSTEM_FIELDS, write_fake_root
from tests.submission.fake_runs import make_run

EDGE = ("SingleStream", "MultiStream", "Offline")
MEASUREMENTS = {"input_data_types": "fp32", "retraining": "no", "starting_weights_filename": "resnet50_v1.onnx",
                "weight_data_types": "fp32", "weight_transformations": "none"}
SYSTEM = dict(SYSTEM_FIELDS, host_network_card_count=1, system_type_detail="edge server",
              host_networking="Ethernet", host_storage_type="NVMe", host_storage_capacity="1 TB",
              host_memory_capacity="16 GB", accelerator_model_name="Simulated accelerator", accelerators_per_node=1)


@pytest.fixture(scope="module")
def runs61(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("runs61")
    with active_round("v6.1"):
        for s in EDGE:
            make_run(base / s, scenario=s, total_samples=50000)
    (base / "sys.json").write_text(json.dumps(SYSTEM))
    (base / "meas.json").write_text(json.dumps(MEASUREMENTS))
    return base


@pytest.fixture(scope="module")
def machine(tmp_path_factory) -> Machine:
    root = tmp_path_factory.mktemp("machine61")
    write_fake_root(root)
    return Machine(root=root, nvml=None)


def _package(runs61: Path, out: Path, machine: Machine, scenarios=EDGE, **kw):
    args = dict(division="closed", submitter="Podium", system="sysA", out=out, system_json=runs61 / "sys.json",
                status="available", system_type="edge", measurements_json=runs61 / "meas.json", machine=machine)
    args.update(kw)
    return package_submission([RunInput(runs61 / s) for s in scenarios], **args)


@pytest.fixture(scope="module")
def tree61(runs61, machine, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tree61") / "tree"
    res = _package(runs61, out, machine)
    assert res.check is not None and res.check.ok, [p.line() for p in res.check.errors]
    return out


def test_the_current_layout(tree61):
    sub = tree61 / "closed" / "Podium"
    assert sorted(p.name for p in sub.iterdir()) == ["results", "src", "systems"]  # no measurements/, compliance/
    for s in EDGE:
        scen = sub / "results" / "sysA" / "resnet" / s
        names = {p.name for p in scen.iterdir()}
        assert names == {"performance", "accuracy", "TEST01", "TEST04", "measurements.json", "user.conf",
                         "README.md", "mlperf.conf"}, names
        assert {p.name for p in (scen / "performance" / "run_1").iterdir()} == {"mlperf_log_summary.txt",
                                                                                "mlperf_log_detail.txt"}
        assert (scen / "accuracy" / "mlperf_log_accuracy.json").stat().st_size <= 10 * 1024  # truncated
        assert re.search(r"^hash=\w+$", (scen / "accuracy" / "accuracy.txt").read_text(), re.M)
        from podium.loadgen.config import builtin_mlperf_conf_path

        assert (scen / "mlperf.conf").read_bytes() == builtin_mlperf_conf_path("v6.1").read_bytes()
        assert "v6.1 mlperf.conf" in (scen / "user.conf").read_text()
    assert (sub / "src" / "resnet" / "README.md").is_file()
    system = json.loads((sub / "systems" / "sysA.json").read_text())
    assert {"host_network_card_count", "system_type_detail"} <= set(system)
    assert json.loads(tree61.with_name("tree.podium_package.json").read_text())["round"] == "v6.1"


def test_the_tree_round_is_detected(tree61, tmp_path):
    assert tree_round(tree61) == "v6.1"
    copy = tmp_path / "copy"
    shutil.copytree(tree61, copy)  # no record beside it: the layout says a current round
    assert tree_round(copy) == "v6.1"
    rep = check_submission(copy)
    assert rep.ok and len(rep.rows) == 3 and {r.round for r in rep.rows} == {"v6.1"}


def test_the_results_table_has_the_current_columns(tree61):
    import io

    buf = io.StringIO()
    write_summary_csv(check_submission(tree61).rows, buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].split(",")[17] == "total_accelerators" and lines[0].endswith("design_power_watts,PrivateID")
    assert len(lines) == 4
    assert all(line.startswith('"Podium","available","closed","edge"') for line in lines[1:])
    assert all('"v6.1"' in line and '"acc: 80.000"' in line for line in lines[1:])


def _break_seed(tree: Path) -> None:
    d = tree / "closed/Podium/results/sysA/resnet/Offline/performance/run_1/mlperf_log_detail.txt"
    text = d.read_text()
    new = re.sub(r'("key": "effective_qsl_rng_seed", "value": )(\d+)', r"\g<1>1", text)
    assert new != text
    d.write_text(new)


def _drop(rel: str):
    def breaker(tree: Path) -> None:
        p = tree / "closed/Podium/results/sysA/resnet" / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return breaker


def _no_accelerators(tree: Path) -> None:
    p = tree / "closed/Podium/systems/sysA.json"
    data = json.loads(p.read_text())
    data["accelerators_per_node"] = 0  # the current checker takes 0 as no answer
    p.write_text(json.dumps(data))


BREAKERS = [("seeds", "v2.1 seeds", _break_seed), ("measurements", "no README", _drop("SingleStream/README.md")),
            ("compliance", "no TEST04", _drop("MultiStream/TEST04")),
            ("measurements", "no measurements.json", _drop("Offline/measurements.json")),
            ("scenarios", "no MultiStream", _drop("MultiStream")),
            ("system", "accelerators_per_node 0", _no_accelerators)]


@pytest.mark.parametrize("rule,what,breaker", BREAKERS, ids=[w for _, w, _ in BREAKERS])
def test_podium_finds_each_broken_rule(tree61, tmp_path, rule, what, breaker):
    tree = tmp_path / "tree"
    shutil.copytree(tree61, tree)
    breaker(tree)
    rep = check_submission(tree, round="v6.1")
    assert any(p.rule == rule for p in rep.errors), (what, [p.line() for p in rep.errors])


def test_a_round_v21_run_is_refused_in_one_line(runs61, machine, tmp_path):
    with active_round("v2.1"):
        make_run(tmp_path / "old", scenario="Offline", full=False, compliance=False)
    with pytest.raises(PodiumError, match=r"a round v2\.1 run; a v6\.1 submission takes runs of round v6\.1 only"):
        package_submission([RunInput(runs61 / "Offline"), RunInput(tmp_path / "old")], division="closed",
                           submitter="P", system="s", out=tmp_path / "t", round="v6.1", machine=machine)


def test_resnet_is_not_a_datacenter_benchmark_of_v61(runs61, machine, tmp_path):
    with pytest.raises(SubmissionRefused) as exc:
        _package(runs61, tmp_path / "t", machine, system_type="datacenter")
    assert any("resnet is not a v6.1 benchmark for datacenter systems" in r for r in exc.value.reasons)


def test_missing_edge_scenarios_are_refused(runs61, machine, tmp_path):
    with pytest.raises(SubmissionRefused) as exc:
        _package(runs61, tmp_path / "t", machine, scenarios=("Offline",))
    assert any("missing MultiStream, SingleStream" in r for r in exc.value.reasons)


# ---- the official v6.1 checker, when one is at hand ---------------------------------------------------------
CHECKER = os.environ.get("PODIUM_V61_CHECKER")  # the folder tools/submission of mlcommons/inference at d6147c7e


@pytest.mark.slow
@pytest.mark.skipif(not CHECKER or not Path(CHECKER, "submission_checker", "main.py").is_file(),
                    reason="set PODIUM_V61_CHECKER to tools/submission of mlcommons/inference (commit d6147c7e)")
def test_the_official_v61_checker_accepts_the_tree_with_no_error_line(tree61, tmp_path):
    csv = tmp_path / "official.csv"
    proc = subprocess.run([sys.executable, "-m", "submission_checker.main", "--input", str(tree61), "--version",
                           "v6.1", "--csv", str(csv)], cwd=CHECKER, capture_output=True, text=True, timeout=300,
                          check=False)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if " ERROR]" in line]
    assert proc.returncode == 0 and errors == [], errors
    import io

    buf = io.StringIO()
    write_summary_csv(check_submission(tree61).rows, buf)

    def rows(text: str) -> list[str]:  # Location: the official writes the path it was given
        return sorted(re.sub(r'"[^"]*closed/Podium/results/', '"closed/Podium/results/', line)
                      for line in text.splitlines())

    assert rows(csv.read_text()) == rows(buf.getvalue())


# ---- practice trees: podium's own benchmarks and short runs, checked with the round's rules -----------------
@pytest.fixture(scope="module")
def practice_runs(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("practice61")
    with active_round("v6.1"):
        for s in EDGE:
            make_run(base / s, benchmark="digits", scenario=s, full=False, compliance=False, total_samples=1000)
        make_run(base / "low", benchmark="digits", scenario="Offline", full=False, compliance=False,
                 good_percent=60, total_samples=1000)
    (base / "sys.json").write_text(json.dumps(SYSTEM))
    return base


def test_a_practice_tree_of_a_podium_benchmark_passes_with_its_label(practice_runs, machine, tmp_path):
    res = _package(practice_runs, tmp_path / "t", machine, division="open", measurements_json=None, practice=True)
    rep = res.check
    assert rep is not None and rep.ok, [p.line() for p in rep.errors]
    assert res.practice and any("digits is podium's own benchmark" in w for w in res.practice)
    assert any("short runs" in w for w in res.practice)
    assert any("practice tree: short run" in p.line() for p in rep.warnings)
    readmes = list((tmp_path / "t").rglob("README.md"))  # three scenarios and the code folder
    assert len(readmes) == 4 and all("PRACTICE tree: not an MLPerf submission" in r.read_text() for r in readmes)
    again = check_submission(tmp_path / "t", round="v6.1")  # the marker makes a later check a practice check too
    assert again.ok and again.practice


def test_without_practice_the_same_runs_are_refused(practice_runs, machine, tmp_path):
    with pytest.raises(SubmissionRefused) as exc:
        _package(practice_runs, tmp_path / "t", machine, division="open", measurements_json=None)
    assert any("digits" in r for r in exc.value.reasons)


def test_a_practice_run_below_its_own_target_is_still_an_error(practice_runs, machine, tmp_path):
    shutil.copytree(practice_runs, tmp_path / "runs")
    shutil.rmtree(tmp_path / "runs" / "Offline")
    shutil.copytree(practice_runs / "low", tmp_path / "runs" / "Offline")
    with pytest.raises(SubmissionRefused) as exc:
        _package(tmp_path / "runs", tmp_path / "t", machine, measurements_json=None, practice=True)
    assert any("acc 60.000 is below the digits target 75.6954" in r for r in exc.value.reasons), exc.value.reasons


def test_practice_is_a_current_round_idea(practice_runs, machine, tmp_path):
    with pytest.raises(PodiumError, match="practice"):
        package_submission([RunInput(practice_runs / "Offline")], division="open", submitter="P", system="s",
                           out=tmp_path / "t", round="v2.1", machine=machine, practice=True)


def test_the_cli_packages_and_checks_a_practice_tree(practice_runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    from podium.cli.main import main

    out = tmp_path / "t"
    rc = main(["submission", "package", *(str(practice_runs / s) for s in EDGE), "--division", "open",
               "--submitter", "Podium", "--system", "sysA", "--out", str(out), "--system-json",
               str(practice_runs / "sys.json"), "--status", "available", "--system-type", "edge", "--round", "v6.1",
               "--practice"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "(PRACTICE tree: not an MLPerf submission)" in text and "0 errors" in text, text
    rc = main(["submission", "check", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "practice: digits is podium's own benchmark" in text
    assert "SUMMARY: practice tree looks OK" in text
