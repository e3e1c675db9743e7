"""The RNN-T model as three ONNX graphs (encoder, prediction network, joint network) plus a JSON descriptor.

The MLPerf RNN-T (45.3 M parameters) is an LSTM transducer:
- encoder: 2 LSTM layers (240 → 1024), time stacking ×2 (frames t and t+1 concatenated, odd lengths padded
  with a zero frame), 3 LSTM layers (2048 → 1024); output lengths ceil(n / 2);
- prediction network: an embedding of the 28 characters (320 wide) and 2 LSTM layers of 320; the start
  symbol is a zero input with a zero state;
- joint network: concat(encoder frame, prediction output) → 512, ReLU → 29 logits (28 characters + blank).

Greedy decoding loops over these networks step by step, so the graphs are separate:

| graph | inputs | outputs |
|---|---|---|
| encoder | ``features`` (T, B, 240) float, ``lengths`` (B,) int64 | ``encoded`` (B, T', 1024), ``encoded_lengths`` (B,) |
| prediction | ``symbol`` (B,) int64, ``h`` / ``c`` (2, B, 320) | ``g`` (B, 320), ``h_out``, ``c_out`` |
| joint | ``f`` (B, 1024), ``g`` (B, 320) | ``logits`` (B, 29), ``best`` (B,) int64 argmax |

The embedding gets one extra all-zero row at the blank's index (28), so feeding symbol 28 with a zero state
is exactly the reference's start step. The encoder zeroes the first LSTM stack's outputs past each
utterance's length before stacking, so a padded batch gives each utterance what it would get alone.

Weights come from the official PyTorch checkpoint (``checkpoint``) or are random (PyTorch's default LSTM and
Linear initialisation, forget-gate bias 1 as in the reference), in ``RNNTWeights`` in PyTorch's layout; the
graph builders convert (the encoder's ONNX LSTM operator orders gates i, o, f, c where PyTorch has i, f, g, o;
the prediction network's single step is written out as cell arithmetic, which runs faster at length 1).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.onnx_graph import GraphParts
from podium.benchmarks.rnnt.transcripts import BLANK_INDEX, LABELS, NUM_CLASSES
from podium.errors import PodiumError
from podium.files import models_cache_dir

OPSET = 17
DESCRIPTOR_FORMAT = "podium-rnnt-onnx/1"
#: The reference decoder's limit on symbols emitted for one encoder frame.
MAX_SYMBOLS_PER_STEP = 30
GRAPH_VERSION = 2


@dataclass(frozen=True)
class RNNTConfig:
    """Sizes of the transducer (defaults: the MLPerf model, configs/rnnt.toml)."""

    in_features: int = 240
    encoder_hidden: int = 1024
    pre_layers: int = 2
    post_layers: int = 3
    stack_factor: int = 2
    pred_hidden: int = 320
    pred_layers: int = 2
    joint_hidden: int = 512
    num_classes: int = NUM_CLASSES


MLPERF_RNNT = RNNTConfig()


@dataclass
class LSTMLayer:
    """One LSTM layer in PyTorch's layout: gates stacked i, f, g, o."""

    w_ih: np.ndarray  # (4H, in)
    w_hh: np.ndarray  # (4H, H)
    b_ih: np.ndarray  # (4H,)
    b_hh: np.ndarray  # (4H,)

    @property
    def hidden(self) -> int:
        return int(self.w_hh.shape[1])


@dataclass
class RNNTWeights:
    """All weights of the transducer, PyTorch layout (``embed`` has the 28 character rows only)."""

    pre_rnn: list[LSTMLayer]
    post_rnn: list[LSTMLayer]
    embed: np.ndarray
    pred_rnn: list[LSTMLayer]
    joint1_w: np.ndarray  # (joint_hidden, encoder_hidden + pred_hidden)
    joint1_b: np.ndarray
    joint2_w: np.ndarray  # (num_classes, joint_hidden)
    joint2_b: np.ndarray
    stack_factor: int = 2
    source: dict[str, Any] = field(default_factory=dict)

    def config(self) -> RNNTConfig:
        """The sizes these weights imply (checked for consistency)."""
        enc, pred = self.pre_rnn[0].hidden, self.pred_rnn[0].hidden
        cfg = RNNTConfig(in_features=int(self.pre_rnn[0].w_ih.shape[1]), encoder_hidden=enc,
                         pre_layers=len(self.pre_rnn), post_layers=len(self.post_rnn),
                         stack_factor=self.stack_factor, pred_hidden=pred, pred_layers=len(self.pred_rnn),
                         joint_hidden=int(self.joint1_w.shape[0]), num_classes=int(self.joint2_w.shape[0]))
        expected = {
            "post_rnn input": (self.post_rnn[0].w_ih.shape[1], enc * self.stack_factor),
            "embedding rows": (self.embed.shape[0], cfg.num_classes - 1),
            "embedding width": (self.embed.shape[1], pred),
            "joint input": (self.joint1_w.shape[1], enc + pred),
            "joint output": (self.joint2_w.shape[1], cfg.joint_hidden),
        }
        for what, (got, want) in expected.items():
            if got != want:
                raise PodiumError(f"RNN-T weights: {what} is {got}, expected {want}")
        return cfg


