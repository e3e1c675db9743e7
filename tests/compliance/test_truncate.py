"""Accuracy-log truncation and the hash line, on logs of known content."""

from __future__ import annotations

import hashlib
import re

import pytest

from podium.compliance import ComplianceError
from podium.compliance.truncate import (
    MAX_ACCURACY_LOG_SIZE,
    TRUNCATION_MARKER,
    VIEWABLE_SIZE,
    accuracy_log_hash,
    find_hash,
    truncate_accuracy_log,
    truncate_submission,
)
from podium.loadgen.logs import write_accuracy_log

N = 1000
# Fixed-width entries: seq 10000+k, qsl_idx 20000+k, 4 data bytes -> every line has the same length.
ENTRIES = [(10000 + k, 20000 + k, f"{k * 7919 % 2**32:08X}") for k in range(N)]
LINE = len('{ "seq_id" : 10000, "qsl_idx" : 20000, "data" : "00000000" }')
ENTRY_RE = re.compile(r'\{ "seq_id" : (\d+), "qsl_idx" : (\d+), "data" : "([0-9A-F]+)" \}')


def make_log(folder, entries=ENTRIES, accuracy_txt: str | None = "accuracy=76.500%, good=765, total=1000\n"):
    acc = folder / "accuracy"
    acc.mkdir(parents=True, exist_ok=True)
    with open(acc / "mlperf_log_accuracy.json", "w") as fh:
        write_accuracy_log(fh, entries)
    if accuracy_txt is not None:
        (acc / "accuracy.txt").write_text(accuracy_txt)
    return acc


def kept_entries(text: str) -> list[int]:
    return [int(m.group(1)) - 10000 for m in ENTRY_RE.finditer(text)]


def test_truncation_keeps_4k_head_and_tail_and_appends_the_hash(tmp_path):
    acc = make_log(tmp_path)
    original = (acc / "mlperf_log_accuracy.json").read_bytes()
    assert len(original) == 2 + N * (LINE + 2) + 1  # "[\n" + lines with ",\n" / "\n" + "]\n"
    expected_hash = hashlib.sha256(original).hexdigest()

    out = truncate_accuracy_log(acc)
    assert out.action == "truncated" and out.hash == expected_hash
    assert out.original_size == len(original) and out.size == 2 * VIEWABLE_SIZE + len(TRUNCATION_MARKER) == 8199
    new = (acc / "mlperf_log_accuracy.json").read_bytes()
    assert new == original[:4096] + b"\n\n...\n\n" + original[-4096:]
    assert (acc / "accuracy.txt").read_text() == \
        f"accuracy=76.500%, good=765, total=1000\nhash={expected_hash}\n"
    assert find_hash(acc / "accuracy.txt") == expected_hash
    assert len(new) <= MAX_ACCURACY_LOG_SIZE

    # Which entries survive whole: line k spans [2 + k(L+2), 2 + k(L+2) + L).
    head, tail = new.decode().split(TRUNCATION_MARKER)
    head_n = sum(1 for k in range(N) if 2 + k * (LINE + 2) + LINE <= 4096)
    tail_start = len(original) - 4096
    tail_first = next(k for k in range(N) if 2 + k * (LINE + 2) >= tail_start)
    assert head_n == 66 and tail_first == 934  # L = 60: (4096 - 2 - 60) // 62 + 1; ceil((62003 - 4096 - 2) / 62)
    assert kept_entries(head) == list(range(head_n))
    assert kept_entries(tail) == list(range(tail_first, N))
    assert head.startswith('[\n{ "seq_id" : 10000, "qsl_idx" : 20000, "data" : "00000000" },')
    assert tail.endswith('{ "seq_id" : 10999, "qsl_idx" : 20999, "data" : "%08X" }\n]\n' % (999 * 7919))


