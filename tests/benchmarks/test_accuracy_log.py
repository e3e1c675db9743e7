"""Reading mlperf_log_accuracy.json: de-duplication, hex decoding and the error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.benchmarks import AccuracyLogError, AccuracyResult, read_accuracy_log
from podium.benchmarks.accuracy import decode_int32
from podium.errors import PodiumError


def _write(path: Path, entries: object) -> Path:
    path.write_text(json.dumps(entries))
    return path


def _i32(v: int) -> str:
    return v.to_bytes(4, "little", signed=True).hex().upper()


def test_first_response_per_index_wins(tmp_path: Path) -> None:
    log = _write(tmp_path / "mlperf_log_accuracy.json", [
        {"seq_id": 0, "qsl_idx": 3, "data": _i32(7)},
        {"seq_id": 1, "qsl_idx": 1, "data": _i32(-2)},
        {"seq_id": 2, "qsl_idx": 3, "data": _i32(9)},
    ])
    data = read_accuracy_log(tmp_path)  # a folder works too
    assert data == {3: bytes.fromhex(_i32(7)), 1: bytes.fromhex(_i32(-2))}
    idx, vals = decode_int32(data, log)
    assert idx.tolist() == [3, 1] and vals.tolist() == [7, -2]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"a": 1}', "expected a JSON list"),
    ("[]", "no responses"),
    ('[{"seq_id": 0, "data": "00"}]', "entry 0 lacks the fields qsl_idx and data"),
    ('[{"seq_id": 0, "qsl_idx": 99, "data": "00"}]', r"entry 0 has qsl_idx 99, expected 0..9"),
    ('[{"seq_id": 0, "qsl_idx": 1, "data": "XYZ"}]', "data that is not hex"),
])
def test_malformed_logs(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(content)
    with pytest.raises(AccuracyLogError, match=message) as err:
        read_accuracy_log(path, total_sample_count=10)
    assert str(path) in str(err.value) and isinstance(err.value, PodiumError)


def test_missing_log(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="accuracy log not found"):
        read_accuracy_log(tmp_path / "nope.json")


def test_short_response_for_int32(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="qsl_idx 0 has 2 bytes, expected an int32"):
        decode_int32({0: b"\x01\x02"}, tmp_path / "x.json")


def test_result_text() -> None:
    r = AccuracyResult("accuracy", 98.5, 97.5, True, "accuracy=98.500%, good=197, total=200")
    assert r.accuracy_txt == "accuracy=98.500%, good=197, total=200\n"
    assert r.verdict() == "accuracy 98.500 (target 97.500): PASS"