def _lstm_random(rng: np.random.Generator, n_in: int, hidden: int, forget_bias: float) -> LSTMLayer:
    k = 1.0 / np.sqrt(hidden)
    def u(*shape: int) -> np.ndarray:
        return rng.uniform(-k, k, shape).astype(np.float32)
    layer = LSTMLayer(u(4 * hidden, n_in), u(4 * hidden, hidden), u(4 * hidden), u(4 * hidden))
    layer.b_ih[hidden:2 * hidden] = forget_bias  # the reference sets the forget gate's bias like this
    layer.b_hh[hidden:2 * hidden] = 0.0
    return layer


def random_weights(config: RNNTConfig = MLPERF_RNNT, seed: int = 0) -> RNNTWeights:
    """Weights drawn like PyTorch's default initialisation (seeded), forget-gate bias 1."""
    rng = np.random.default_rng(seed)
    c = config
    def linear(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
        k = 1.0 / np.sqrt(n_in)
        return (rng.uniform(-k, k, (n_out, n_in)).astype(np.float32), rng.uniform(-k, k, n_out).astype(np.float32))
    pre = [_lstm_random(rng, c.in_features if i == 0 else c.encoder_hidden, c.encoder_hidden, 1.0)
           for i in range(c.pre_layers)]
    post = [_lstm_random(rng, c.encoder_hidden * c.stack_factor if i == 0 else c.encoder_hidden, c.encoder_hidden, 1.0)
            for i in range(c.post_layers)]
    embed = rng.standard_normal((c.num_classes - 1, c.pred_hidden)).astype(np.float32)
    pred = [_lstm_random(rng, c.pred_hidden, c.pred_hidden, 1.0) for _ in range(c.pred_layers)]
    j1w, j1b = linear(c.joint_hidden, c.encoder_hidden + c.pred_hidden)
    j2w, j2b = linear(c.num_classes, c.joint_hidden)
    return RNNTWeights(pre, post, embed, pred, j1w, j1b, j2w, j2b, c.stack_factor,
                       source={"kind": "random", "seed": seed})


# -- ONNX graphs ---------------------------------------------------------------------------------------
def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise PodiumError("building the RNN-T ONNX graphs needs the onnx package: pip install 'podium[speech]'") from None
    return onnx


_GATES_TO_ONNX = (0, 3, 1, 2)  # PyTorch blocks i, f, g, o → ONNX order i, o, f, c


def _onnx_gates(a: np.ndarray, hidden: int) -> np.ndarray:
    return np.concatenate([a[g * hidden:(g + 1) * hidden] for g in _GATES_TO_ONNX], axis=0)


class _Builder(GraphParts):
    """Graph parts plus the LSTM layers and model wrapper the RNN-T graphs need."""

    def lstm(self, x: str, layer: LSTMLayer, hint: str, h0: str = "", c0: str = "") -> tuple[str, str, str]:
        """One LSTM layer over x (T, B, in); returns (Y squeezed to (T, B, H), Y_h, Y_c)."""
        h = layer.hidden
        w = self.const(f"{hint}_W", _onnx_gates(layer.w_ih, h)[None].astype(np.float32))
        r = self.const(f"{hint}_R", _onnx_gates(layer.w_hh, h)[None].astype(np.float32))
        b = self.const(f"{hint}_B", np.concatenate([_onnx_gates(layer.b_ih, h), _onnx_gates(layer.b_hh, h)])[None]
                       .astype(np.float32))
        y, yh, yc = self.op("LSTM", [x, w, r, b, "", h0, c0], hint, n_out=3, hidden_size=h)
        return self.op("Squeeze", [y, self.const("axis1", np.array([1], dtype=np.int64))], f"{hint}_y"), yh, yc

    def model(self, name: str, inputs: list[Any], outputs: list[Any], props: dict[str, str]) -> Any:
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="podium", producer_version=str(GRAPH_VERSION))
        model.ir_version = 8
        helper.set_model_props(model, props)
        return model


