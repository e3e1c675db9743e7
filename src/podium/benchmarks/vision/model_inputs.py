"""Reading an ONNX model's image input (name, layout, element type, size, quantisation) from the file.

Nothing about the official files is hard-coded: the ResNet50 file names its input ``input_tensor:0`` and the
RetinaNet one ``images``, a submitter's quantised or NHWC export can differ, and podium lays out the cached
samples to match whatever the file declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.benchmarks.vision import deps
from podium.benchmarks.vision.preprocess import InputFormat
from podium.errors import PodiumError

# ONNX TensorProto element types podium can feed (see onnx.TensorProto.DataType).
_ELEM_TYPES = {1: np.float32, 10: np.float16, 3: np.int8, 2: np.uint8}


@dataclass(frozen=True)
class ModelFileInfo:
    """What podium reads from a model file: its image input, and whether podium built it with random weights."""

    input: InputFormat
    podium_random_weights: bool


def inspect_model(model_path: str | Path, default_height: int, default_width: int) -> ModelFileInfo:
    """The model's single image input (dynamic spatial dims take the defaults) and its provenance.

    A file podium built for performance-only runs says so in its producer and doc string, so passing it back
    with ``--model-path`` still labels the run as random weights.
    """
    onnx = deps.onnx()
    path = Path(model_path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, a truncated file an OSError or ValueError
        raise PodiumError(f"{path}: not a readable ONNX model ({type(exc).__name__})") from None
    graph = model.graph
    init_names = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init_names]  # old opsets list weights as inputs too
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise PodiumError(f"{path}: expected one image input, found {len(inputs)} ({names})")
    inp = inputs[0]
    ttype = inp.type.tensor_type
    if ttype.elem_type not in _ELEM_TYPES:
        raise PodiumError(f"{path}: input {inp.name!r} has ONNX element type {ttype.elem_type}; podium feeds "
                          "float32, float16, int8 or uint8 images")
    dims: list[int | None] = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim]
    if len(dims) != 4:
        raise PodiumError(f"{path}: input {inp.name!r} has rank {len(dims)}, expected a 4-D image batch")
    if dims[1] == 3:
        layout, height, width = "NCHW", dims[2], dims[3]
    elif dims[3] == 3:
        layout, height, width = "NHWC", dims[1], dims[2]
    else:
        raise PodiumError(f"{path}: input {inp.name!r} has shape {dims}; expected 3 channels in dimension 1 "
                          "(NCHW) or 3 (NHWC)")
    dtype = np.dtype(_ELEM_TYPES[ttype.elem_type])
    scale, zero_point = (None, 0)
    if dtype.kind in "iu":
        scale, zero_point = _dequantize_params(onnx, graph, inp.name, path)
    fmt = InputFormat(layout=layout, dtype=dtype, height=height or default_height, width=width or default_width,
                      name=inp.name, scale=scale, zero_point=zero_point, batch=dims[0] or None)
    random_build = model.producer_name == "podium" and "RANDOM weights" in model.doc_string
    return ModelFileInfo(input=fmt, podium_random_weights=random_build)


def _dequantize_params(onnx: object, graph: object, name: str, path: Path) -> tuple[float, int]:
    """Scale and zero point of the ``DequantizeLinear`` that consumes the integer input."""
    numpy_helper = onnx.numpy_helper  # type: ignore[attr-defined]
    consts = {t.name: t for t in graph.initializer}  # type: ignore[attr-defined]
    for node in graph.node:  # type: ignore[attr-defined]
        if node.op_type == "Constant" and node.output:
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = attr.t
    for node in graph.node:  # type: ignore[attr-defined]
        if node.op_type == "DequantizeLinear" and node.input and node.input[0] == name:
            scale_t = consts.get(node.input[1]) if len(node.input) > 1 else None
            if scale_t is None:
                break
            scale = numpy_helper.to_array(scale_t).reshape(-1)
            zp_t = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            zp = numpy_helper.to_array(zp_t).reshape(-1) if zp_t is not None else np.zeros(1, np.int64)
            if scale.size != 1 or zp.size != 1:
                raise PodiumError(f"{path}: input {name!r} is dequantised per channel; podium supports one "
                                  "scale and zero point for the image input")
            return float(scale[0]), int(zp[0])
    raise PodiumError(f"{path}: input {name!r} is an integer tensor but no DequantizeLinear with a constant "
                      "scale reads it; podium cannot tell how to quantise the image")
