"""Published MLPerf v2.1 figures: the data file, matching and per-accelerator comparison."""

from __future__ import annotations

import pytest

from podium.errors import PodiumError
from podium.report.published import RATE_UNITS, compare, load_published, matching, run_value

UNITS = RATE_UNITS | {"ms", "inferences/s/W"}


def test_data_file_is_well_formed():
    header, figures = load_published()
    assert "statements" in header["source"] and "not verified" in header["caveat"]
    assert len(figures) >= 25
    for f in figures:
        assert f.unit in UNITS, f
        assert f.qualifier in ("exact", "at least", "up to", "about"), f
        assert f.model in ("resnet50", "retinanet", "bert", "rnnt", "3d-unet", "dlrm"), f
        assert f.scenario in (None, "Offline", "Server", "SingleStream", "MultiStream"), f
        assert f.accelerators is None or f.accelerators >= 0
        assert f.value > 0 and f.submitter and f.system


def test_known_figures():
    _, figures = load_published()
    biren = [f for f in figures if f.submitter == "Biren" and f.model == "resnet50"]
    assert len(biren) == 1 and biren[0].value == 424600 and biren[0].accelerators == 8
    assert biren[0].per_accelerator == pytest.approx(53075.0)
    azure = [f for f in figures if f.submitter == "Azure" and f.scenario == "Server"]
    assert azure[0].value == 24700 and azure[0].per_accelerator is None  # count not stated
    alibaba_ss = [f for f in figures if f.unit == "ms" and f.submitter == "Alibaba"]
    assert sorted(f.value for f in alibaba_ss) == [0.377, 0.398]
    assert alibaba_ss[0].per_accelerator is None  # latencies are not divided


def test_matching_by_model_and_scenario():
    _, figures = load_published()
    server = matching(figures, "resnet", "Server")
    assert server and all(f.model == "resnet50" and (f.scenario in ("Server", None)) for f in server)
    assert all(f.unit in RATE_UNITS for f in server)
    assert all(f.unit == "ms" for f in matching(figures, "resnet", "SingleStream"))
    assert matching(figures, "digits", "Offline") == []
    assert {f.benchmark for f in matching(figures, "bert-99", "Offline")} >= {"bert-99.9"}  # the family


def test_compare_per_accelerator():
    cmp = compare("resnet", "Offline", 50000.0, accelerators=2)
    assert cmp.per_accelerator == 25000.0
    biren = next(f for f in cmp.figures if f.submitter == "Biren")
    assert cmp.ratio(biren) == pytest.approx(25000.0 / 53075.0)
    no_count = next(f for f in cmp.figures if f.accelerators is None)
    assert cmp.ratio(no_count) is None
    lat = compare("resnet", "SingleStream", 0.796)
    assert lat.ratio(next(f for f in lat.figures if f.value == 0.398)) == pytest.approx(0.5)


def test_compare_errors():
    with pytest.raises(PodiumError, match="benchmark digits: no published"):
        compare("digits", "Offline", 1.0)
    with pytest.raises(PodiumError, match="--scenario"):
        compare("resnet", "Batch", 1.0)
    with pytest.raises(PodiumError, match="--accelerators"):
        compare("resnet", "Offline", 1.0, accelerators=-1)


def test_run_value_units():
    assert run_value("SingleStream", {"value": 2_500_000, "unit": "ns"}) == 2.5
    assert run_value("Offline", {"value": 100.0, "unit": "samples/s"}) == 100.0
    assert run_value("Offline", {}) is None


def test_cli_compare(report_runs, capsys):
    from tests.submission.cli import run_cli

    assert run_cli(["compare", str(report_runs["server"]), "--accelerators", "1"]) == 0
    out = capsys.readouterr().out
    assert "PUBLISHED CLAIMS" in out and "YOURS" in out and "SAPEON" in out and "CLAIM =" in out
    assert run_cli(["compare", "--benchmark", "bert-99", "--scenario", "Offline", "--value", "500"]) == 0
    assert "Moffett" in capsys.readouterr().out
    assert run_cli(["compare"]) == 2
