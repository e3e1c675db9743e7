"""Train the digits CNN with PyTorch and export it to ONNX, reproducibly.

Everything that could vary between two builds is pinned: seeds, deterministic kernels, one CPU thread, a
fixed shuffling generator and the TorchScript ONNX exporter (``dynamo=False``: it needs no onnxscript and
writes no timestamps). Two builds with the same torch version on the same kind of CPU give identical ONNX
bytes; a different torch build or CPU instruction set can change the low bits of the weights.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.digits import data
from podium.errors import PodiumError

MODEL_FILE = "digits_cnn.onnx"
META_FILE = "digits_cnn.json"
OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "logits"

TRAIN_SEED = 0
EPOCHS = 40
BATCH_SIZE = 32
LEARNING_RATE = 2e-3


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise PodiumError("PyTorch is needed to rebuild the digits model: pip install 'podium[torch]'") from None
    return torch


def _make_model(torch: Any) -> Any:
    nn = torch.nn
    # Two 3×3 convolutions keep the 8×8 resolution, one pool halves it: ~38k parameters, ~150 KB of FP32.
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def _train(torch: Any, epochs: int, seed: int) -> Any:
    images, labels = data.load_digits_arrays()
    train_idx, _ = data.split_indices()
    x = torch.from_numpy(data.preprocess(images[train_idx]))
    y = torch.from_numpy(labels[train_idx])
    torch.manual_seed(seed)
    model = _make_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            opt.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            opt.step()
    return model.eval()


def reference_accuracy(model_path: str | Path) -> tuple[int, int]:
    """``(good, total)`` of the ONNX model on the test split, run with ONNX Runtime (FP32, one thread)."""
    from podium.backends import get_backend

    backend = get_backend("onnxruntime", intra_op_threads=1).load(model_path)
    logits = backend.run(data.preprocess(data.test_images()))[0]
    truth = data.test_labels()
    return int((logits.argmax(axis=1) == truth).sum()), int(truth.size)


def build_model(out_dir: str | Path, *, epochs: int = EPOCHS, seed: int = TRAIN_SEED) -> Path:
    """Train, export ``digits_cnn.onnx`` and write ``digits_cnn.json`` beside it; returns the ONNX path."""
    torch = _import_torch()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE

    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)  # one thread: the order of floating-point sums is then fixed
    torch.use_deterministic_algorithms(True)
    try:
        model = _train(torch, epochs, seed)
        dummy = torch.zeros(1, 1, 8, 8)
        with warnings.catch_warnings():
            # The TorchScript exporter is chosen on purpose (reproducible, no onnxscript); its
            # deprecation notice is not something the user can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                model, (dummy,), str(model_path), dynamo=False, opset_version=OPSET,
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            )
    finally:
        torch.set_num_threads(prev_threads)
        torch.use_deterministic_algorithms(prev_det)

    good, total = reference_accuracy(model_path)
    _, test_idx = data.split_indices()
    meta = {
        "model": MODEL_FILE,
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "opset": OPSET,
        "onnx_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "reference_accuracy": good / total,
        "reference_good": good,
        "reference_total": total,
        "reference_runtime": "onnxruntime FP32, CPUExecutionProvider",
        "split": {
            "dataset": "sklearn.datasets.load_digits",
            "method": "stratified: RandomState(seed).permutation, first round(fraction*class size) per class",
            "seed": data.SPLIT_SEED,
            "test_fraction": data.TEST_FRACTION,
            "test_size": int(test_idx.size),
            "test_indices_sha256": data.split_fingerprint(test_idx),
        },
        "training": {"seed": seed, "epochs": epochs, "batch_size": BATCH_SIZE, "optimizer": "Adam",
                     "learning_rate": LEARNING_RATE, "threads": 1, "deterministic": True},
        "torch_version": str(torch.__version__),
        "numpy_version": np.__version__,
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return model_path
