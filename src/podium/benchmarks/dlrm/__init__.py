"""``dlrm-99`` / ``dlrm-99.9``: click-through prediction on Criteo Terabyte with DLRM (MLPerf v2.1).

Data: the day-23 test split of Criteo Terabyte from ``--data-dir`` (``criteo`` lists the formats), grouped
into users by the reference's aggregation trace (``trace``): one LoadGen sample is one user with 100..700
items, 330,067 samples in all, 204,800 of them loaded for performance runs (mlperf.conf). Model: the
official DLRM (``tb00_40M``) as ONNX, or its PyTorch checkpoint converted to ONNX on first use (needs
torch). For machines without the ~96 GB model, ``synthetic_variant()`` (``podium run --synthetic``) runs
performance only: a random-weight DLRM with row-capped tables unless ``--model-path`` is given, synthetic
users unless ``--data-dir`` is given, and ``run_labels()`` says so for every output.

Responses are float32 (prediction, label) pairs per item, the reference's format; accuracy is ROC AUC
(scikit-learn) against 80.25 % × 99 % or 99.9 %. Scenarios: Server (30 ms bound) and Offline.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import Benchmark
from podium.benchmarks.dlrm import criteo, model, reference, trace
from podium.benchmarks.dlrm import synthetic as synthetic_data
from podium.benchmarks.dlrm.accuracy import score_auc
from podium.benchmarks.dlrm.qsl import DlrmBatch, DlrmQSL
from podium.benchmarks.dlrm.responses import DlrmModelRunner, responses
from podium.errors import PodiumError

__all__ = ["Dlrm99Benchmark", "Dlrm999Benchmark", "DlrmBatch", "DlrmBenchmark", "DlrmModelRunner", "DlrmQSL"]


class DlrmBenchmark(Benchmark):
    """DLRM on Criteo Terabyte; ``target_fraction`` of the reference AUC is the accuracy target.

    ``synthetic=True`` is the performance-only variant: the random-weight model (tables capped at
    ``row_cap`` rows, built once into the model cache) unless ``--model-path`` is given, and ``users``
    synthetic users unless ``--data-dir`` is given.
    """

    name = "dlrm"
    conf_model = "dlrm"
    description = "Criteo Terabyte click prediction, DLRM (26 tables x 128), users of 100-700 items, ROC AUC"
    scenarios = ("Server", "Offline")
    performance_sample_count = reference.PERFORMANCE_SAMPLE_COUNT
    accuracy_metric = "AUC"
    needs_model_path = True
    needs_data_dir = True
    response_dtype = "float32"  # (prediction, label) float32 pairs
    target_fraction = 0.99

    def __init__(self, *, synthetic: bool = False, seed: int = 0, users: int = synthetic_data.DEFAULT_USERS,
                 row_cap: int | None = model.DEFAULT_ROW_CAP) -> None:
        self.synthetic = synthetic
        self.random_weights = synthetic  # until the user gives a model of their own
        self.seed = seed
        self.users = users
        self.row_cap = row_cap
        self._synthetic_inputs: bool | None = None
        self._data_note: str | None = None  # set when real data is not in the official form
        self._qsl_cache: tuple[str, DlrmQSL] | None = None  # the last real-data QSL, reused by scoring

    def synthetic_variant(self) -> DlrmBenchmark:
        """The performance-only variant (random weights and synthetic users, unless files are given)."""
        return type(self)(synthetic=True, seed=self.seed, users=self.users, row_cap=self.row_cap)

    def missing_files_hint(self) -> str:
        """What a real run needs, and the performance-only alternative."""
        return (f"benchmark {self.name} needs --model-path (the official DLRM {reference.OFFICIAL_ONNX} or "
                f"{reference.OFFICIAL_CHECKPOINT}, ~96 GB, from the MLPerf reference README) and --data-dir (Criteo "
                f"Terabyte day 23: {criteo.BIN_FILE}, {criteo.NPZ_FILE} or {criteo.TSV_FILE} with day_fea_dict_*.npz, "
                f"optionally {reference.TRACE_FILE}); without them, --synthetic runs performance only with random "
                "weights and synthetic users")

    # -- model ---------------------------------------------------------------------------------------
    def default_model_path(self) -> Path | None:
        return model.model_cache_dir() / model.random_model_name(self.row_cap, self.seed) if self.synthetic else None

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        if model_path is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            self.random_weights = True
            return model.build_random_model(row_cap=self.row_cap, seed=self.seed)
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise PodiumError(f"--model-path {path}: file not found")
        if path.suffix in (".pt", ".pth"):
            path = self._converted_checkpoint(path)
        self.random_weights = bool(model.read_model_info(path))
        return path

    def _converted_checkpoint(self, path: Path) -> Path:
        st = path.stat()
        key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
        out = model.model_cache_dir() / f"dlrm_{path.stem}_{key}.onnx"
        if not out.is_file():
            model.convert_checkpoint(path, out)
        return out

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """``checkpoint=PATH`` converts the official checkpoint; otherwise a random-weight model
        (``row_cap``, default 100,000 rows per table; ``seed``)."""
        if options.get("checkpoint"):
            src = Path(options["checkpoint"])
            return model.convert_checkpoint(src, Path(out_dir) / f"{src.stem}.onnx")
        return model.build_random_model(out_dir, row_cap=options.get("row_cap", self.row_cap),
                                        seed=int(options.get("seed", self.seed)))

    def build_hint(self) -> str:
        return ("podium build-model dlrm-99 (random weights, tables capped at 100,000 rows), or pass the official "
                "model with --model-path")

    def create_runner(self, backend_name: str, backend_options: dict[str, Any], model_path: str | Path) -> Any:
        """What the harness runs: the loaded backend fed with DLRM batches (users of several items each)."""
        from podium.backends import get_backend

        return DlrmModelRunner(get_backend(backend_name, **backend_options).load(model_path))

    def model_runner(self, backend: Any) -> DlrmModelRunner:
        """The same for a backend already loaded."""
        return DlrmModelRunner(backend)

    def harness_defaults(self, scenario: str) -> dict[str, int]:
        """Batching defaults for the harness, in users: one user is 100-700 items, so the generic Server
        policy (8 samples, i.e. ~2,000 items) would spend the 30 ms bound on a single batch."""
        return {"max_batch_size": 1, "max_wait_us": 0} if scenario.lower() == "server" else {"max_batch_size": 16}

    # -- data ----------------------------------------------------------------------------------------
    # The base class still types the QSL as ArrayQSL; a DLRM sample is a range of rows, so it has its own.
    def create_qsl(self, data_dir: str | Path | None = None) -> DlrmQSL:  # type: ignore[override]
        if data_dir is None:
            if not self.synthetic:
                raise PodiumError(self.missing_files_hint())
            rows, offsets = synthetic_data.synthetic_rows(self.users, self.seed)
            self._synthetic_inputs = True
            return DlrmQSL(f"{self.name}-synthetic", rows, offsets, self.performance_sample_count)
        d = Path(data_dir).expanduser()
        rows = criteo.find_test_rows(d)
        trace_path = d / reference.TRACE_FILE
        offsets = trace.read_trace(trace_path) if trace_path.is_file() else trace.generate_offsets(len(rows))
        qsl = DlrmQSL(self.name, rows, offsets, self.performance_sample_count)
        self._qsl_cache = (str(d.resolve()), qsl)
        self._synthetic_inputs = False
        self._data_note = None if rows.official_ids else rows.describe
        return qsl

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        return responses(outputs)

    def accuracy_target(self) -> float:
        return reference.REFERENCE_AUC * self.target_fraction

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        """ROC AUC over the logged (prediction, label) pairs; with the run's ``data_dir`` (its QSL still
        held), predictions-only responses are scored against the data set's labels."""
        qsl = None
        if (data_dir is not None and self._qsl_cache is not None
                and self._qsl_cache[0] == str(Path(data_dir).expanduser().resolve())):
            qsl = self._qsl_cache[1]
        if qsl is None:
            return score_auc(accuracy_log, self.accuracy_target())
        return score_auc(accuracy_log, self.accuracy_target(), qsl.total_sample_count,
                         labels_of=qsl.labels_of, item_counts=qsl.counts)

    # -- description ---------------------------------------------------------------------------------
    def run_labels(self) -> list[str]:
        """Lines every output of a run with this benchmark must carry (random weights, synthetic inputs)."""
        out = []
        if self.random_weights:
            cap = "uncapped" if self.row_cap is None else f"capped at {self.row_cap:,} rows each"
            out.append(f"random weights (DLRM built locally, embedding tables {cap}; official: up to 39,979,771 "
                       f"rows, ~{reference.FULL_TABLE_BYTES / 1e9:.0f} GB): performance only, accuracy is "
                       "meaningless; small tables stay in cache, so timings are optimistic")
        if self._synthetic_inputs:
            out.append(f"synthetic inputs: {self.users:,} random users of 100-700 items (not Criteo; the official "
                       f"set has 330,067 users, {reference.PERFORMANCE_SAMPLE_COUNT:,} loaded)")
        elif self._synthetic_inputs is None and self.synthetic:
            out.append("synthetic inputs: random users of 100-700 items, unless --data-dir is given")
        if self._synthetic_inputs is False and self._data_note:
            out.append(f"data: {self._data_note}")
        return out

    def labels(self) -> dict[str, Any]:
        return {
            "random_weights": self.random_weights,
            "synthetic": self.synthetic,
            "dataset": "Criteo Terabyte day 23, test half, from --data-dir" if not self.synthetic
            else "synthetic users unless --data-dir is given",
            "reference_accuracy": reference.REFERENCE_AUC,
            "accuracy_target": self.accuracy_target(),
            "labels": self.run_labels(),
        }


class Dlrm99Benchmark(DlrmBenchmark):
    """``dlrm-99``: AUC ≥ 99 % of 80.25 % (79.4475)."""

    name = "dlrm-99"
    target_fraction = 0.99


class Dlrm999Benchmark(DlrmBenchmark):
    """``dlrm-99.9``: AUC ≥ 99.9 % of 80.25 % (80.16975)."""

    name = "dlrm-99.9"
    target_fraction = 0.999
