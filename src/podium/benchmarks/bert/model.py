"""A BERT question-answering model as an ONNX graph with random weights, for performance-only runs.

The graph has the official MLPerf BERT model's interface: int64 inputs ``input_ids``, ``input_mask`` and
``segment_ids`` of shape (batch, sequence), float32 outputs ``output_start_logits`` and
``output_end_logits`` of shape (batch, sequence). Both dimensions are dynamic, so the harness can cut a
batch to its longest real sequence. The body is the standard BERT encoder (post-LayerNorm, GELU with erf,
attention masked with -10000 on padding) written with plain ONNX operators of opset 17, which ONNX Runtime
fuses into its own attention/GELU/LayerNorm kernels. Weights are N(0, 0.02) like BERT's initialiser:
the outputs are meaningless, the arithmetic is that of the real model.

``BERT_LARGE`` is the MLPerf model's size (24 layers, hidden 1024, 16 heads, 335 M parameters, 1.34 GB).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.onnx_graph import GraphParts
from podium.errors import PodiumError
from podium.files import models_cache_dir

OPSET = 17
INPUT_NAMES = ("input_ids", "input_mask", "segment_ids")
OUTPUT_NAMES = ("output_start_logits", "output_end_logits")
#: Bump when the graph layout changes, so cached files from an older layout are not reused.
GRAPH_VERSION = 1


@dataclass(frozen=True)
class BertConfig:
    """Sizes of a BERT encoder (defaults: BERT-Large uncased, as in the reference's bert_config.json)."""

    vocab_size: int = 30522
    hidden_size: int = 1024
    num_layers: int = 24
    num_heads: int = 16
    intermediate_size: int = 4096
    max_position: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise PodiumError(f"BERT config: hidden_size {self.hidden_size} is not a multiple of "
                              f"num_heads {self.num_heads}")

    @property
    def parameter_count(self) -> int:
        """Number of weights (embeddings, encoder layers, QA head)."""
        h, i = self.hidden_size, self.intermediate_size
        emb = (self.vocab_size + self.max_position + self.type_vocab_size) * h + 2 * h
        layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h
        return emb + self.num_layers * layer + 2 * h + 2


BERT_LARGE = BertConfig()


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise PodiumError("building a random-weight model needs the onnx package: pip install 'podium[nlp]'") from None
    return onnx


class _Graph(GraphParts):
    """Graph parts plus normally distributed random weights."""

    def __init__(self, onnx: Any, rng: np.random.Generator, std: float) -> None:
        super().__init__(onnx)
        self.rng = rng
        self.std = std

    def normal(self, hint: str, *shape: int) -> str:
        w = self.rng.standard_normal(shape, dtype=np.float32)
        w *= np.float32(self.std)
        return self.const(hint, w)


def _layer_norm(g: _Graph, x: str, hidden: int, eps: float, hint: str) -> str:
    scale = g.const(f"{hint}_gamma", np.ones(hidden, dtype=np.float32))
    bias = g.const(f"{hint}_beta", np.zeros(hidden, dtype=np.float32))
    return g.op("LayerNormalization", [x, scale, bias], hint, axis=-1, epsilon=eps)


def _dense(g: _Graph, x: str, n_in: int, n_out: int, hint: str) -> str:
    y = g.op("MatMul", [x, g.normal(f"{hint}_w", n_in, n_out)], hint)
    return g.op("Add", [y, g.const(f"{hint}_b", np.zeros(n_out, dtype=np.float32))], hint)


def _gelu(g: _Graph, x: str) -> str:
    # 0.5·x·(1 + erf(x/√2)): the exact GELU BERT uses; opset 17 has no Gelu operator.
    inv_sqrt2 = g.const("inv_sqrt2", np.array(1 / np.sqrt(2), dtype=np.float32))
    one = g.const("one", np.array(1.0, dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    erf = g.op("Erf", [g.op("Mul", [x, inv_sqrt2])])
    return g.op("Mul", [g.op("Mul", [x, half]), g.op("Add", [erf, one])], "gelu")


def build_bert_graph(config: BertConfig = BERT_LARGE, seed: int = 0) -> Any:
    """The random-weight BERT QA model as an ``onnx.ModelProto`` (see the module docstring)."""
    onnx = _import_onnx()
    helper, TP = onnx.helper, onnx.TensorProto
    c = config
    g = _Graph(onnx, np.random.default_rng(seed), c.initializer_range)
    h, heads = c.hidden_size, c.num_heads
    head_dim = h // heads

    # Embeddings: word + position (0..S-1) + token type, then LayerNorm.
    word = g.op("Gather", [g.normal("word_embeddings", c.vocab_size, h), "input_ids"], "word_emb")
    # Position embeddings 0..S-1 as a slice of the table (S = the sequence dimension of input_ids).
    seq_len = g.op("Shape", ["input_ids"], "seq_len", start=1, end=2)
    pos = g.op("Slice", [g.normal("position_embeddings", c.max_position, h),
                         g.const("zero", np.array([0], dtype=np.int64)), seq_len,
                         g.const("axis0", np.array([0], dtype=np.int64))], "pos_emb")
    typ = g.op("Gather", [g.normal("token_type_embeddings", c.type_vocab_size, h), "segment_ids"], "type_emb")
    x = g.op("Add", [g.op("Add", [word, pos]), typ], "emb_sum")
    x = _layer_norm(g, x, h, c.layer_norm_eps, "emb_ln")

    # Attention bias: 0 on real tokens, -10000 on padding, shaped (B, 1, 1, S) to broadcast over heads/queries.
    mask = g.op("Cast", ["input_mask"], "mask_f", to=TP.FLOAT)
    inv = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask])
    bias = g.op("Mul", [inv, g.const("neg", np.array(-10000.0, dtype=np.float32))])
    bias = g.op("Unsqueeze", [bias, g.const("axes12", np.array([1, 2], dtype=np.int64))], "attn_bias")

    split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, h], dtype=np.int64))
    scale = g.const("attn_scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    for layer in range(c.num_layers):
        p = f"l{layer}"
        q = g.op("Transpose", [g.op("Reshape", [_dense(g, x, h, h, f"{p}_q"), split_heads])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [_dense(g, x, h, h, f"{p}_k"), split_heads])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [_dense(g, x, h, h, f"{p}_v"), split_heads])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias], f"{p}_scores")
        probs = g.op("Softmax", [scores], f"{p}_probs", axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_heads], f"{p}_ctx")
        x = _layer_norm(g, g.op("Add", [_dense(g, ctx, h, h, f"{p}_attn_out"), x]), h, c.layer_norm_eps, f"{p}_ln1")
        ff = _gelu(g, _dense(g, x, h, c.intermediate_size, f"{p}_ff1"))
        x = _layer_norm(g, g.op("Add", [_dense(g, ff, c.intermediate_size, h, f"{p}_ff2"), x]), h,
                        c.layer_norm_eps, f"{p}_ln2")

    logits = _dense(g, x, h, 2, "qa_outputs")  # (B, S, 2)
    start, end = g.op("Split", [logits], "qa_split", n_out=2, axis=2)
    axes2 = g.const("axes2", np.array([2], dtype=np.int64))
    g.op("Squeeze", [start, axes2], outputs=[OUTPUT_NAMES[0]])
    g.op("Squeeze", [end, axes2], outputs=[OUTPUT_NAMES[1]])

    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes, "podium_bert_qa_random",
        [helper.make_tensor_value_info(n, TP.INT64, dims) for n in INPUT_NAMES],
        [helper.make_tensor_value_info(n, TP.FLOAT, dims) for n in OUTPUT_NAMES],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="podium", producer_version=str(GRAPH_VERSION))
    model.ir_version = 8  # readable by onnxruntime >= 1.14
    helper.set_model_props(model, {"podium.random_weights": "true", "podium.seed": str(seed),
                                   "podium.bert_config": json.dumps(asdict(config), sort_keys=True)})
    return model


