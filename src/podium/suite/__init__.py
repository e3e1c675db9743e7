"""Running benchmarks end to end: settings, model, data, harness, LoadGen, accuracy scoring, result files."""

from podium.suite.runner import RunOutcome, RunRequest, run_benchmark

__all__ = ["RunOutcome", "RunRequest", "run_benchmark"]
