"""``rnnt``: RNN-T speech recognition on LibriSpeech dev-clean, as MLPerf Inference v2.1 runs it.

Data: the reference layout from ``--data-dir`` (``dev-clean-wav.json`` and the audio files it names, or the
path of a manifest itself): utterances of at most 15 s, 2,513 in dev-clean, performance sample count 2,513.
The QSL holds raw samples; features (log-mel filterbank with frame stacking, ``features``) are computed in
the timed part, as in the reference. Model: podium's three ONNX graphs (``model``) from the official PyTorch
checkpoint (converted once, ``checkpoint``), from a descriptor ``.json`` podium wrote, or random weights for
performance-only runs. Inference: encoder once, then greedy decoding step by step (``decoder``). Responses:
int64 symbol ids. Accuracy: WER over the logged utterances, printed as ``accuracy_eval.py`` does; target 99 %
of the reference 92.548 % (WER 7.452 %). mlperf.conf model ``rnnt`` (Server latency bound 1000 ms).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_entries, warn_duplicates
from podium.benchmarks.base import Benchmark
from podium.errors import PodiumError

log = logging.getLogger("podium.benchmarks.rnnt")

#: Accuracy (100 − WER %) of the FP32 reference model on dev-clean ≤ 15 s (WER 7.452 %).
REFERENCE_ACCURACY = 92.548
TARGET_FRACTION = 0.99
PERFORMANCE_SAMPLE_COUNT = 2513
SYNTHETIC_SEED = 20222
#: Synthetic utterance lengths: uniform in this range, mean 6.25 s like dev-clean's utterances ≤ 15 s.
SYNTHETIC_SECONDS = (1.5, 11.0)
RANDOM_LABEL = ("random weights (RNN-T built locally): performance only, accuracy is meaningless; a random "
                "decoder hits its 30-symbols-per-frame cap, so timings are pessimistic")
SYNTHETIC_LABEL = "synthetic inputs: seeded noise of 1.5-11 s (mean 6.25 s, like dev-clean)"


def synthetic_waveform(index: int, sample_rate: int = 16000) -> np.ndarray:
    """A seeded noise utterance for a synthetic sample number."""
    rng = np.random.default_rng([SYNTHETIC_SEED, index])
    seconds = rng.uniform(*SYNTHETIC_SECONDS)
    return (0.05 * rng.standard_normal(int(seconds * sample_rate))).astype(np.float32)


def locate_manifest(data_dir: str | Path) -> tuple[Path, Path]:
    """``(manifest, data set folder)`` from ``--data-dir`` (a folder holding dev-clean-wav.json, or a manifest)."""
    from podium.benchmarks.rnnt.manifest import MANIFEST_FILE

    d = Path(data_dir).expanduser()
    if d.is_file():
        return d, d.parent
    if not d.is_dir():
        raise PodiumError(f"--data-dir {d}: not found (expected a folder holding {MANIFEST_FILE} and its audio)")
    manifest = d / MANIFEST_FILE
    if not manifest.is_file():
        raise PodiumError(f"--data-dir {d}: {MANIFEST_FILE} not found (the reference's LibriSpeech dev-clean "
                          "manifest; or pass the manifest's own path)")
    return manifest, d


class RNNTBenchmark(Benchmark):
    """RNN-T, LibriSpeech dev-clean (≤ 15 s), accuracy = 100 − WER %.

    ``synthetic=True`` is the performance-only variant: random weights (built once into the model cache)
    unless ``--model-path`` is given, and synthetic audio unless ``--data-dir`` is given.
    """

    name = "rnnt"
    conf_model = "rnnt"
    description = "RNN-T, LibriSpeech dev-clean <= 15 s (2,513 utterances), greedy decoding, 100-WER"
    scenarios: tuple[str, ...] = ("SingleStream", "Server", "Offline")
    performance_sample_count = PERFORMANCE_SAMPLE_COUNT
    accuracy_metric = "accuracy"
    response_dtype = "int64"  # compliance TEST01 compares the first symbol id
    needs_model_path = True
    needs_data_dir = True

    def __init__(self, *, synthetic: bool = False) -> None:
        self.synthetic = synthetic
        self.random_weights = synthetic
        self._synthetic_inputs: bool | None = None
        self._manifests: dict[tuple[str, int], Any] = {}

    def synthetic_variant(self) -> RNNTBenchmark:
        """The same benchmark for performance-only runs (random weights, synthetic audio when no data)."""
        return type(self)(synthetic=True)

    # -- model ---------------------------------------------------------------------------------------
    def missing_files_hint(self) -> str:
        """What a real run needs, and the performance-only alternative."""
        return ("benchmark rnnt needs --model-path (the official PyTorch checkpoint rnnt.pt, or podium's ONNX "
                "export .json) and --data-dir (a folder with dev-clean-wav.json and its audio); without them, "
                "--synthetic runs performance only with random weights and synthetic audio")

    def default_model_path(self) -> Path | None:
        if not self.synthetic:
            return None
        from podium.benchmarks.rnnt.model import cache_dir, random_model_stem

        return cache_dir() / f"{random_model_stem()}.json"

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        """A descriptor ``.json`` (as given, or converted from a ``.pt`` checkpoint, or the random model)."""
        from podium.benchmarks.rnnt.model import build_random_model, read_descriptor

        if model_path is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            default = self.default_model_path()
            if default is None or not default.is_file():
                log.warning("building the random-weight RNN-T model (181 MB) into %s", default.parent if default else "")
            return build_random_model()
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise PodiumError(f"--model-path {path}: file not found (expected rnnt.pt or podium's .json export)")
        if path.suffix.lower() == ".json":
            files = read_descriptor(path)
        elif path.suffix.lower() == ".onnx":
            raise PodiumError(f"--model-path {path}: RNN-T runs as three ONNX graphs; pass the .json descriptor "
                              "podium wrote beside them (podium build-model rnnt), or the PyTorch checkpoint")
        else:
            from podium.benchmarks.rnnt.checkpoint import convert_checkpoint

            log.warning("converting %s to ONNX graphs (once; cached by checksum)", path)
            path = convert_checkpoint(path)
            files = read_descriptor(path)
        self.random_weights = files.random_weights
        return path

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Random weights (options ``seed``, ``config``), or ``checkpoint=PATH`` converted; returns the .json."""
        if options.get("checkpoint"):
            from podium.benchmarks.rnnt.checkpoint import convert_checkpoint

            return convert_checkpoint(options["checkpoint"], out_dir)
        from podium.benchmarks.rnnt.model import MLPERF_RNNT, build_random_model

        return build_random_model(options.get("config", MLPERF_RNNT), int(options.get("seed", 0)), out_dir)

    def build_hint(self) -> str:
        return "podium build-model rnnt (random weights), or pass the official checkpoint with --model-path"

    def create_runner(self, backend_name: str, backend_options: dict[str, Any], model_path: str | Path) -> Any:
        """The greedy-decoding pipeline over the three graphs (see ``decoder``)."""
        from podium.benchmarks.rnnt.decoder import GreedyRunner

        return GreedyRunner.from_descriptor(model_path, backend_name, backend_options)

    # -- data ----------------------------------------------------------------------------------------
    def manifest(self, data_dir: str | Path) -> Any:
        """The filtered manifest under ``data_dir`` (read once per process)."""
        from podium.benchmarks.rnnt.manifest import read_manifest

        path, root = locate_manifest(data_dir)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if key not in self._manifests:
            self._manifests[key] = read_manifest(path, root)
        return self._manifests[key]

    def create_qsl(self, data_dir: str | Path | None = None) -> Any:
        from podium.benchmarks.rnnt.qsl import AudioQSL

        if data_dir is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            self._synthetic_inputs = True
            return AudioQSL("rnnt-synthetic", PERFORMANCE_SAMPLE_COUNT, self.performance_sample_count,
                            synthetic_waveform)
        from podium.benchmarks.rnnt.audio import read_audio

        utterances = self.manifest(data_dir).utterances
        self._synthetic_inputs = False

        def read(i: int) -> np.ndarray:
            return read_audio(utterances[i].audio_path)

        return AudioQSL("rnnt-librispeech-dev-clean", len(utterances), self.performance_sample_count, read)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        symbols, counts = outputs[0], outputs[1]
        raw = symbols.astype("<i8", copy=False)
        return [raw[i, :n].tobytes() for i, n in enumerate(counts.tolist())]

    def accuracy_target(self) -> float:
        return REFERENCE_ACCURACY * TARGET_FRACTION

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        if data_dir is None:
            raise PodiumError("benchmark rnnt: scoring accuracy needs --data-dir (the manifest's transcripts); "
                              "a synthetic run has no ground truth")
        from podium.benchmarks.rnnt.transcripts import decode
        from podium.benchmarks.rnnt.wer import result_line, word_error_rate, word_errors

        utterances = self.manifest(data_dir).utterances
        entries = read_accuracy_entries(accuracy_log, total_sample_count=len(utterances))
        pairs = []
        # accuracy_eval.py appends one (hypothesis, transcript) pair per log entry: a sample LoadGen logged twice
        # counts twice in the WER, so duplicates are kept here too
        for idx, raw in entries:
            if len(raw) % 8:
                raise AccuracyLogError(f"{accuracy_log}: response for qsl_idx {idx} has {len(raw)} bytes, "
                                       "expected int64 symbol ids (a multiple of 8)")
            try:
                hyp = decode(np.frombuffer(raw, dtype="<i8").tolist())
            except ValueError as exc:
                raise AccuracyLogError(f"{accuracy_log}: response for qsl_idx {idx}: {exc}") from None
            pairs.append((hyp, utterances[idx].transcript))
        duplicates = warn_duplicates(accuracy_log, entries, "all", "the reference accuracy_eval.py")
        errors, words = word_errors(pairs)
        wer = word_error_rate(errors, words)
        value = (1 - wer) * 100
        target = self.accuracy_target()
        return AccuracyResult(
            metric=self.accuracy_metric, value=value, target=target, passed=value >= target, line=result_line(wer),
            details={"wer_percent": wer * 100, "word_errors": errors, "reference_words": words,
                     "utterances_scored": len({idx for idx, _ in entries}), "responses_scored": len(pairs),
                     "duplicate_responses": duplicates, "duplicate_rule": "all",
                     "utterances_in_dataset": len(utterances),
                     "reference_accuracy": REFERENCE_ACCURACY},
        )

    # -- description ---------------------------------------------------------------------------------
    def run_labels(self) -> list[str]:
        """Lines every output of a run with this benchmark must carry (random weights, synthetic inputs)."""
        return self.synthetic_run_labels(RANDOM_LABEL, SYNTHETIC_LABEL)

    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "synthetic": self.synthetic,
            "dataset": "LibriSpeech dev-clean (reference manifest) from --data-dir" if not self.synthetic
            else "synthetic audio unless --data-dir is given",
            "reference_accuracy": REFERENCE_ACCURACY,
            "accuracy_target": self.accuracy_target(),
            "labels": self.run_labels(),
        }
