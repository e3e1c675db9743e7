"""Prompts for LLM serving runs: read from JSONL, JSON, CSV or Parquet files (a ``prompt`` or ``messages``
field, or ShareGPT-style ``conversations``), or made synthetic with input and output lengths drawn from
distributions (deterministic with a seed).

A row's ``max_tokens`` (or ``output_len``) field, when present, is that prompt's output cap; ShareGPT rows
take the first human turn as the prompt and, with a tokenizer, the length of the reply that follows as the
cap (what ``vllm bench serve`` does with that data set).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from podium.distributions import Distribution
from podium.errors import PodiumError

#: ``count(text) -> tokens``: the model's tokenizer (``tokenizers``), when the user gave one
TokenCount = Callable[[str], int]
FORMATS = (".jsonl", ".json", ".csv", ".parquet")


@dataclass(frozen=True)
class Prompt:
    """One request's input: ``text`` (completions API) or ``messages`` (chat API), and its output cap."""

    text: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    max_tokens: int | None = None
    #: input length in tokens (synthetic prompts, or counted with the tokenizer)
    input_tokens: int | None = None

    def as_messages(self) -> list[dict[str, str]]:
        """The chat form: the messages, or the text as one user message."""
        return list(self.messages) if self.messages is not None else [{"role": "user", "content": self.text or ""}]

    def as_text(self) -> str:
        """The completions form: the text, or the messages' contents joined by blank lines."""
        if self.text is not None:
            return self.text
        return "\n\n".join(m.get("content", "") for m in self.messages or ())


