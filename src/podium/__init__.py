"""Podium: an MLPerf-Inference-compatible benchmark suite (LoadGen, benchmarks, harness, submission tools)."""

__version__ = "0.1.0"