def encoder_graph(w: RNNTWeights, props: dict[str, str] | None = None) -> Any:
    """The encoder (see the module docstring)."""
    onnx = _import_onnx()
    TP, helper = onnx.TensorProto, onnx.helper
    cfg = w.config()
    b = _Builder(onnx)
    x = "features"
    for i, layer in enumerate(w.pre_rnn):
        x, _, _ = b.lstm(x, layer, f"pre{i}")
    # Zero the outputs at t >= length: the reference runs one utterance at a time, so its stacking pads an
    # odd-length utterance with a zero frame; in a padded batch that frame would hold the LSTM's output.
    t_dim = b.op("Shape", [x], "t_dim", start=0, end=1)
    steps = b.op("Range", [b.const("zero", np.array(0, dtype=np.int64)),
                           b.op("Squeeze", [t_dim], "t_scalar"), b.const("one", np.array(1, dtype=np.int64))], "steps")
    valid = b.op("Less", [b.op("Unsqueeze", [steps, b.const("ax1", np.array([1], dtype=np.int64))]),
                          b.op("Unsqueeze", ["lengths", b.const("ax0", np.array([0], dtype=np.int64))])], "valid")
    mask = b.op("Unsqueeze", [b.op("Cast", [valid], to=TP.FLOAT), b.const("ax2", np.array([2], dtype=np.int64))], "mask")
    x = b.op("Mul", [x, mask], "pre_masked")
    # Time stacking: (T, B, H) → (B, T, H), pad T to a multiple of f with zeros, → (B, T/f, f·H) → (T/f, B, f·H).
    f = cfg.stack_factor
    bt = b.op("Transpose", [x], "bth", perm=[1, 0, 2])
    fac = b.const("factor", np.array([f], dtype=np.int64))
    extra = b.op("Mod", [b.op("Sub", [fac, b.op("Mod", [t_dim, fac])]), fac], "pad_t")
    zeros3 = b.const("zeros3", np.zeros(3, dtype=np.int64))
    zero1 = b.const("zero1", np.zeros(1, dtype=np.int64))
    pads = b.op("Concat", [zeros3, zero1, extra, zero1], "pads", axis=0)
    padded = b.op("Pad", [bt, pads], "padded")
    stacked = b.op("Reshape", [padded, b.const("stack_shape", np.array([0, -1, f * cfg.encoder_hidden], dtype=np.int64))])
    x = b.op("Transpose", [stacked], "stacked", perm=[1, 0, 2])
    for i, layer in enumerate(w.post_rnn):
        x, _, _ = b.lstm(x, layer, f"post{i}")
    b.op("Transpose", [x], outputs=["encoded"], perm=[1, 0, 2])
    fm1 = b.const("factor_m1", np.array(f - 1, dtype=np.int64))
    b.op("Div", [b.op("Add", ["lengths", fm1]), b.const("factor_s", np.array(f, dtype=np.int64))],
         outputs=["encoded_lengths"])
    return b.model("podium_rnnt_encoder", [
        helper.make_tensor_value_info("features", TP.FLOAT, ["time", "batch", cfg.in_features]),
        helper.make_tensor_value_info("lengths", TP.INT64, ["batch"]),
    ], [
        helper.make_tensor_value_info("encoded", TP.FLOAT, ["batch", "encoded_time", cfg.encoder_hidden]),
        helper.make_tensor_value_info("encoded_lengths", TP.INT64, ["batch"]),
    ], props or {})