def load_prompts(path: str | Path, count_tokens: TokenCount | None = None, limit: int | None = None) -> list[Prompt]:
    """The prompts of ``path``; each mistake is a one-line ``PodiumError`` naming the file (and row)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise PodiumError(f"--prompts {p}: file not found")
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        rows = _jsonl_rows(p)
    elif suffix == ".json":
        rows = _json_rows(p)
    elif suffix == ".csv":
        with open(p, newline="", encoding="utf-8") as f:
            rows = [(i + 2, dict(r)) for i, r in enumerate(csv.DictReader(f))]
    elif suffix == ".parquet":
        rows = _parquet_rows(p)
    else:
        raise PodiumError(f"--prompts {p}: unknown format {suffix or '(no suffix)'}; expected one of "
                          f"{', '.join(FORMATS)}")
    out: list[Prompt] = []
    for where, row in rows:
        prompt = _prompt_of(row, f"{p}:{where}", count_tokens)
        if prompt is not None:
            out.append(prompt)
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise PodiumError(f"--prompts {p}: no prompts (expected rows with a 'prompt', 'messages' or "
                          "'conversations' field)")
    return out


def _jsonl_rows(p: Path) -> list[tuple[int, Any]]:
    rows = []
    with open(p, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise PodiumError(f"{p}:{n}: not JSON ({exc.msg})") from None
    return rows


def _json_rows(p: Path) -> list[tuple[int, Any]]:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PodiumError(f"{p}: not JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("data", data.get("prompts"))
    if not isinstance(data, list):
        raise PodiumError(f"{p}: expected a JSON list of rows (or {{\"data\": [...]}})")
    return [(i + 1, r) for i, r in enumerate(data)]


def _parquet_rows(p: Path) -> list[tuple[int, Any]]:
    try:
        import pandas as pd

        frame = pd.read_parquet(p)
    except ImportError:
        raise PodiumError(f"--prompts {p}: reading Parquet needs pandas and pyarrow "
                          "(pip install pandas pyarrow)") from None
    except Exception as exc:
        raise PodiumError(f"--prompts {p}: cannot read Parquet ({type(exc).__name__}: {exc})") from None
    return [(i + 1, {k: _plain(v) for k, v in r.items()}) for i, r in enumerate(frame.to_dict("records"))]


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v.item() if isinstance(v, np.generic) else v


_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "system": "system"}


def _prompt_of(row: Any, where: str, count: TokenCount | None) -> Prompt | None:
    if not isinstance(row, dict):
        raise PodiumError(f"{where}: expected an object with 'prompt', 'messages' or 'conversations'")
    cap = row.get("max_tokens", row.get("output_len"))
    if cap in ("", None):
        cap = None
    else:
        try:
            cap = int(cap)
        except (TypeError, ValueError):
            raise PodiumError(f"{where}: max_tokens: expected a positive integer, got {cap!r}") from None
        if cap < 1:
            raise PodiumError(f"{where}: max_tokens: expected a positive integer, got {cap}")
    if isinstance(row.get("prompt"), str):
        text = row["prompt"]
        return Prompt(text=text, max_tokens=cap, input_tokens=count(text) if count else None)
    if "messages" in row:
        msgs = row["messages"]
        if isinstance(msgs, str):
            try:
                msgs = json.loads(msgs)
            except ValueError:
                raise PodiumError(f"{where}: messages: expected a list of {{role, content}}") from None
        if (not isinstance(msgs, list) or not msgs
                or not all(isinstance(m, dict) and isinstance(m.get("content"), str) and m.get("role") for m in msgs)):
            raise PodiumError(f"{where}: messages: expected a non-empty list of {{role, content}}")
        clean = tuple({"role": str(m["role"]), "content": m["content"]} for m in msgs)
        return Prompt(messages=clean, max_tokens=cap,
                      input_tokens=sum(count(m["content"]) for m in clean) if count else None)
    conv = row.get("conversations", row.get("conversation"))
    if isinstance(conv, list):
        turns = [(_SHAREGPT_ROLES.get(str(t.get("from", t.get("role", ""))).lower()), t.get("value", t.get("content")))
                 for t in conv if isinstance(t, dict)]
        first = next((i for i, (role, text) in enumerate(turns) if role == "user" and isinstance(text, str)
                      and text.strip()), None)
        if first is None:
            return None  # a conversation with no human turn has no prompt: skipped, as the peers skip it
        text = str(turns[first][1])
        reply = turns[first + 1][1] if first + 1 < len(turns) and turns[first + 1][0] == "assistant" else None
        if cap is None and count is not None and isinstance(reply, str) and reply.strip():
            cap = max(1, count(reply))
        return Prompt(messages=({"role": "user", "content": text},), max_tokens=cap,
                      input_tokens=count(text) if count else None)
    raise PodiumError(f"{where}: expected a 'prompt' (text), 'messages' or 'conversations' field")


_VOCAB = ("time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world", "school",
          "state", "family", "student", "group", "country", "problem", "hand", "part", "place", "case", "week",
          "company", "system", "program", "question", "work", "government", "number", "night", "point", "home",
          "water", "room", "mother", "area", "money", "story", "fact", "month", "lot", "right", "study", "book")


def synthetic_prompts(n: int, input_len: Distribution, output_len: Distribution, seed: int,
                      decode: Callable[[Sequence[int]], str] | None = None, vocab_size: int = 0) -> list[Prompt]:
    """``n`` prompts of ``input_len`` tokens asking for ``output_len`` tokens, the same for the same seed.

    With a tokenizer (``decode`` of ids below ``vocab_size``) the text is random token ids decoded, so it is
    about that many of the model's tokens; without one it is common one-token English words.
    """
    if n < 1:
        raise PodiumError(f"--num-prompts: expected an integer >= 1, got {n}")
    rng = np.random.default_rng(seed)
    ins = np.maximum(1, np.rint(input_len.sample(rng, n))).astype(np.int64)
    outs = np.maximum(1, np.rint(output_len.sample(rng, n))).astype(np.int64)
    out = []
    for i in range(n):
        k = int(ins[i])
        if decode is not None and vocab_size > 0:
            # the first ids of a vocabulary are special tokens and bytes: draw above them
            ids = rng.integers(min(1000, vocab_size // 2), vocab_size, k)
            text = decode([int(x) for x in ids])
        else:
            text = " ".join(_VOCAB[j] for j in rng.integers(0, len(_VOCAB), k))
        out.append(Prompt(text=f"{i}: {text}", max_tokens=int(outs[i]), input_tokens=k))
    return out
