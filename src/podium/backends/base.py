"""The backend interface: load a model file, run one batch, describe the model's inputs and outputs.

Backends are plain inference wrappers: they know nothing of queries, scenarios or MLPerf. The only podium
module they import is ``podium.errors``, so that a bad model file reaches the user as a one-line message.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError


class BackendError(PodiumError):
    """A model file or backend option the user gave cannot be used (missing, corrupt, unsupported)."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an inference library's (often multi-line) error, at most 300 characters."""
    text = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return text[0][:300] if text else type(exc).__name__


#: One dimension of a tensor shape: a fixed size, or a name / None for a dynamic (e.g. batch) dimension.
Dim = int | str | None


@dataclass(frozen=True)
class TensorSpec:
    """Name, element type and shape of one model input or output; dynamic dims are a name or None."""

    name: str
    dtype: np.dtype
    shape: tuple[Dim, ...]

    @property
    def dynamic_dims(self) -> tuple[int, ...]:
        """Positions of the dimensions that are not fixed sizes."""
        return tuple(i for i, d in enumerate(self.shape) if not isinstance(d, int))

    def concrete_shape(self, batch_size: int) -> tuple[int, ...]:
        """The shape with the first dynamic dim set to ``batch_size``; raises if another dim is dynamic."""
        out: list[int] = []
        for i, d in enumerate(self.shape):
            if isinstance(d, int):
                out.append(d)
            elif i == 0:
                out.append(int(batch_size))
            else:
                raise BackendError(f"input {self.name!r}: dimension {i} is dynamic ({d!r}); "
                                   "give a concrete shape")
        return tuple(out)


Batch = dict[str, np.ndarray] | np.ndarray


class Backend(abc.ABC):
    """An inference engine holding one loaded model.

    ``run`` takes either a dict ``{input name: array}`` or, for single-input models, a bare array, and returns
    the outputs in the order of ``outputs``. Implementations must be safe to call ``run`` from several
    threads at once and should release the GIL while computing (so that a worker pool scales).
    """

    #: Short registry name, e.g. ``"onnxruntime"``.
    name: str = "backend"

    @property
    @abc.abstractmethod
    def version(self) -> str:
        """Version of the underlying inference library."""

    @abc.abstractmethod
    def load(self, model_path: str | Path) -> Backend:
        """Load the model file; raises ``BackendError`` naming the path when it is missing or unreadable."""

    @property
    @abc.abstractmethod
    def inputs(self) -> list[TensorSpec]:
        """The model's inputs, discovered from the model file."""

    @property
    @abc.abstractmethod
    def outputs(self) -> list[TensorSpec]:
        """The model's outputs, discovered from the model file."""

    @abc.abstractmethod
    def run(self, batch: Batch) -> list[np.ndarray]:
        """Run one batch; returns one array per output."""

    def config(self) -> dict[str, Any]:
        """The settings that shape performance, for result files (library, version, threads, …)."""
        return {"backend": self.name, "version": self.version}

    def close(self) -> None:  # noqa: B027 - a no-op default is right for backends holding nothing
        """Free the loaded model."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
