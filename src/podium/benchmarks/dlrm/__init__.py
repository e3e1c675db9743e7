"""``dlrm-99`` / ``dlrm-99.9``: click-through prediction on Criteo Terabyte with DLRM (MLPerf v2.1).

Data: the day-23 test split of Criteo Terabyte from ``--data-dir`` (``criteo`` lists the formats), grouped
into users by the reference's aggregation trace (``trace``): one LoadGen sample is one user with 100..700
items, 330,067 samples in all, 204,800 of them loaded for performance runs (mlperf.conf). Model: the
official DLRM (``tb00_40M``) as ONNX, or its PyTorch checkpoint converted to ONNX on first use (needs
torch); for machines without the ~98 GB model, ``synthetic_setup`` builds a random-weight DLRM with
row-capped tables and synthetic users: a performance-only run, labelled so in every output.

Responses are float32 (prediction, label) pairs per item, the reference's format; accuracy is ROC AUC
(scikit-learn) against 80.25 % × 99 % or 99.9 %. Scenarios: Server (30 ms bound) and Offline.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import Benchmark
from podium.benchmarks.dlrm import criteo, model, reference, synthetic, trace
from podium.benchmarks.dlrm.accuracy import score_auc
from podium.benchmarks.dlrm.qsl import DlrmBatch, DlrmQSL
from podium.benchmarks.dlrm.responses import DlrmModelRunner, responses
from podium.errors import PodiumError

__all__ = ["Dlrm999Benchmark", "Dlrm99Benchmark", "DlrmBatch", "DlrmBenchmark", "DlrmModelRunner", "DlrmQSL",
           "PerformanceOnlySetup"]


class PerformanceOnlySetup(NamedTuple):
    """What a performance-only run uses: the model file, a QSL over synthetic data, and the labels that
    every output of the run must carry."""

    model_path: Path
    qsl: Any
    labels: list[str]


class DlrmBenchmark(Benchmark):
    """DLRM on Criteo Terabyte; ``target_fraction`` of the reference AUC is the accuracy target."""

    name = "dlrm"
    conf_model = "dlrm"
    description = "Criteo Terabyte click prediction, DLRM (26 tables x 128), users of 100-700 items, ROC AUC"
    scenarios = ("Server", "Offline")
    performance_sample_count = reference.PERFORMANCE_SAMPLE_COUNT
    accuracy_metric = "AUC"
    random_weights = False
    needs_model_path = True
    needs_data_dir = True
    target_fraction = 0.99

    def __init__(self) -> None:
        self._qsl_cache: tuple[str, DlrmQSL] | None = None  # the last real-data QSL, reused by scoring

    # -- model ---------------------------------------------------------------------------------------
    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is None:
            raise PodiumError(
                f"benchmark {self.name}: needs the official DLRM model ({reference.OFFICIAL_ONNX} or "
                f"{reference.OFFICIAL_CHECKPOINT}, ~98 GB, from the MLPerf reference README): pass --model-path "
                "FILE; or run performance-only with random weights and synthetic data (--synthetic)")
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise PodiumError(f"--model-path {path}: file not found")
        if path.suffix in (".pt", ".pth"):
            return self._converted_checkpoint(path)
        return path

    def _converted_checkpoint(self, path: Path) -> Path:
        st = path.stat()
        key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
        out = model.model_cache_dir() / f"dlrm_{path.stem}_{key}.onnx"
        if not out.is_file():
            model.convert_checkpoint(path, out)
        return out

    def random_model_path(self, row_cap: int | None = model.DEFAULT_ROW_CAP, seed: int = 0) -> Path:
        """The random-weight model with tables capped at ``row_cap`` rows, built into the cache if missing."""
        return model.build_random_model(row_cap=row_cap, seed=seed)

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """``checkpoint=PATH`` converts the official checkpoint; otherwise a random-weight model
        (``row_cap``, default 100,000 rows per table; ``seed``)."""
        if options.get("checkpoint"):
            src = Path(options["checkpoint"])
            return model.convert_checkpoint(src, Path(out_dir) / f"{src.stem}.onnx")
        return model.build_random_model(out_dir, row_cap=options.get("row_cap", model.DEFAULT_ROW_CAP),
                                        seed=int(options.get("seed", 0)))

    def build_hint(self) -> str:
        return "python scripts/build_random_reco_models.py dlrm (random weights) or pass --model-path"

    def model_runner(self, backend: Any) -> DlrmModelRunner:
        """What the harness runs: the backend fed with DLRM batches (users of several items each)."""
        return DlrmModelRunner(backend)

    # -- data ----------------------------------------------------------------------------------------
    def create_qsl(self, data_dir: str | Path | None = None) -> DlrmQSL:
        if data_dir is None:
            raise PodiumError(
                f"benchmark {self.name}: needs the Criteo Terabyte day-23 test data: pass --data-dir DIR holding "
                f"{criteo.BIN_FILE}, {criteo.NPZ_FILE} or {criteo.TSV_FILE} (+ day_fea_dict_*.npz), and "
                f"optionally {reference.TRACE_FILE}; or run performance-only with --synthetic")
        d = Path(data_dir).expanduser()
        rows = criteo.find_test_rows(d)
        trace_path = d / reference.TRACE_FILE
        offsets = trace.read_trace(trace_path) if trace_path.is_file() else trace.generate_offsets(len(rows))
        qsl = DlrmQSL(self.name, rows, offsets, self.performance_sample_count)
        self._qsl_cache = (str(d.resolve()), qsl)
        return qsl

    def synthetic_setup(self, model_path: str | Path | None = None, users: int = synthetic.DEFAULT_USERS,
                        row_cap: int | None = model.DEFAULT_ROW_CAP, seed: int = 0) -> PerformanceOnlySetup:
        """A performance-only run: synthetic users, and the random-weight model unless ``model_path`` is given."""
        rows, offsets = synthetic.synthetic_rows(users, seed)
        qsl = DlrmQSL(f"{self.name}-synthetic", rows, offsets, self.performance_sample_count)
        labels = [f"synthetic data: {users:,} users, {rows.x_int.shape[0]:,} items drawn at random (not Criteo; "
                  f"the official set has 330,067 users, {reference.PERFORMANCE_SAMPLE_COUNT:,} loaded) - "
                  "performance only, accuracy is meaningless"]
        if model_path is None:
            path = self.random_model_path(row_cap=row_cap, seed=seed)
            cap = "uncapped" if row_cap is None else f"capped at {row_cap:,} rows each"
            labels.append(f"random weights: DLRM with embedding tables {cap} (official: up to 39,979,771 rows, "
                          f"~{reference.FULL_TABLE_BYTES / 1e9:.0f} GB) - timing only, and optimistic: small tables "
                          "stay in cache")
        else:
            path = self.resolve_model_path(model_path)
        return PerformanceOnlySetup(path, qsl, labels)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray]) -> list[bytes]:
        return responses(outputs)

    def accuracy_target(self) -> float:
        return reference.REFERENCE_AUC * self.target_fraction

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        """ROC AUC over the logged (prediction, label) pairs; with the run's ``data_dir`` (its QSL still
        held), predictions-only responses are scored against the data set's labels."""
        qsl = None
        if data_dir is not None and self._qsl_cache is not None:
            if self._qsl_cache[0] == str(Path(data_dir).expanduser().resolve()):
                qsl = self._qsl_cache[1]
        if qsl is None:
            return score_auc(accuracy_log, self.accuracy_target())
        return score_auc(accuracy_log, self.accuracy_target(), qsl.total_sample_count,
                         labels_of=qsl.labels_of, item_counts=qsl.counts)

    def labels(self) -> dict[str, Any]:
        return {"random_weights": False, "dataset": "Criteo Terabyte day 23, test half (user data from --data-dir)",
                "reference_accuracy": reference.REFERENCE_AUC, "target_fraction": self.target_fraction}


class Dlrm99Benchmark(DlrmBenchmark):
    """``dlrm-99``: AUC ≥ 99 % of 80.25 % (79.4475)."""

    name = "dlrm-99"
    target_fraction = 0.99


class Dlrm999Benchmark(DlrmBenchmark):
    """``dlrm-99.9``: AUC ≥ 99.9 % of 80.25 % (80.16975)."""

    name = "dlrm-99.9"
    target_fraction = 0.999
