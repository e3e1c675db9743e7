"""The benchmark registry: ``register``, ``get_benchmark``, ``list_benchmarks``.

Built-in benchmarks are listed as ``"module:Class"`` and imported on first use, so listing the registry does
not import scikit-learn or load any data.
"""

from __future__ import annotations

import difflib
import importlib

from podium.benchmarks.base import Benchmark
from podium.errors import PodiumError

_BUILTIN: dict[str, str] = {
    "digits": "podium.benchmarks.digits:DigitsBenchmark",
    "llm": "podium.benchmarks.llm:LLMBenchmark",
    "resnet": "podium.benchmarks.resnet:ResNetBenchmark",
    "retinanet": "podium.benchmarks.retinanet:RetinaNetBenchmark",
    "bert-99": "podium.benchmarks.bert:BertBenchmark",
    "bert-99.9": "podium.benchmarks.bert:Bert999Benchmark",
    "rnnt": "podium.benchmarks.rnnt:RNNTBenchmark",
    "dlrm-99": "podium.benchmarks.dlrm:Dlrm99Benchmark",
    "dlrm-99.9": "podium.benchmarks.dlrm:Dlrm999Benchmark",
    "3d-unet-99": "podium.benchmarks.unet3d:UNet3D99Benchmark",
    "3d-unet-99.9": "podium.benchmarks.unet3d:UNet3D999Benchmark",
}
_REGISTRY: dict[str, Benchmark] = {}
#: names users bring from mlperf.conf, the submission tree and other tools, and the benchmark each means
_OTHER_NAMES = {"resnet50": "resnet", "resnet-50": "resnet", "ssd-resnet34": "retinanet", "bert": "bert-99",
                "dlrm": "dlrm-99", "dlrm-v2": "dlrm-99", "3d-unet": "3d-unet-99", "unet3d": "3d-unet-99",
                "rnn-t": "rnnt"}


def register(benchmark: Benchmark) -> Benchmark:
    """Add ``benchmark`` under its ``name`` (replacing one of the same name) and return it."""
    if not benchmark.name:
        raise PodiumError(f"{type(benchmark).__name__}: a benchmark needs a name")
    _REGISTRY[benchmark.name] = benchmark
    return benchmark


def _load_builtin(name: str) -> None:
    module_name, _, cls = _BUILTIN[name].partition(":")
    register(getattr(importlib.import_module(module_name), cls)())


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name``; raises ``PodiumError`` listing the known names otherwise."""
    if name not in _REGISTRY and name in _BUILTIN:
        _load_builtin(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        names = sorted(set(_REGISTRY) | set(_BUILTIN))
        guess = _OTHER_NAMES.get(name.lower()) or next(iter(difflib.get_close_matches(name.lower(), names, 1, 0.6)),
                                                      None)
        hint = f"did you mean {guess!r}? " if guess else ""
        raise PodiumError(f"benchmark {name!r}: unknown; {hint}expected one of {', '.join(names)}") from None


def list_benchmarks() -> list[Benchmark]:
    """All registered benchmarks (built-ins included), sorted by name."""
    for name in _BUILTIN:
        if name not in _REGISTRY:
            _load_builtin(name)
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]
