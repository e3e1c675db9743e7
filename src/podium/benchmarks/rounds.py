"""Which benchmarks each MLPerf Inference round has (the submission checker's model list per round).

Sources: ``tools/submission/submission_checker.py`` of github.com/mlcommons/inference at tag v2.1 and
``tools/submission/submission_checker/constants.py`` at commit d6147c7e (2026-07-24), entries "v6.0" and
"v6.1". The rounds between them (v3.0 ... v5.1) are named where they matter to a user, for the message that
says which rounds have a benchmark; podium runs v2.1, v6.0 and v6.1.
"""

from __future__ import annotations

from podium.errors import SettingError

MODELS_BY_ROUND: dict[str, tuple[str, ...]] = {
    "v2.1": ("resnet", "retinanet", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9", "rnnt", "3d-unet-99",
             "3d-unet-99.9"),
    "v6.0": ("resnet", "retinanet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9", "llama3.1-8b",
             "llama3.1-8b-edge", "llama2-70b-99", "llama2-70b-99.9", "stable-diffusion-xl", "mixtral-8x7b",
             "llama3.1-405b", "rgat", "pointpainting", "deepseek-r1", "whisper", "gpt-oss-120b",
             "wan-2.2-t2v-a14b", "qwen3-vl-235b-a22b", "dlrm-v3", "yolo-95", "yolo-99"),
    "v6.1": ("resnet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9", "llama3.1-8b", "llama3.1-8b-edge",
             "llama2-70b-99", "llama2-70b-99.9", "stable-diffusion-xl", "rgat", "deepseek-r1", "whisper",
             "gpt-oss-120b", "wan-2.2-t2v-a14b", "qwen3-vl-235b-a22b", "qwen3.6-27b", "dlrm-v3", "yolo-95",
             "yolo-99", "e2e-rag-qna", "e2e-rag-db"),
}

#: the last round a benchmark retired before v6.0 was in (rounds.md, from the checker at each tag)
_RETIRED = {"rnnt": "v4.0", "dlrm-99": "v3.0", "dlrm-99.9": "v3.0"}

#: benchmarks of podium's own that are in no MLPerf round (they run under any round's LoadGen)
PODIUM_ONLY = frozenset({"digits", "llm"})


def rounds_with(benchmark: str) -> list[str]:
    """The rounds podium knows that have ``benchmark``, oldest first."""
    return [r for r, models in MODELS_BY_ROUND.items() if benchmark in models]


def check_benchmark_in_round(benchmark: str, round_name: str) -> None:
    """Refuse, in one line, an MLPerf benchmark that round ``round_name`` does not have.

    Podium-only benchmarks (``digits``) and benchmarks outside the tables (a registered plug-in) pass.
    """
    if benchmark in PODIUM_ONLY or round_name not in MODELS_BY_ROUND:
        return
    known = {m for models in MODELS_BY_ROUND.values() for m in models}
    if benchmark not in known or benchmark in MODELS_BY_ROUND[round_name]:
        return
    having = rounds_with(benchmark)
    last = _RETIRED.get(benchmark)
    since = f" (its last round was {last})" if last else ""
    raise SettingError(f"benchmark {benchmark!r} is not in round {round_name}{since}: rounds podium runs that "
                       f"have it: {', '.join(having)}; run it with --round {having[-1]}")