def cache_dir() -> Path:
    """Where built models are kept (``podium.files.models_cache_dir``: ``$PODIUM_CACHE_DIR``, ``$XDG_CACHE_HOME``)."""
    return models_cache_dir()


def model_key(config: BertConfig, seed: int) -> str:
    """A short digest of everything that shapes the built file."""
    text = json.dumps({"config": asdict(config), "seed": seed, "graph": GRAPH_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def random_model_path(config: BertConfig = BERT_LARGE, seed: int = 0, out_dir: str | Path | None = None) -> Path:
    """Where the random-weight model for ``config``/``seed`` lives (built or not)."""
    name = "bert-large" if config == BERT_LARGE else f"bert-L{config.num_layers}-H{config.hidden_size}"
    return Path(out_dir or cache_dir()) / f"{name}-random-{model_key(config, seed)}.onnx"


def build_random_model(config: BertConfig = BERT_LARGE, seed: int = 0, out_dir: str | Path | None = None,
                       *, force: bool = False) -> Path:
    """Build (or reuse) the random-weight model file and return its path; written atomically."""
    path = random_model_path(config, seed, out_dir)
    if path.is_file() and not force:
        return path
    onnx = _import_onnx()
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build_bert_graph(config, seed)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        onnx.save_model(model, str(tmp))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