def test_second_run_skips_and_large_log_with_hash_is_truncated_again(tmp_path):
    acc = make_log(tmp_path)
    first = truncate_accuracy_log(acc)
    again = truncate_accuracy_log(acc)
    assert again.action == "skipped" and again.hash == first.hash
    assert (acc / "accuracy.txt").read_text().count("hash=") == 1
    # a hash line present but the log still big: the official re-hashes and truncates
    acc2 = make_log(tmp_path / "two", accuracy_txt="accuracy=1.000%\nhash=deadbeef\n")
    out = truncate_accuracy_log(acc2)
    assert out.action == "truncated"
    assert (acc2 / "accuracy.txt").read_text().splitlines()[-2:] == ["hash=deadbeef", f"hash={out.hash}"]


def test_compliance_folder_without_accuracy_txt_gets_one(tmp_path):
    acc = make_log(tmp_path / "TEST01", accuracy_txt=None)
    with pytest.raises(ComplianceError, match="accuracy.txt: missing"):
        truncate_accuracy_log(acc)
    h = accuracy_log_hash(acc / "mlperf_log_accuracy.json")
    out = truncate_accuracy_log(acc, compliance=True)
    assert (acc / "accuracy.txt").read_text() == f"hash={h}\n" and out.hash == h


def test_small_log_is_kept_whole_and_hash_goes_on_its_own_line(tmp_path):
    acc = make_log(tmp_path, ENTRIES[:10], accuracy_txt="accuracy=90.000%, good=9, total=10")
    before = (acc / "mlperf_log_accuracy.json").read_bytes()
    assert len(before) < VIEWABLE_SIZE
    out = truncate_accuracy_log(acc)
    assert (acc / "mlperf_log_accuracy.json").read_bytes() == before
    assert (acc / "accuracy.txt").read_text() == f"accuracy=90.000%, good=9, total=10\nhash={out.hash}\n"


def test_backup_holds_the_untruncated_log(tmp_path):
    acc = make_log(tmp_path / "r")
    original = (acc / "mlperf_log_accuracy.json").read_bytes()
    out = truncate_accuracy_log(acc, backup=tmp_path / "bk" / "mlperf_log_accuracy.json")
    assert out.backup.read_bytes() == original
    acc2 = make_log(tmp_path / "r2")
    with pytest.raises(ComplianceError, match="backup already exists"):
        truncate_accuracy_log(acc2, backup=out.backup)
    assert (acc2 / "mlperf_log_accuracy.json").read_bytes() == original  # untouched


def test_tree_walk_covers_results_and_test01_only(tmp_path):
    sub = tmp_path / "closed" / "Org"
    res = make_log(sub / "results" / "sys" / "resnet" / "Offline")
    (sub / "results" / "sys" / "resnet" / "Offline" / "performance" / "run_1").mkdir(parents=True)
    t01 = make_log(sub / "compliance" / "sys" / "resnet" / "Offline" / "TEST01", accuracy_txt=None)
    t04 = make_log(sub / "compliance" / "sys" / "resnet" / "Offline" / "TEST04", accuracy_txt=None)
    other = make_log(tmp_path / "closed" / "Other" / "results" / "sys" / "resnet" / "Offline")
    outs = truncate_submission(tmp_path, "Org", backup=tmp_path / "bk")
    assert sorted((o.accuracy_log.parent, o.action) for o in outs) == sorted([(res, "truncated"),
                                                                              (t01, "truncated")])
    assert (t04 / "mlperf_log_accuracy.json").stat().st_size > MAX_ACCURACY_LOG_SIZE
    assert (other / "mlperf_log_accuracy.json").stat().st_size > MAX_ACCURACY_LOG_SIZE
    bk = tmp_path / "bk" / "closed" / "Org" / "results" / "sys" / "resnet" / "Offline" / "accuracy"
    assert accuracy_log_hash(bk / "mlperf_log_accuracy.json") == find_hash(res / "accuracy.txt")
    # a results folder without accuracy.txt is reported, not raised
    (res / "accuracy.txt").unlink()
    (res / "mlperf_log_accuracy.json").write_text("[\n" + "x" * 20000 + "\n]\n")
    outs = truncate_submission(tmp_path, "Org")
    assert [o.action for o in outs if o.accuracy_log.parent == res] == ["error"]
