"""Reading the official MLPerf RNN-T PyTorch checkpoint (``rnnt.pt``) into ``RNNTWeights``.

The checkpoint is a dict whose ``state_dict`` holds, by PyTorch module path: ``encoder.pre_rnn.lstm.*_l{0,1}``,
``encoder.post_rnn.lstm.*_l{0,1,2}``, ``prediction.embed.weight``, ``prediction.dec_rnn.lstm.*_l{0,1}`` and
the joint network's two linear layers (``joint_net.0`` and ``joint_net.3`` in the file; the reference renames
``joint_net`` to ``joint.net``), plus the feature extractor's filterbank and window, which podium computes
itself. PyTorch is needed only to unpickle the file (``pip install torch==2.13.0``); the result is written
once as podium's three ONNX graphs (``model.write_model``) and reused from the model cache.

Loading uses ``torch.load(weights_only=True)``, which refuses pickled code. A checkpoint that needs more can
be loaded with the environment variable ``PODIUM_TRUST_CHECKPOINT=1`` (only for files you trust).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.rnnt.model import LSTMLayer, RNNTWeights, cache_dir, write_model
from podium.errors import PodiumError


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise PodiumError("reading the RNN-T PyTorch checkpoint needs torch: pip install torch==2.13.0 "
                          "(or pass podium's ONNX export, a .json descriptor)") from None
    return torch


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as float32 NumPy arrays, keys without a ``module.`` prefix."""
    torch = _import_torch()
    p = Path(path)
    trusted = os.environ.get("PODIUM_TRUST_CHECKPOINT") == "1"
    try:
        ckpt = torch.load(str(p), map_location="cpu", weights_only=not trusted)
    except Exception as exc:  # noqa: BLE001 - unpickling raises many types (UnpicklingError, EOFError, …)
        hint = "" if trusted else "; if you trust the file, set PODIUM_TRUST_CHECKPOINT=1"
        raise PodiumError(f"{p}: cannot load the checkpoint ({str(exc).strip().splitlines()[0]}){hint}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, Mapping) else None
    if not isinstance(state, Mapping):
        raise PodiumError(f"{p}: expected a dict with a state_dict of tensors")
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if hasattr(value, "detach"):
            out[re.sub(r"^module\.", "", str(key))] = value.detach().cpu().float().numpy()
    return out


def _lstm_layers(state: Mapping[str, np.ndarray], prefix: str, where: str) -> list[LSTMLayer]:
    layers: list[LSTMLayer] = []
    while f"{prefix}.weight_ih_l{len(layers)}" in state:
        n = len(layers)
        try:
            layers.append(LSTMLayer(*(state[f"{prefix}.{name}_l{n}"] for name in ("weight_ih", "weight_hh",
                                                                                    "bias_ih", "bias_hh"))))
        except KeyError as exc:
            raise PodiumError(f"{where}: state_dict lacks {exc.args[0]}") from None
    if not layers:
        raise PodiumError(f"{where}: state_dict lacks {prefix}.weight_ih_l0")
    return layers


def weights_from_state_dict(state: Mapping[str, np.ndarray], where: str = "checkpoint") -> RNNTWeights:
    """``RNNTWeights`` from the reference model's parameter names (either joint spelling)."""
    joint_prefix = "joint.net" if any(k.startswith("joint.net.") for k in state) else "joint_net"
    linears = sorted({int(m.group(1)) for k in state if (m := re.match(rf"{re.escape(joint_prefix)}\.(\d+)\.weight$", k))})
    if len(linears) != 2:
        raise PodiumError(f"{where}: expected two linear layers under {joint_prefix}, found {len(linears)}")
    try:
        embed = state["prediction.embed.weight"]
        j = [(state[f"{joint_prefix}.{i}.weight"], state[f"{joint_prefix}.{i}.bias"]) for i in linears]
    except KeyError as exc:
        raise PodiumError(f"{where}: state_dict lacks {exc.args[0]}") from None
    pre = _lstm_layers(state, "encoder.pre_rnn.lstm", where)
    post = _lstm_layers(state, "encoder.post_rnn.lstm", where)
    stack = post[0].w_ih.shape[1] // pre[-1].hidden
    weights = RNNTWeights(pre_rnn=pre, post_rnn=post, embed=embed,
                          pred_rnn=_lstm_layers(state, "prediction.dec_rnn.lstm", where),
                          joint1_w=j[0][0], joint1_b=j[0][1], joint2_w=j[1][0], joint2_b=j[1][1],
                          stack_factor=int(stack))
    weights.config()  # raises on inconsistent shapes
    return weights


def convert_checkpoint(path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Convert (once) the checkpoint to podium's ONNX graphs; returns the descriptor path (cached by sha256)."""
    p = Path(path)
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    out = Path(out_dir) if out_dir is not None else cache_dir()
    stem = f"rnnt-checkpoint-{sha[:12]}"
    descriptor = out / f"{stem}.json"
    if descriptor.is_file():
        return descriptor
    weights = weights_from_state_dict(load_state_dict(p), str(p))
    weights.source = {"kind": "checkpoint", "file": p.name, "sha256": sha}
    return write_model(weights, out, stem, random=False)