def _lstm_cell(b: _Builder, x: str, h: str, c: str, layer: LSTMLayer, hint: str) -> tuple[str, str]:
    """One LSTM step written out (gates i, f, g, o from one Gemm over [x, h]); returns (h', c').

    For a single step this runs ~2.5× faster in ONNX Runtime than the LSTM operator, whose set-up cost
    dominates at sequence length 1, and the decoder calls it once per emitted character.
    """
    wr = np.concatenate([layer.w_ih, layer.w_hh], axis=1).T.astype(np.float32)
    z = b.op("Gemm", [b.op("Concat", [x, h], f"{hint}_xh", axis=1), b.const(f"{hint}_WR", wr),
                      b.const(f"{hint}_b", (layer.b_ih + layer.b_hh).astype(np.float32))], f"{hint}_z")
    i, f, g, o = b.op("Split", [z], f"{hint}_gates", n_out=4, axis=1)
    c_new = b.op("Add", [b.op("Mul", [b.op("Sigmoid", [f]), c]),
                         b.op("Mul", [b.op("Sigmoid", [i]), b.op("Tanh", [g])])], f"{hint}_c")
    h_new = b.op("Mul", [b.op("Sigmoid", [o]), b.op("Tanh", [c_new])], f"{hint}_h")
    return h_new, c_new


def prediction_graph(w: RNNTWeights, props: dict[str, str] | None = None) -> Any:
    """The prediction network, one step (see the module docstring)."""
    onnx = _import_onnx()
    TP, helper = onnx.TensorProto, onnx.helper
    cfg = w.config()
    b = _Builder(onnx)
    # One extra zero row at the blank's index: symbol 28 is the start symbol's zero input.
    table = np.concatenate([w.embed, np.zeros((1, cfg.pred_hidden), dtype=np.float32)]).astype(np.float32)
    x = b.op("Gather", [b.const("embed", table), "symbol"], "emb")  # (B, H)
    axis0 = b.const("ax0", np.array([0], dtype=np.int64))
    n = cfg.pred_layers
    hs = b.op("Split", ["h"], "h_split", n_out=n, axis=0) if n > 1 else ["h"]
    cs = b.op("Split", ["c"], "c_split", n_out=n, axis=0) if n > 1 else ["c"]
    h_outs, c_outs = [], []
    for i, layer in enumerate(w.pred_rnn):
        h_prev = b.op("Squeeze", [hs[i], axis0], f"h{i}")
        c_prev = b.op("Squeeze", [cs[i], axis0], f"c{i}")
        x, c_new = _lstm_cell(b, x, h_prev, c_prev, layer, f"pred{i}")
        h_outs.append(b.op("Unsqueeze", [x, axis0], f"h{i}_out"))
        c_outs.append(b.op("Unsqueeze", [c_new, axis0], f"c{i}_out"))
    b.op("Identity", [x], outputs=["g"])
    b.op("Concat", h_outs, outputs=["h_out"], axis=0)
    b.op("Concat", c_outs, outputs=["c_out"], axis=0)
    state = [cfg.pred_layers, "batch", cfg.pred_hidden]
    return b.model("podium_rnnt_prediction", [
        helper.make_tensor_value_info("symbol", TP.INT64, ["batch"]),
        helper.make_tensor_value_info("h", TP.FLOAT, state),
        helper.make_tensor_value_info("c", TP.FLOAT, state),
    ], [
        helper.make_tensor_value_info("g", TP.FLOAT, ["batch", cfg.pred_hidden]),
        helper.make_tensor_value_info("h_out", TP.FLOAT, state),
        helper.make_tensor_value_info("c_out", TP.FLOAT, state),
    ], props or {})


def joint_graph(w: RNNTWeights, props: dict[str, str] | None = None) -> Any:
    """The joint network for one (encoder frame, prediction output) pair per batch row."""
    onnx = _import_onnx()
    TP, helper = onnx.TensorProto, onnx.helper
    cfg = w.config()
    b = _Builder(onnx)
    x = b.op("Concat", ["f", "g"], "fg", axis=1)
    hidden = b.op("Relu", [b.op("Add", [b.op("MatMul", [x, b.const("j1_w", w.joint1_w.T.astype(np.float32))]),
                                        b.const("j1_b", w.joint1_b.astype(np.float32))])], "joint_hidden")
    b.op("Add", [b.op("MatMul", [hidden, b.const("j2_w", w.joint2_w.T.astype(np.float32))]),
                 b.const("j2_b", w.joint2_b.astype(np.float32))], outputs=["logits"])
    b.op("ArgMax", ["logits"], outputs=["best"], axis=1, keepdims=0)
    return b.model("podium_rnnt_joint", [
        helper.make_tensor_value_info("f", TP.FLOAT, ["batch", cfg.encoder_hidden]),
        helper.make_tensor_value_info("g", TP.FLOAT, ["batch", cfg.pred_hidden]),
    ], [
        helper.make_tensor_value_info("logits", TP.FLOAT, ["batch", cfg.num_classes]),
        helper.make_tensor_value_info("best", TP.INT64, ["batch"]),
    ], props or {})


