"""``llm``: the generic LLM serving benchmark — prompts sent to an OpenAI-compatible server, measured with
token latencies (TTFT, TPOT) under the current round's LoadGen.

The model is the server's (``podium run --benchmark llm --sut-url openai+http://...``); podium holds only the
prompts (``--prompts FILE`` or synthetic ones). There are no reference answers, so there is no accuracy
score: the MLPerf LLM tasks score theirs. The settings start from what the current round gives its LLMs
(token latencies on; Server TTFT ≤ 2 s and TPOT ≤ 100 ms, llama3.1-8b's bounds), which ``user.conf`` lines
for model ``llm`` override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import Benchmark
from podium.benchmarks.llm.prompts import Prompt, load_prompts, synthetic_prompts
from podium.benchmarks.llm.tokenizer import ModelTokenizer
from podium.benchmarks.qsl import ArrayQSL
from podium.distributions import parse_distribution
from podium.errors import PodiumError

#: the options ``configure`` takes (``RunRequest.benchmark_options``; ``podium run`` flags of the same names)
OPTIONS = ("prompts", "num_prompts", "input_len", "output_len", "seed", "tokenizer", "max_tokens")


class PromptQSL(ArrayQSL):
    """The prompts as a QSL: the samples it loads are prompt numbers; ``prompts`` holds the prompts."""

    def __init__(self, name: str, prompts: list[Prompt], performance_sample_count: int) -> None:
        self.prompts = prompts
        super().__init__(name, len(prompts), performance_sample_count, lambda idx: np.asarray(idx, np.int64))


class LLMBenchmark(Benchmark):
    """Prompts for an OpenAI-compatible server (see the module docstring)."""

    name = "llm"
    conf_model = "llm"
    description = "generic LLM serving: prompts to an OpenAI-compatible streaming server, token latencies"
    performance_sample_count = 1024
    accuracy_metric = "none"
    takes_data_dir = False
    scores_accuracy = False
    needs_remote_sut = True

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self._prompts: list[Prompt] | None = None
        self._source = ""

    def configure(self, options: dict[str, Any]) -> "LLMBenchmark":
        bad = sorted(set(options) - set(OPTIONS))
        if bad:
            raise PodiumError(f"benchmark llm: unknown option {bad[0]!r}; expected one of {', '.join(OPTIONS)}")
        return LLMBenchmark({**self.options, **{k: v for k, v in options.items() if v is not None}})

    def settings_defaults(self, scenario: str) -> dict[str, Any]:
        return {"use_token_latencies": True, "server_ttft_latency": 2_000_000_000,
                "server_tpot_latency": 100_000_000, "server_target_latency_ns": 0}

    def tokenizer(self) -> ModelTokenizer | None:
        path = self.options.get("tokenizer")
        return ModelTokenizer.from_file(path) if path else None

    def prompts(self) -> list[Prompt]:
        """The run's prompts (read or made once)."""
        if self._prompts is None:
            o = self.options
            tok = self.tokenizer()
            count = tok.count if tok is not None else None
            n = o.get("num_prompts")
            if o.get("prompts"):
                for key in ("input_len",):
                    if o.get(key) is not None:
                        raise PodiumError("--input-len: only for synthetic prompts (leave it out with --prompts)")
                prompts = load_prompts(o["prompts"], count, limit=int(n) if n else None)
                self._source = f"prompts from {Path(o['prompts']).name} ({len(prompts)})"
                if o.get("output_len") is not None:  # the user's output lengths replace the file's
                    dist = parse_distribution(str(o["output_len"]), "--output-len")
                    outs = np.maximum(1, np.rint(dist.sample(np.random.default_rng(int(o.get("seed") or 0)),
                                                             len(prompts)))).astype(int)
                    prompts = [Prompt(p.text, p.messages, int(k), p.input_tokens) for p, k in zip(prompts, outs)]
            else:
                isl = parse_distribution(str(o.get("input_len") or "128"), "--input-len")
                osl = parse_distribution(str(o.get("output_len") or "128"), "--output-len")
                seed = int(o.get("seed") or 0)
                prompts = synthetic_prompts(int(n or 1024), isl, osl, seed,
                                            tok.decode if tok is not None else None, tok.vocab_size if tok else 0)
                self._source = (f"synthetic prompts: {len(prompts)}, input {isl.spec()} tokens, output "
                                f"{osl.spec()} tokens, seed {seed}" + ("" if tok else " (words, no tokenizer)"))
            cap = o.get("max_tokens")
            if cap is not None:
                prompts = [Prompt(p.text, p.messages, min(p.max_tokens or int(cap), int(cap)), p.input_tokens)
                           for p in prompts]
            self._prompts = prompts
        return self._prompts

    def create_qsl(self, data_dir: str | Path | None = None) -> PromptQSL:
        prompts = self.prompts()
        return PromptQSL("llm-prompts", prompts, min(self.performance_sample_count, len(prompts)))

    def run_labels(self) -> list[str]:
        self.prompts()
        return [self._source] if self._source.startswith("synthetic") else []

    def resolve_model_path(self, model_path: str | Path | None = None) -> Path:
        raise PodiumError("benchmark llm: the model is the server's; run it with --sut-url openai+http://HOST:PORT")

    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        raise PodiumError("benchmark llm: responses come from the server's stream, not a local backend")

    def accuracy_target(self) -> float:
        return 0.0

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        raise PodiumError("benchmark llm: no reference answers, so no accuracy score (the MLPerf LLM tasks have "
                          "theirs)")

    def info(self) -> dict[str, Any]:
        d = super().info()
        d["prompts"] = self._source
        return d
