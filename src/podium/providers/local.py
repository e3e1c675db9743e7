"""The local SUT provider: the benchmark's model on a backend of this machine, driven by the batching harness."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from podium.benchmarks.base import Benchmark
from podium.errors import PodiumError
from podium.harness import BackendSUT
from podium.harness.batching import BatchingPolicy, policy_for
from podium.loadgen.record import RecordContributor
from podium.loadgen.settings import Scenario
from podium.loadgen.types import QuerySampleLibrary
from podium.suite.calibrate import Calibration, calibrate
from podium.suite.model_hash import model_sha256
from podium.suite.provider import Stage
from podium.suite.runner import fetched_asset


class LocalSession:
    """The harness over a loaded model (a ``SutSession``)."""

    def __init__(self, benchmark: Benchmark, model: Any, model_path: Path, backend: str,
                 backend_options: dict[str, Any], policy: BatchingPolicy, sut: BackendSUT) -> None:
        self.benchmark, self.model, self.model_path = benchmark, model, model_path
        self.backend, self.backend_options, self.policy = backend, backend_options, policy
        self.sut = sut
        self.labels: list[str] = list(benchmark.run_labels())  # after the model and data are resolved
        self.contributors: list[RecordContributor] = []

    def calibrate(self, qsl: QuerySampleLibrary, scenario: Scenario) -> Calibration:
        # Offline measures its rate through the harness next (the suite's probe); slow models skip the batch
        # timing
        min_runs = self.benchmark.calibration_min_runs
        return calibrate(self.model, qsl, self.policy.max_batch_size, min_runs=min_runs,
                         measure_batch=not (scenario is Scenario.Offline or min_runs < 3))

    def record_info(self, stage: Stage) -> dict[str, Any]:
        backend = self.model if hasattr(self.model, "config") else getattr(self.model, "backend", None)
        version = getattr(backend, "version", None)
        try:  # the backend's own account: library version, device, precision, threads ...
            config = backend.config() if backend is not None and hasattr(backend, "config") else {}
        except Exception as exc:  # a plugin's config() must not lose the run
            config = {"error": f"config() raised {type(exc).__name__}: {exc}"}
        stage("hashing model")
        return {"backend": {"name": self.backend, "options": self.backend_options, "version": version,
                            "config": config},
                "model": {"path": str(self.model_path), "sha256": model_sha256(self.model_path)},
                "harness": {"batching": dataclasses.asdict(self.policy)}}

    def unusable(self) -> str | None:
        return None  # a failed batch is answered empty and counted; the harness itself stays usable

    def accuracy_spoiled(self) -> str | None:
        return None  # failed batches already make the accuracy test INVALID (failed_samples)

    def close(self) -> list[str]:
        self.sut.close()
        if self.sut.errors:
            return [f"harness: {self.sut.errors} batches failed ({self.sut.failed_samples} samples answered "
                    f"empty); last error: {self.sut.last_error}"]
        return []


class LocalProvider:
    """A ``SutProvider`` for a backend on this machine (``podium run`` without ``--sut-url``)."""

    kind = "local"

    def __init__(self, backend: str = "onnxruntime", backend_options: dict[str, Any] | None = None,
                 model_path: str | None = None, batch_size: int | None = None, max_wait_us: int | None = None,
                 workers: int | None = None) -> None:
        self.backend = backend
        self.backend_options = dict(backend_options or {})
        self.model_path = model_path
        self.batch_size, self.max_wait_us, self.workers = batch_size, max_wait_us, workers
        self._model: Any = None
        self._resolved: Path | None = None

    def load(self, benchmark: Benchmark, stage: Stage) -> None:
        stage("loading model")
        model_path = self.model_path
        if model_path is None and not getattr(benchmark, "synthetic", False):
            fetched = fetched_asset(benchmark.name, "model")  # what `podium fetch` put in the cache
            model_path = str(fetched) if fetched is not None else None
        self._resolved = benchmark.resolve_model_path(model_path)
        self._model = benchmark.create_runner(self.backend, self.backend_options, self._resolved)

    def open(self, benchmark: Benchmark, qsl: QuerySampleLibrary, scenario: Scenario, stage: Stage) -> LocalSession:
        if self._model is None or self._resolved is None:
            raise PodiumError("LocalProvider.open: load() first")
        policy = self.policy(benchmark, scenario)
        sut = BackendSUT(self._model, qsl, benchmark.postprocess, policy=policy,  # type: ignore[arg-type]
                         name=f"podium-{benchmark.name}-{self.backend}")
        return LocalSession(benchmark, self._model, self._resolved, self.backend, self.backend_options, policy, sut)

    def policy(self, benchmark: Benchmark, scenario: Scenario) -> BatchingPolicy:
        """The batching policy, worked out once: the benchmark's defaults, the options, the model's batch cap."""
        defaults = benchmark.harness_defaults(scenario.value)
        batch_size = self.batch_size if self.batch_size is not None else defaults.get("max_batch_size")
        cap = getattr(benchmark, "max_batch_size", None)
        if cap is not None:
            if self.batch_size is not None and self.batch_size > cap:
                raise PodiumError(f"--batch-size {self.batch_size}: the model file takes batches of at most {cap}")
            batch_size = min(batch_size, cap) if batch_size is not None else cap
        max_wait_us = self.max_wait_us if self.max_wait_us is not None else defaults.get("max_wait_us")
        workers = self.workers if self.workers is not None else defaults.get("workers")
        return policy_for(scenario.value, max_batch_size=batch_size, max_wait_us=max_wait_us, workers=workers)