# -- files ---------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where built models are kept (``podium.files.models_cache_dir``: ``$PODIUM_CACHE_DIR``, ``$XDG_CACHE_HOME``)."""
    return models_cache_dir()


def write_model(weights: RNNTWeights, out_dir: str | Path, stem: str, *, random: bool) -> Path:
    """Write ``<stem>-{encoder,prediction,joint}.onnx`` and the descriptor ``<stem>.json``; returns the latter.

    The descriptor is written last (atomically), so its presence means the three graphs are complete.
    """
    onnx = _import_onnx()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = weights.config()
    props = {"podium.random_weights": str(random).lower(), "podium.source": json.dumps(weights.source, sort_keys=True)}
    files: dict[str, str] = {}
    for part, build in (("encoder", encoder_graph), ("prediction", prediction_graph), ("joint", joint_graph)):
        name = f"{stem}-{part}.onnx"
        tmp = out / f"{name}.tmp{os.getpid()}"
        onnx.save_model(build(weights, props), str(tmp))
        os.replace(tmp, out / name)
        files[part] = name
    descriptor = {
        "format": DESCRIPTOR_FORMAT,
        **files,
        "random_weights": random,
        "source": weights.source,
        "config": asdict(cfg),
        "labels": list(LABELS),
        "blank_index": BLANK_INDEX,
        "max_symbols_per_step": MAX_SYMBOLS_PER_STEP,
        "sha256": {part: hashlib.sha256((out / name).read_bytes()).hexdigest() for part, name in files.items()},
    }
    path = out / f"{stem}.json"
    tmp = out / f"{stem}.json.tmp{os.getpid()}"
    tmp.write_text(json.dumps(descriptor, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class ModelFiles:
    """A descriptor's three graph paths and what it says about them."""

    descriptor: Path
    encoder: Path
    prediction: Path
    joint: Path
    random_weights: bool
    config: RNNTConfig
    blank_index: int
    max_symbols_per_step: int
    source: dict[str, Any]


def read_descriptor(path: str | Path) -> ModelFiles:
    """Read and check a descriptor written by ``write_model``."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PodiumError(f"{p}: not a readable RNN-T model descriptor ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != DESCRIPTOR_FORMAT:
        raise PodiumError(f"{p}: field format should be {DESCRIPTOR_FORMAT!r} (a descriptor podium wrote)")
    parts = {}
    for part in ("encoder", "prediction", "joint"):
        if not isinstance(d.get(part), str):
            raise PodiumError(f"{p}: field {part} should name the {part} ONNX file")
        parts[part] = p.parent / d[part]
        if not parts[part].is_file():
            raise PodiumError(f"{p}: {part} graph {parts[part]} not found")
    try:
        cfg = RNNTConfig(**d.get("config", {}))
    except TypeError as exc:
        raise PodiumError(f"{p}: field config is malformed ({exc})") from None
    return ModelFiles(descriptor=p, random_weights=bool(d.get("random_weights", False)), config=cfg,
                      blank_index=int(d.get("blank_index", BLANK_INDEX)),
                      max_symbols_per_step=int(d.get("max_symbols_per_step", MAX_SYMBOLS_PER_STEP)),
                      source=dict(d.get("source", {})), **parts)


def random_model_stem(config: RNNTConfig = MLPERF_RNNT, seed: int = 0) -> str:
    """File stem of the random-weight model for ``config``/``seed`` (a digest keeps variants apart)."""
    key = hashlib.sha256(json.dumps({"config": asdict(config), "seed": seed, "graph": GRAPH_VERSION},
                                    sort_keys=True).encode()).hexdigest()[:12]
    return f"rnnt-random-{key}"


def build_random_model(config: RNNTConfig = MLPERF_RNNT, seed: int = 0, out_dir: str | Path | None = None,
                       *, force: bool = False) -> Path:
    """Build (or reuse) the random-weight model; returns its descriptor path."""
    out = Path(out_dir) if out_dir is not None else cache_dir()
    path = out / f"{random_model_stem(config, seed)}.json"
    if path.is_file() and not force:
        return path
    return write_model(random_weights(config, seed), out, random_model_stem(config, seed), random=True)
