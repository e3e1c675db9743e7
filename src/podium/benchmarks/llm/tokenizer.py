"""The model's tokenizer from a ``tokenizer.json`` file (Hugging Face ``tokenizers``), for counting tokens
and for synthetic prompts of a given length in the model's own tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from podium.errors import PodiumError


@dataclass
class ModelTokenizer:
    """``count(text)`` output tokens as the model counts them; ``decode(ids)``; ``vocab_size``."""

    path: Path
    _tok: Any

    @classmethod
    def from_file(cls, path: str | Path) -> "ModelTokenizer":
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / "tokenizer.json"
        if not p.is_file():
            raise PodiumError(f"--tokenizer {p}: file not found (expected the model's tokenizer.json)")
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise PodiumError("--tokenizer: needs the tokenizers package (pip install tokenizers)") from None
        try:
            tok = Tokenizer.from_file(str(p))
        except Exception as exc:
            raise PodiumError(f"--tokenizer {p}: not a tokenizers file ({exc})") from None
        return cls(p, tok)

    @property
    def vocab_size(self) -> int:
        return int(self._tok.get_vocab_size())

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._tok.decode(list(ids)))
