"""Duplicate responses in mlperf_log_accuracy.json: each benchmark follows its own reference script.

accuracy-squad.py (BERT) keeps the last response per qsl_idx; accuracy_eval.py (RNN-T) counts every entry in
the WER; the vision and DLRM scripts keep the first. Every rule warns with the count and the rule applied.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from podium.benchmarks.accuracy import (AccuracyDuplicatesWarning, AccuracyLogError, duplicate_count,
                                        read_accuracy_entries, read_accuracy_log, select_responses)
from podium.benchmarks.rnnt import RNNTBenchmark
from podium.benchmarks.rnnt.transcripts import encode
from tests.benchmarks.speech_fixtures import manifest_entry


def _write(path: Path, entries: list[tuple[int, bytes]]) -> Path:
    path.write_text(json.dumps([{"seq_id": i, "qsl_idx": q, "data": d.hex().upper()}
                                for i, (q, d) in enumerate(entries)]))
    return path


def _i32(v: int) -> bytes:
    return v.to_bytes(4, "little", signed=True)


@pytest.fixture()
def dup_log(tmp_path: Path) -> Path:
    # index 3 logged three times, index 1 once
    return _write(tmp_path / "mlperf_log_accuracy.json", [(3, _i32(7)), (1, _i32(-2)), (3, _i32(9)), (3, _i32(5))])


def test_entries_keep_every_response_in_log_order(dup_log: Path) -> None:
    entries = read_accuracy_entries(dup_log)
    assert entries == [(3, _i32(7)), (1, _i32(-2)), (3, _i32(9)), (3, _i32(5))]
    assert duplicate_count(entries) == 2


def test_first_rule_warns_with_count_and_rule(dup_log: Path) -> None:
    with pytest.warns(AccuracyDuplicatesWarning, match=r"2 duplicate responses for 1 QSL indices; the first "
                      r"response per qsl_idx counts.*as accuracy-imagenet\.py does"):
        got = read_accuracy_log(dup_log, keep="first", reference="accuracy-imagenet.py")
    assert got == {3: _i32(7), 1: _i32(-2)}


def test_last_rule_is_a_dict_filled_in_log_order(dup_log: Path) -> None:
    with pytest.warns(AccuracyDuplicatesWarning, match="the last response per qsl_idx counts"):
        got = read_accuracy_log(dup_log, keep="last")
    assert got == {3: _i32(5), 1: _i32(-2)}
    assert list(got) == [3, 1]  # like the reference's dict: the key keeps its first position


def test_error_rule_refuses_duplicates(dup_log: Path) -> None:
    with pytest.raises(AccuracyLogError, match="2 duplicate responses, expected one per qsl_idx"):
        read_accuracy_log(dup_log, keep="error", reference="accuracy_kits.py")
    with pytest.raises(ValueError, match="keep: expected"):
        select_responses(read_accuracy_entries(dup_log), dup_log, keep="middle")  # type: ignore[arg-type]


def test_no_warning_without_duplicates(tmp_path: Path) -> None:
    log = _write(tmp_path / "mlperf_log_accuracy.json", [(0, _i32(1)), (1, _i32(2))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_accuracy_log(log, keep="last") == {0: _i32(1), 1: _i32(2)}


def test_a_bad_duplicate_is_still_refused(tmp_path: Path) -> None:
    # the reference decodes every entry, so a malformed overwritten response is an error too
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(json.dumps([{"seq_id": 0, "qsl_idx": 0, "data": "ZZ"}, {"seq_id": 1, "qsl_idx": 0, "data": "00"}]))
    with pytest.raises(AccuracyLogError, match="entry 0 .*not hex"):
        read_accuracy_log(path, keep="last")


def test_rnnt_counts_duplicates_in_the_wer(tmp_path: Path) -> None:
    (tmp_path / "dev-clean-wav.json").write_text(json.dumps([
        manifest_entry("a.wav", 16000, "hello world"), manifest_entry("b.wav", 16000, "the quick brown fox")]))
    hyp = lambda text: np.array(encode(text), dtype="<i8").tobytes()
    # utterance 0 logged twice: once right, once with both words wrong; utterance 1 right
    log = _write(tmp_path / "mlperf_log_accuracy.json",
                 [(0, hyp("hello world")), (1, hyp("the quick brown fox")), (0, hyp("yellow word"))])
    with pytest.warns(AccuracyDuplicatesWarning, match=r"1 duplicate responses.*every response counts, "
                      r"duplicates included, as the reference accuracy_eval\.py does"):
        result = RNNTBenchmark().score_accuracy(log, tmp_path)
    # accuracy_eval.py: 2 errors over 2 + 4 + 2 reference words (first-wins would give 0 %, last-wins 2/6)
    assert result.details["word_errors"] == 2 and result.details["reference_words"] == 8
    assert result.line == "Word Error Rate: 25.0%, accuracy=75.0%"
    assert result.details["duplicate_responses"] == 1 and result.details["responses_scored"] == 3
    assert result.details["utterances_scored"] == 2 and result.details["duplicate_rule"] == "all"


def test_bert_keeps_the_last_response(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    from podium.benchmarks.bert import BertBenchmark
    from podium.benchmarks.bert.data import load_features
    from tests.benchmarks.test_bert_accuracy import piece_position, span_logits
    from tests.benchmarks.test_bert_squad import write_squad_dir

    squad = write_squad_dir(tmp_path / "squad")
    feats, _ = load_features(squad)
    right = span_logits(piece_position(feats, 0, 0), piece_position(feats, 0, 1))  # q-smith: "Steve Smith"
    wrong = span_logits(piece_position(feats, 0, 6), piece_position(feats, 0, 7))
    raw = lambda a: a.astype("<f4").tobytes()
    scorer = BertBenchmark()
    with pytest.warns(AccuracyDuplicatesWarning, match=r"1 duplicate responses.*the last response per qsl_idx "
                      r"counts.*as the reference accuracy-squad\.py does"):
        last_right = scorer.score_accuracy(_write(tmp_path / "a.json", [(0, raw(wrong)), (0, raw(right))]), squad)
    with pytest.warns(AccuracyDuplicatesWarning):
        last_wrong = scorer.score_accuracy(_write(tmp_path / "b.json", [(0, raw(right)), (0, raw(wrong))]), squad)
    single = scorer.score_accuracy(_write(tmp_path / "c.json", [(0, raw(right))]), squad)
    assert last_right.line == single.line and last_right.details["exact_match"] == 25.0
    assert last_wrong.details["exact_match"] == 0.0
    assert last_right.details["duplicate_responses"] == 1 and last_right.details["duplicate_rule"] == "last"
    assert last_right.details["features_scored"] == 1
