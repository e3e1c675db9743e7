"""The campaign file's schema: every mistake is one line naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.campaign import CampaignError, load_campaign
from podium.campaign.schema import parse_campaign

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"

GOOD = """\
division: open
category: edge
submitter: acme
system: {name: box1}
settings: {duration: 1}
runs:
  - benchmark: digits
    scenario: Offline
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(CampaignError) as info:
        parse_campaign(text, Path("/tmp/campaign.yaml"))
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_good_file_builds_the_matrix(tmp_path):
    c = parse_campaign(GOOD, tmp_path / "c.yaml")
    assert [r.run_id for r in c.runs] == ["digits-Offline-onnxruntime"]
    assert c.runs[0].settings.duration_s == 1.0 and c.runs[0].short
    assert c.output == (tmp_path / "c-campaign").resolve() and c.round == "v6.1"  # the default: the newest round


def test_several_mistakes_each_name_line_and_field():
    text = """\
division: closed
category: datacentre
submitter: acme
system: {name: box1}
setings: {duration: 1}
settings: {duration: -2, query_count: 0}
runs:
  - benchmark: digits
    scenario: Offline
  - benchmark: digits
    scenario: offline2
    backends:
      - {backend: onnxruntime, options: {intra_op_threads: 1}, nmae: a}
  - benchmark: digitz
    scenarios: [Server]
    modes: [performance, compliance]
"""
    problems = _problems(text)
    assert "campaign.yaml:2: category: expected one of datacenter, edge, got 'datacentre'" in problems
    assert any(p.startswith("campaign.yaml:5: setings: unknown key; did you mean 'settings'?") for p in problems)
    assert "campaign.yaml:6: settings.duration: expected a positive number, got -2" in problems
    assert "campaign.yaml:6: settings.query_count: expected an integer >= 1, got 0" in problems
    assert ("campaign.yaml:11: runs[1].scenario: expected one of SingleStream, MultiStream, Server, Offline, "
            "got 'offline2'") in problems
    assert any(p.startswith("campaign.yaml:13: runs[1].backends[0].nmae: unknown key; did you mean 'name'?")
               for p in problems)
    assert any(p.startswith("campaign.yaml:14: runs[2].benchmark: unknown; did you mean 'digits'?")
               for p in problems)
    assert any(p.startswith("campaign.yaml:16: runs[2].modes: compliance is compared") for p in problems)
    assert all(p.count("\n") == 0 and p.startswith("campaign.yaml:") for p in problems)


def test_missing_required_keys_and_wrong_types():
    problems = _problems("division: open\nruns: 3\nsystem: {status: gone}\n")
    assert "campaign.yaml:1: category: missing (required)" in problems
    assert "campaign.yaml:1: submitter: missing (required)" in problems
    assert "campaign.yaml:2: runs: expected a list, got a value" in problems
    assert "campaign.yaml:3: system.name: missing (required)" in problems


def test_duration_and_full_conflict():
    problems = _problems(GOOD.replace("{duration: 1}", "{duration: 3, full: true}"))
    assert problems == ["campaign.yaml:5: settings.duration: a full run takes the settings files' durations; give "
                        "duration or full: true, not both"]


def test_duplicate_runs_and_bad_yaml():
    dup = GOOD + "  - benchmark: digits\n    scenario: Offline\n"
    assert any(p.startswith("campaign.yaml:9: runs[1]: run digits-Offline-onnxruntime is already in the matrix")
               for p in _problems(dup))
    bad = _problems("runs: [\n  - a\n")
    assert len(bad) == 1 and bad[0].startswith("campaign.yaml:") and "not valid YAML" in bad[0]


def test_examples_validate():
    digits = load_campaign(EXAMPLES / "digits.yaml")
    assert len(digits.runs) == 8
    assert {r.scenario for r in digits.runs} == {"SingleStream", "MultiStream", "Server", "Offline"}
    assert {r.backend.label for r in digits.runs} == {"ort-1t", "ort-2t"}
    dc = load_campaign(EXAMPLES / "v2.1-datacenter-closed.yaml")
    assert dc.division == "closed" and dc.category == "datacenter"
    assert all(r.settings.full and "compliance" in r.modes for r in dc.runs)


def test_current_round_examples_cover_what_v61_requires_and_match_the_readme():
    from podium.campaign import make_plan

    readme = (EXAMPLES.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in ("v6.1-datacenter-closed.yaml", "v6.1-edge-closed.yaml", "v2.1-datacenter-closed.yaml"):
        c = load_campaign(EXAMPLES / name)
        assert c.division == "closed" and all(r.settings.full and "compliance" in r.modes for r in c.runs)
        # every problem is a missing file, none a missing scenario or mode of the round
        assert all("file not found" in p or "folder not found" in p for p in make_plan(c).problems), name
    body = [ln for ln in (EXAMPLES / "v6.1-datacenter-closed.yaml").read_text().splitlines() if not ln.startswith("#")]
    assert "\n".join(body) in readme  # the README shows the full file
