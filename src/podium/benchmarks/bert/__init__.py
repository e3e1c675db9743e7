"""``bert-99`` / ``bert-99.9``: BERT-Large question answering on SQuAD v1.1, as MLPerf Inference v2.1 runs it.

Data: the SQuAD v1.1 dev set and the uncased WordPiece vocabulary from ``--data-dir`` (see ``data``), cut into
10,833 features of 384 tokens (doc stride 128, query at most 64 pieces); performance sample count 10,833.
Model: the official ONNX file from ``--model-path`` (inputs ``input_ids``/``input_mask``/``segment_ids``,
outputs start and end logits), or, for performance-only runs, a random-weight BERT-Large built locally
(``model``). Batches are cut to their real sequence lengths when the model allows (``runner``).
Responses: float32 (positions, 2) start/end logits per feature, the reference's format. Accuracy: the
reference post-processing (20-best, answers of at most 30 pieces) then the official SQuAD v1.1 EM/F1, printed
as the official script does; targets 99 % and 99.9 % of the reference F1 90.874. mlperf.conf model ``bert``
(Server latency bound 130 ms).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_entries, warn_duplicates
from podium.benchmarks.base import Benchmark
from podium.benchmarks.qsl import ArrayQSL
from podium.errors import PodiumError

log = logging.getLogger("podium.benchmarks.bert")

#: F1 of the FP32 reference model on the dev set (the submission rules' reference value).
REFERENCE_F1 = 90.874
PERFORMANCE_SAMPLE_COUNT = 10833
SYNTHETIC_LABEL = ("synthetic inputs: random token ids, every sample a full 384-token sequence "
                   "(real SQuAD features are shorter, so timings are pessimistic)")
RANDOM_LABEL = "random weights (BERT-Large built locally): performance only, accuracy is meaningless"


class BertBenchmark(Benchmark):
    """BERT-Large SQuAD v1.1, 99 % of the reference F1 (``bert-99``).

    ``synthetic=True`` is the performance-only variant: a random-weight BERT-Large (built once into the model
    cache) unless ``--model-path`` is given, and synthetic inputs unless ``--data-dir`` is given.
    """

    name = "bert-99"
    conf_model = "bert"
    description = "BERT-Large, SQuAD v1.1 dev (10,833 features, seq 384), F1"
    scenarios: tuple[str, ...] = ("SingleStream", "Server", "Offline")
    performance_sample_count = PERFORMANCE_SAMPLE_COUNT
    accuracy_metric = "F1"
    response_dtype = "float32"  # compliance TEST01 compares the first start logit
    needs_model_path = True
    needs_data_dir = True
    target_fraction = 0.99

    def __init__(self, *, synthetic: bool = False) -> None:
        self.synthetic = synthetic
        self.random_weights = synthetic
        self._synthetic_inputs: bool | None = None  # known once create_qsl has run

    def synthetic_variant(self) -> BertBenchmark:
        """The same benchmark for performance-only runs (random weights, synthetic inputs when no data)."""
        return type(self)(synthetic=True)

    # -- model ---------------------------------------------------------------------------------------
    def missing_files_hint(self) -> str:
        """What a real run needs, and the performance-only alternative."""
        return (f"benchmark {self.name} needs --model-path (the official BERT-Large model.onnx) and --data-dir "
                "(a folder with dev-v1.1.json and vocab.txt); without them, --synthetic runs performance only "
                "with random weights and synthetic inputs")

    def default_model_path(self) -> Path | None:
        if not self.synthetic:
            return None
        from podium.benchmarks.bert.model import random_model_path

        return random_model_path()

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is not None:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise PodiumError(f"--model-path {path}: file not found (expected the BERT ONNX model)")
            if self.synthetic:
                self.random_weights = False  # the user's model: only the inputs may be synthetic
            return path
        if not self.synthetic:
            raise PodiumError(self.missing_files_hint())
        from podium.benchmarks.bert.model import build_random_model, random_model_path

        if not random_model_path().is_file():
            log.warning("building the random-weight BERT-Large model (1.34 GB) into %s", random_model_path().parent)
        return build_random_model()

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Build the random-weight BERT-Large (options: ``seed``, ``config`` a ``BertConfig``) into ``out_dir``."""
        from podium.benchmarks.bert.model import BERT_LARGE, build_random_model

        return build_random_model(options.get("config", BERT_LARGE), int(options.get("seed", 0)), out_dir)

    def build_hint(self) -> str:
        return "podium build-model bert-99 (random weights), or pass the official model with --model-path"

    def create_runner(self, backend_name: str, backend_options: dict[str, Any], model_path: str | Path) -> Any:
        """The loaded backend wrapped so that batches run cut to their sequence lengths (see ``runner``)."""
        from podium.backends import get_backend
        from podium.benchmarks.bert.runner import SequenceLengthRunner

        return SequenceLengthRunner(get_backend(backend_name, **backend_options).load(model_path))

    # -- data ----------------------------------------------------------------------------------------
    def create_qsl(self, data_dir: str | Path | None = None) -> ArrayQSL:
        if data_dir is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            from podium.benchmarks.bert.data import synthetic_inputs

            self._synthetic_inputs = True
            return ArrayQSL(f"{self.name}-synthetic", PERFORMANCE_SAMPLE_COUNT, self.performance_sample_count,
                            synthetic_inputs)
        from podium.benchmarks.bert.data import load_features

        features, _ = load_features(data_dir)
        self._synthetic_inputs = False

        def load(indices: np.ndarray) -> dict[str, np.ndarray]:
            return features.model_inputs(indices)

        return ArrayQSL(f"{self.name}-squad-v1.1", len(features), self.performance_sample_count, load)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        # (B, L, 2) float32 start/end pairs, each sample cut to its real length when the runner gives one.
        pairs = np.stack([outputs[0], outputs[1]], axis=-1).astype("<f4", copy=False)
        if len(outputs) > 2:
            return [pairs[i, :n].tobytes() for i, n in enumerate(outputs[2].tolist())]
        return [row.tobytes() for row in pairs]

    def accuracy_target(self) -> float:
        return REFERENCE_F1 * self.target_fraction

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        if data_dir is None:
            raise PodiumError(f"benchmark {self.name}: scoring accuracy needs --data-dir (dev-v1.1.json and "
                              "vocab.txt); a synthetic run has no ground truth")
        from podium.benchmarks.bert.data import load_features
        from podium.benchmarks.bert.evaluate import evaluate, result_line
        from podium.benchmarks.bert.postprocess import decode_response, predictions

        features, tokenizer = load_features(data_dir)
        entries = read_accuracy_entries(accuracy_log, total_sample_count=len(features))
        logits: dict[int, np.ndarray] = {}
        # accuracy-squad.py decodes every entry into a dict keyed by feature in log order: of several responses
        # for one sample the last counts (its position in the dict stays that of the first)
        for idx, raw in entries:
            pair = decode_response(raw, features.max_seq_length)
            if pair is None:
                raise AccuracyLogError(f"{accuracy_log}: response for qsl_idx {idx} has {len(raw)} bytes, expected "
                                       f"float32 (start, end) pairs for 1..{features.max_seq_length} positions")
            logits[idx] = pair
        duplicates = warn_duplicates(accuracy_log, entries, "last", "the reference accuracy-squad.py")
        scores = evaluate(features.examples, predictions(features, tokenizer, logits))
        f1 = scores["f1"]
        target = self.accuracy_target()
        return AccuracyResult(
            metric=self.accuracy_metric, value=f1, target=target, passed=f1 >= target, line=result_line(scores),
            details={"exact_match": scores["exact_match"], "f1": f1, "questions": len(features.examples),
                     "features": len(features), "features_scored": len(logits), "reference_f1": REFERENCE_F1,
                     "duplicate_responses": duplicates, "duplicate_rule": "last"},
        )

    # -- description ---------------------------------------------------------------------------------
    def run_labels(self) -> list[str]:
        """Lines every output of a run with this benchmark must carry (random weights, synthetic inputs)."""
        return self.synthetic_run_labels(RANDOM_LABEL, SYNTHETIC_LABEL)

    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "synthetic": self.synthetic,
            "dataset": "SQuAD v1.1 dev-v1.1.json from --data-dir" if not self.synthetic
            else "synthetic inputs unless --data-dir is given",
            "reference_accuracy": REFERENCE_F1,
            "accuracy_target": self.accuracy_target(),
            "labels": self.run_labels(),
        }


class Bert999Benchmark(BertBenchmark):
    """BERT-Large SQuAD v1.1, 99.9 % of the reference F1 (``bert-99.9``, datacenter only)."""

    name = "bert-99.9"
    description = "BERT-Large, SQuAD v1.1 dev (10,833 features, seq 384), F1, high accuracy"
    scenarios = ("Server", "Offline")
    target_fraction = 0.999
