"""A small helper for building ONNX graphs with the ``onnx`` helper API: unique names, constants, nodes.

The random-weight model builders (BERT, RNN-T) share it; each adds its own layers on top.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class GraphParts:
    """Collects nodes and initialisers; every name it hands out is ``<hint>_<n>``, unique in the graph."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, array: np.ndarray) -> str:
        """An initialiser holding ``array``; returns its name."""
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, n_out: int = 1,
           outputs: list[str] | None = None, **attrs: Any) -> Any:
        """Add a node; returns its output name (or names when ``n_out`` > 1)."""
        outs = outputs or [self.name(hint or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if len(outs) == 1 else outs
