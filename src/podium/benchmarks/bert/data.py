"""Where the BERT benchmark's files are, loading its features once per process, and synthetic inputs.

``--data-dir`` is a folder holding ``dev-v1.1.json`` and the WordPiece ``vocab.txt``, either beside it or in
the reference's ``bert_tf_v1_1_large_fp32_384_v2/`` sub-folder (the layout its ``build/data`` has).

Synthetic inputs (performance-only runs without the data set) have the shape of real features but every
sample fills all 384 positions with random token ids: the reference implementation's cost, where nothing is
trimmed. Real SQuAD features are shorter on average, so with a dynamic-length model these timings are
pessimistic.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from podium.benchmarks.bert.features import MAX_QUERY_LENGTH, MAX_SEQ_LENGTH, SquadFeatures, convert_examples
from podium.benchmarks.bert.squad import read_squad_examples
from podium.benchmarks.bert.wordpiece import BertWordPiece
from podium.errors import PodiumError

SQUAD_FILE = "dev-v1.1.json"
VOCAB_FILE = "vocab.txt"
#: The reference's folder for the model files, where its vocab.txt sits.
REFERENCE_MODEL_DIR = "bert_tf_v1_1_large_fp32_384_v2"

SYNTHETIC_SEED = 20221
SYNTHETIC_QUERY_TOKENS = 24
#: Token ids below this are [PAD]/[unused]/special tokens in the BERT uncased vocabulary.
_FIRST_WORD_ID = 1000
_CLS_ID, _SEP_ID = 101, 102


def locate_files(data_dir: str | Path) -> tuple[Path, Path]:
    """``(dev-v1.1.json, vocab.txt)`` inside ``data_dir``; raises naming what is missing."""
    d = Path(data_dir).expanduser()
    if not d.is_dir():
        raise PodiumError(f"--data-dir {d}: not a folder (expected one holding {SQUAD_FILE} and {VOCAB_FILE})")
    squad = d / SQUAD_FILE
    if not squad.is_file():
        raise PodiumError(f"--data-dir {d}: {SQUAD_FILE} not found (the SQuAD v1.1 dev set)")
    for vocab in (d / VOCAB_FILE, d / REFERENCE_MODEL_DIR / VOCAB_FILE):
        if vocab.is_file():
            return squad, vocab
    raise PodiumError(f"--data-dir {d}: {VOCAB_FILE} not found there or in {REFERENCE_MODEL_DIR}/ "
                      "(the BERT-Large uncased WordPiece vocabulary)")


@functools.lru_cache(maxsize=2)
def _load(squad: str, vocab: str, _stamp: tuple[int, int], max_seq_length: int) -> tuple[SquadFeatures, BertWordPiece]:
    tokenizer = BertWordPiece(vocab)
    features = convert_examples(read_squad_examples(squad), tokenizer, max_seq_length=max_seq_length)
    return features, tokenizer


def load_features(data_dir: str | Path, max_seq_length: int = MAX_SEQ_LENGTH) -> tuple[SquadFeatures, BertWordPiece]:
    """The data set's features and tokeniser, built once per process (the QSL and the scorer share them)."""
    squad, vocab = locate_files(data_dir)
    stamp = (squad.stat().st_mtime_ns, vocab.stat().st_mtime_ns)
    return _load(str(squad.resolve()), str(vocab.resolve()), stamp, max_seq_length)


def synthetic_inputs(indices: np.ndarray, vocab_size: int = 30522, seq_len: int = MAX_SEQ_LENGTH,
                     seed: int = SYNTHETIC_SEED) -> dict[str, np.ndarray]:
    """Model inputs for synthetic sample numbers: [CLS] query [SEP] passage [SEP], no padding, seeded per sample."""
    n = len(indices)
    ids = np.empty((n, seq_len), dtype=np.int64)
    for row, idx in enumerate(np.asarray(indices).tolist()):
        ids[row] = np.random.default_rng([seed, idx]).integers(_FIRST_WORD_ID, vocab_size, seq_len)
    q = min(SYNTHETIC_QUERY_TOKENS, MAX_QUERY_LENGTH, seq_len - 3)
    ids[:, 0] = _CLS_ID
    ids[:, q + 1] = _SEP_ID
    ids[:, -1] = _SEP_ID
    segment = np.zeros((n, seq_len), dtype=np.int64)
    segment[:, q + 2:] = 1
    return {"input_ids": ids, "input_mask": np.ones((n, seq_len), dtype=np.int64), "segment_ids": segment}
