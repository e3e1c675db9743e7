"""Benchmarks: one module per task, each declaring its data set (QSL), pre/post-processing, accuracy metric
and target, and how to get its model. Use ``get_benchmark(name)`` / ``list_benchmarks()``.
"""

from podium.benchmarks.accuracy import AccuracyLogError, AccuracyResult, read_accuracy_log
from podium.benchmarks.base import ALL_SCENARIOS, Benchmark
from podium.benchmarks.qsl import ArrayQSL
from podium.benchmarks.registry import get_benchmark, list_benchmarks, register

__all__ = [
    "ALL_SCENARIOS",
    "AccuracyLogError",
    "AccuracyResult",
    "ArrayQSL",
    "Benchmark",
    "get_benchmark",
    "list_benchmarks",
    "read_accuracy_log",
    "register",
]
