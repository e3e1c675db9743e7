"""``GraphBuilder``: a thin layer over ``onnx.helper`` for writing random-weight model graphs by hand.

PyTorch is optional in podium (and torchvision does not import beside the pinned torch here), so the
random-weight ResNet50 and RetinaNet graphs are written node by node. Weights come from one seeded
``numpy.random.Generator``: He (Kaiming) normal for convolutions unless a layer asks for another
initialisation, so two builds with the same seed and NumPy version give the same bytes. The builder counts
trainable parameters apart from buffers (batch-norm statistics, frozen batch-norm constants, anchors), so
a graph can be checked against the published parameter count of the architecture it copies.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from podium.benchmarks.vision import deps


class GraphBuilder:
    """Accumulates nodes and initialisers of one ONNX graph; names are unique and deterministic."""

    def __init__(self, seed: int) -> None:
        self.onnx = deps.onnx()
        self.rng = np.random.default_rng(seed)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.param_count = 0
        self.buffer_count = 0
        self._counts: collections.Counter[str] = collections.Counter()

    # -- names, constants, nodes -------------------------------------------------------------------
    def name(self, prefix: str) -> str:
        """A fresh tensor/node name ``prefix_N``."""
        self._counts[prefix] += 1
        return f"{prefix}_{self._counts[prefix]}"

    def const(self, array: Any, prefix: str = "const", param: bool = False) -> str:
        """Add ``array`` as an initialiser (counted as a parameter when ``param``) and return its name."""
        arr = np.asarray(array)
        name = self.name(prefix)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        if param:
            self.param_count += int(arr.size)
        else:
            self.buffer_count += int(arr.size)
        return name

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1, prefix: str | None = None,
           **attrs: Any) -> Any:
        """Add one node; returns its output name (or the list of names when ``n_out`` > 1)."""
        base = self.name(prefix or op_type.lower())
        outs = [base] if n_out == 1 else [f"{base}:{i}" for i in range(n_out)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, name=base, **attrs))
        return outs[0] if n_out == 1 else outs

    def op_count(self) -> collections.Counter[str]:
        """How many nodes of each op type the graph holds."""
        return collections.Counter(n.op_type for n in self.nodes)

    # -- layers ------------------------------------------------------------------------------------
    def conv_weights(self, cin: int, cout: int, k: int, groups: int = 1, bias: bool = False,
                     std: float | None = None, bias_value: float = 0.0, prefix: str = "conv") -> list[str]:
        """Weight (and bias) initialisers of a convolution: He-normal unless ``std`` is given."""
        fan_in = cin // groups * k * k
        scale = std if std is not None else math.sqrt(2.0 / fan_in)
        w = self.rng.standard_normal((cout, cin // groups, k, k), dtype=np.float32) * np.float32(scale)
        names = [self.const(w, prefix + "_w", param=True)]
        if bias:
            names.append(self.const(np.full(cout, bias_value, np.float32), prefix + "_b", param=True))
        return names

    def conv_with(self, x: str, weights: Sequence[str], k: int, stride: int = 1,
                  pads: Sequence[int] | None = None, groups: int = 1, prefix: str = "conv") -> str:
        """A convolution node using existing weights (heads share theirs across pyramid levels)."""
        p = list(pads) if pads is not None else [k // 2] * 4
        return self.op("Conv", [x, *weights], prefix=prefix, kernel_shape=[k, k], strides=[stride, stride],
                       pads=p, group=groups, dilations=[1, 1])

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, pads: Sequence[int] | None = None,
             groups: int = 1, bias: bool = False, std: float | None = None, bias_value: float = 0.0,
             prefix: str = "conv") -> str:
        """A 2-D convolution with its own new weights (see ``conv_weights``); ``pads`` default to k // 2."""
        weights = self.conv_weights(cin, cout, k, groups, bias, std, bias_value, prefix)
        return self.conv_with(x, weights, k, stride, pads, groups, prefix)

    def batch_norm(self, x: str, c: int, gamma: float = 1.0) -> str:
        """BatchNormalization in inference form: scale/bias are parameters, mean/variance buffers."""
        scale = self.const(np.full(c, gamma, np.float32), "bn_gamma", param=True)
        bias = self.const(np.zeros(c, np.float32), "bn_beta", param=True)
        mean = self.const(np.zeros(c, np.float32), "bn_mean")
        var = self.const(np.ones(c, np.float32), "bn_var")
        return self.op("BatchNormalization", [x, scale, bias, mean, var], prefix="bn", epsilon=1e-5)

    def frozen_batch_norm(self, x: str, c: int, gamma: float = 1.0) -> str:
        """torchvision's FrozenBatchNorm2d as its ONNX export shows it: ``x * scale + bias`` with constants."""
        scale = self.const(np.full((1, c, 1, 1), gamma, np.float32), "fbn_scale")
        bias = self.const(np.zeros((1, c, 1, 1), np.float32), "fbn_bias")
        return self.op("Add", [self.op("Mul", [x, scale], prefix="fbn_mul"), bias], prefix="fbn_add")

    def relu(self, x: str) -> str:
        """ReLU."""
        return self.op("Relu", [x])

    def int64(self, values: Sequence[int] | int, prefix: str = "i64") -> str:
        """An int64 constant (shapes, axes, counts): a buffer, not a parameter."""
        return self.const(np.asarray(values, dtype=np.int64), prefix)

    def float32(self, values: Any, prefix: str = "f32") -> str:
        """A float32 constant buffer."""
        return self.const(np.asarray(values, dtype=np.float32), prefix)

    # -- the model ---------------------------------------------------------------------------------
    def value_info(self, name: str, elem: str, shape: Sequence[int | str | None]) -> Any:
        """A graph input/output declaration; ``elem`` is ``float``, ``int64``, …"""
        elem_type = getattr(self.onnx.TensorProto, elem.upper())
        return self.onnx.helper.make_tensor_value_info(name, elem_type, list(shape))

    def model(self, graph_name: str, inputs: Sequence[Any], outputs: Sequence[Any], opset: int,
              doc: str) -> Any:
        """The finished ``ModelProto`` (checked by ``onnx.checker``)."""
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, graph_name, list(inputs), list(outputs), self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="podium", doc_string=doc)
        model.ir_version = min(model.ir_version, 8)  # IR 8 loads in every onnxruntime podium supports (>= 1.17)
        self.onnx.checker.check_model(model)
        return model
