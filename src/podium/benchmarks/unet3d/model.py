"""The KiTS19 3D-UNet as an ONNX graph with random weights (performance-only runs without the official file).

Architecture (MLPerf Training's ``unet3d``, which the inference reference's model was trained with):
filters 32, 64, 128, 256, 320; an input block of two 3³ convolutions; four down-sampling blocks (a stride-2
3³ convolution, then a 3³ one) and a stride-2 bottleneck block at 320; five up-sampling blocks (a 2³
stride-2 transposed convolution with bias, concatenation with the skip, two 3³ convolutions); a 1³
output convolution with bias to 3 classes. Every 3³ convolution is bias-free and followed by an
InstanceNorm with scale and bias, then ReLU. Input ``input`` ``(N, 1, 128, 128, 128)``, output ``output``
``(N, 3, 128, 128, 128)`` logits, the names of the reference's ONNX export (its batch is dynamic here).

``filters`` and ``roi`` can be made tiny for tests; the default is the benchmark's network (~31 M weights, 125 MB).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import PodiumError

FILTERS: tuple[int, ...] = (32, 64, 128, 256, 320)
OPSET = 17
INPUT, OUTPUT = "input", "output"
NUM_CLASSES = 3


def build_graph(filters: tuple[int, ...] = FILTERS, roi: int = 128, seed: int = 0, in_channels: int = 1,
                n_class: int = NUM_CLASSES) -> Any:
    """The ONNX ``ModelProto`` of a 3D-UNet with random weights (He-normal convolutions, unit norms)."""
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise PodiumError("building the 3D-UNet ONNX graph needs the onnx package: pip install 'onnx>=1.15'") from None
    levels = len(filters)  # input block + (levels - 1) down blocks + bottleneck: roi shrinks by 2**levels
    if roi % (2 ** levels):
        raise PodiumError(f"3D-UNet: patch size {roi} must be divisible by 2**{levels} = {2 ** levels}")
    rng = np.random.default_rng(seed)
    inits: list[Any] = []
    nodes: list[Any] = []
    count = [0]

    def name(kind: str) -> str:
        count[0] += 1
        return f"{kind}_{count[0]}"

    def const(value: np.ndarray) -> str:
        nm = name("w")
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), nm))
        return nm

    def conv_block(x: str, c_in: int, c_out: int, stride: int) -> str:
        w = rng.normal(0.0, np.sqrt(2.0 / (c_in * 27)), size=(c_out, c_in, 3, 3, 3))
        y = name("conv")
        nodes.append(helper.make_node("Conv", [x, const(w)], [y], kernel_shape=[3, 3, 3], pads=[1] * 6,
                                      strides=[stride] * 3))
        n = name("norm")
        nodes.append(helper.make_node("InstanceNormalization", [y, const(np.ones(c_out)), const(np.zeros(c_out))],
                                      [n], epsilon=1e-5))
        r = name("relu")
        nodes.append(helper.make_node("Relu", [n], [r]))
        return r

    def up_block(x: str, skip: str, c_in: int, c_out: int) -> str:
        w = rng.normal(0.0, np.sqrt(2.0 / (c_in * 8)), size=(c_in, c_out, 2, 2, 2))
        b = rng.normal(0.0, 0.01, size=c_out)
        u = name("up")
        nodes.append(helper.make_node("ConvTranspose", [x, const(w), const(b)], [u], kernel_shape=[2, 2, 2],
                                      strides=[2, 2, 2]))
        c = name("cat")
        nodes.append(helper.make_node("Concat", [u, skip], [c], axis=1))
        return conv_block(conv_block(c, 2 * c_out, c_out, 1), c_out, c_out, 1)

    x = conv_block(conv_block(INPUT, in_channels, filters[0], 1), filters[0], filters[0], 1)
    skips = [x]
    for c_in, c_out in zip(filters[:-1], filters[1:]):
        x = conv_block(conv_block(x, c_in, c_out, 2), c_out, c_out, 1)
        skips.append(x)
    x = conv_block(conv_block(x, filters[-1], filters[-1], 2), filters[-1], filters[-1], 1)  # bottleneck
    ups = [(filters[-1], filters[-1])] + list(zip(reversed(filters[1:]), reversed(filters[:-1])))
    for (c_in, c_out), skip in zip(ups, reversed(skips)):
        x = up_block(x, skip, c_in, c_out)
    w_out = rng.normal(0.0, np.sqrt(1.0 / filters[0]), size=(n_class, filters[0], 1, 1, 1))
    nodes.append(helper.make_node("Conv", [x, const(w_out), const(np.zeros(n_class))], [OUTPUT],
                                  kernel_shape=[1, 1, 1]))
    graph = helper.make_graph(
        nodes, "unet3d_random",
        inputs=[helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", in_channels, roi, roi, roi])],
        outputs=[helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", n_class, roi, roi, roi])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="podium")
    model.ir_version = min(model.ir_version, 8)
    helper.set_model_props(model, {"podium_random_weights": "true", "podium_seed": str(seed),
                                   "podium_filters": ",".join(map(str, filters)), "podium_roi": str(roi)})
    return model


def model_cache_dir() -> Path:
    """Where built models live: ``$PODIUM_CACHE_DIR/models`` or ``~/.cache/podium/models`` (the same rule as
    the DLRM builder's; kept here so the two benchmarks do not import each other)."""
    root = os.environ.get("PODIUM_CACHE_DIR")
    base = Path(root).expanduser() if root else Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "podium"
    return base / "models"


def read_model_info(model_path: str | Path) -> dict[str, Any]:
    """The JSON written beside a random-weight model, or ``{}`` for any other model file."""
    meta = Path(model_path).with_suffix(".json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PodiumError(f"{meta}: not valid JSON ({exc})") from None
    return data if isinstance(data, dict) and data.get("random_weights") else {}


def random_model_name(filters: tuple[int, ...], roi: int, seed: int) -> str:
    """File name of a random-weight 3D-UNet; the shape and seed are part of it."""
    tag = "" if tuple(filters) == FILTERS else "_f" + "-".join(map(str, filters))
    return f"unet3d_random_roi{roi}{tag}_seed{seed}.onnx"


def build_random_model(out_dir: str | Path | None = None, filters: tuple[int, ...] = FILTERS, roi: int = 128,
                       seed: int = 0) -> Path:
    """Build (or reuse) a random-weight 3D-UNet in ``out_dir`` (default: the model cache); returns its path.

    A JSON file beside it records that the weights are random, the filters, patch size and seed.
    """
    out = Path(out_dir) if out_dir is not None else model_cache_dir()
    path = out / random_model_name(tuple(filters), roi, seed)
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        return path
    graph = build_graph(tuple(filters), roi, seed)  # raises a PodiumError when onnx is missing
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save_model(graph, str(tmp))  # ~76 MB: far below protobuf's 2 GiB
    os.replace(tmp, path)  # a reader never sees a half-written model in the cache
    meta = {"model": path.name, "random_weights": True, "filters": list(filters), "roi": roi, "seed": seed,
            "onnx_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "note": "random weights: timing only; the segmentation it outputs means nothing"}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path
