"""``podium run`` end to end on the default benchmark (digits): a VALID short run and a passing accuracy run,
with the official log files and accuracy.txt on disk."""

from __future__ import annotations

import json
import re

from podium.cli.main import main


def test_default_run_writes_official_logs_and_passes(tmp_path, capsys):
    out = tmp_path / "res"
    rc = main(["run", "--duration", "1", "--output", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "not a valid MLPerf" in text  # the short run says so
    perf, acc = out / "latest" / "performance", out / "latest" / "accuracy"
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
                 "podium/podium_result.json"):
        assert (perf / name).is_file() and (acc / name).is_file()
    # podium's own files sit in podium/, where no official checker's file list looks
    assert not (perf / "podium_result.json").exists() and not (perf / "podium_samples.npz").exists()
    assert "VALID (short run)" in text
    summary = (perf / "mlperf_log_summary.txt").read_text()
    assert "Scenario : Offline" in summary and "Result is : VALID" in summary
    line = (acc / "accuracy.txt").read_text().strip()
    m = re.fullmatch(r"accuracy=(\d+\.\d{3})%, good=(\d+), total=539", line)
    assert m and float(m.group(1)) >= 97.53
    result = json.loads((perf / "podium" / "podium_result.json").read_text())
    assert result["valid"] is True and any("short run" in lab for lab in result["labels"])
    assert result["benchmark"]["name"] == "digits" and len(result["model"]["sha256"]) == 64
    acc_json = json.loads((acc / "podium" / "podium_result.json").read_text())
    assert acc_json["accuracy"]["passed"] is True


def test_single_stream_performance_only(tmp_path, capsys):
    out = tmp_path / "ss"
    rc = main(["run", "--scenario", "SingleStream", "--mode", "performance", "--duration", "1",
               "--output", str(out)])
    capsys.readouterr()
    assert rc == 0
    assert not (out / "latest" / "accuracy").exists()
    summary = (out / "latest" / "performance" / "mlperf_log_summary.txt").read_text()
    # the default round (v6.1, LoadGen 6.0.17) labels the percentile with one decimal
    assert "90.0th percentile latency (ns)" in summary and "Result is : VALID" in summary


def test_compliance_tests_write_the_checker_layout(tmp_path, capsys):
    out = tmp_path / "c"
    rc = main(["run", "--round", "v2.1", "--duration", "1", "--compliance", "all", "--output", str(out)])
    cap = capsys.readouterr()
    assert rc in (0, 1), cap.err  # 1: a short run on a busy machine may fail the +-10 % performance check
    comp = out / "latest" / "compliance"
    for test in ("TEST01", "TEST04", "TEST05"):
        perf = (comp / test / "verify_performance.txt").read_text()
        # a 1-s run on a busy machine may itself be INVALID ("Test results are invalid"): the layout is the point
        assert perf.startswith("Verifying performance.") and ("TEST PASS" in perf or "TEST FAIL" in perf)
        assert (comp / test / "performance" / "run_1" / "mlperf_log_detail.txt").is_file()
    # the digits model is deterministic: the sampled performance-mode responses equal the accuracy run's
    assert (comp / "TEST01" / "verify_accuracy.txt").read_text().rstrip().endswith("TEST PASS")
    assert not (comp / ".runs" / "TEST01" / "audit.config").exists()  # removed after the run


def test_server_short_run_sizes_its_target_from_a_measurement(tmp_path, capsys):
    out = tmp_path / "srv"
    main(["run", "--scenario", "Server", "--mode", "performance", "--duration", "1", "--output", str(out)])
    text = capsys.readouterr().out
    assert "server_target_qps = " in text and "--find-peak" in text
    summary = (out / "latest" / "performance" / "mlperf_log_summary.txt").read_text()
    assert "Scenario : Server" in summary and "Scheduled samples per second : " in summary
    result = json.loads((out / "latest" / "performance" / "podium" / "podium_result.json").read_text())
    assert result["performance"]["issue_lateness"]["kind"] == "issue_lateness"
