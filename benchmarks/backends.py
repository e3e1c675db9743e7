#!/usr/bin/env python3
"""Backends side by side: ResNet50-v1.5 and BERT (RANDOM WEIGHTS: timing only) on ONNX Runtime, OpenVINO and
PyTorch (TorchScript eager, and ``torch.compile``), each with podium's harness against that backend's own raw
loop, in one run on this machine.

The models are defined here in PyTorch (ResNet50-v1.5: the torchvision layout, bottleneck stride on the 3x3;
BERT: the BERT-large shape, 1024 wide, 16 heads, sequence 384 — ``--bert-layers`` of its 24 layers), given
seeded random weights, and exported once to ONNX (for ONNX Runtime and OpenVINO), TorchScript and
``torch.export`` (for PyTorch), so every backend runs the same network on the same inputs. Per backend:

  Offline   samples/s of the raw loop (``backend.run`` on pre-gathered batches from ``--workers`` plain
            threads) and of podium's BackendSUT (all samples issued at once, ``--workers`` harness threads),
            and their ratio (efficiency; the target is >= 0.98 at the batch size used)
  SS p90    the 90th-percentile latency of one sample: the raw loop's, and podium's LoadGen SingleStream run
            through the harness (``--ss-queries`` queries)

    python benchmarks/backends.py --quick        # ~3-5 min on 2 cores: BERT 2 layers, sequence 128
    python benchmarks/backends.py                # BERT 24 layers, sequence 384: much longer on a small CPU
    python benchmarks/backends.py --backends onnxruntime,openvino --models resnet50

Needs torch (``pip install torch==2.13.0``), onnx and openvino; a missing backend is skipped with the reason.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from _completions import Completions  # noqa: E402  (benchmarks/, the script's folder)

from podium.backends import Backend, get_backend
from podium.benchmarks import ArrayQSL
from podium.harness import BackendSUT
from podium.loadgen import LogSettings, Scenario, TestMode, TestSettings, start_test
from podium.loadgen.types import SimpleQSL


def _torch() -> Any:
    import torch

    return torch


# ---- the models --------------------------------------------------------------------------------------------
def resnet50() -> Any:
    """ResNet50-v1.5 (1000 classes), seeded random weights."""
    torch = _torch()
    nn = torch.nn

    class Bottleneck(nn.Module):  # type: ignore[name-defined,misc]
        def __init__(self, cin: int, width: int, stride: int) -> None:
            super().__init__()
            cout = width * 4
            self.c1, self.b1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
            self.c2, self.b2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
            self.c3, self.b3 = nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)
            self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x: Any) -> Any:
            y = torch.relu(self.b1(self.c1(x)))
            y = torch.relu(self.b2(self.c2(y)))
            return torch.relu(self.b3(self.c3(y)) + self.down(x))

    layers: list[Any] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    torch.manual_seed(0)
    return nn.Sequential(*layers).eval()


def bert(layers: int, seq: int) -> Any:
    """A BERT-large-shaped encoder for SQuAD (start/end logits), seeded random weights."""
    torch = _torch()
    nn = torch.nn

    class Bert(nn.Module):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos, self.typ = nn.Embedding(30522, 1024), nn.Embedding(512, 1024), nn.Embedding(2, 1024)
            self.norm = nn.LayerNorm(1024)
            layer = nn.TransformerEncoderLayer(1024, 16, 4096, activation="gelu", batch_first=True, dropout=0.0)
            self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.qa = nn.Linear(1024, 2)

        def forward(self, input_ids: Any, input_mask: Any, segment_ids: Any) -> Any:
            pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
            h = self.norm(self.tok(input_ids) + self.pos(pos) + self.typ(segment_ids))
            h = self.enc(h, src_key_padding_mask=input_mask == 0)
            logits = self.qa(h)
            return logits[..., 0], logits[..., 1]

    torch.manual_seed(0)
    return Bert().eval()


def export(name: str, model: Any, example: tuple[Any, ...], names: list[str], out: Path) -> dict[str, Path]:
    """ONNX, TorchScript and torch.export files of ``model``, dynamic in the batch dimension."""
    torch = _torch()
    files = {"onnx": out / f"{name}.onnx", "torchscript": out / f"{name}.pt", "export": out / f"{name}.pt2"}
    torch.onnx.export(model, example, str(files["onnx"]), input_names=names, dynamo=False,
                      dynamic_axes={n: {0: "batch"} for n in names})
    with torch.inference_mode():
        torch.jit.trace(model, example, check_trace=False).save(str(files["torchscript"]))
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.export.save(torch.export.export(model, example, dynamic_shapes={n: {0: batch} for n in names}),
                      str(files["export"]))
    return files


# ---- measuring ---------------------------------------------------------------------------------------------
def _post(outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
    first = outputs[0].reshape(len(outputs[0]), -1)
    raw = first.argmax(axis=1).astype("<i4").tobytes()
    return [raw[i:i + 4] for i in range(0, len(raw), 4)]


def offline(backend: Backend, qsl: ArrayQSL, n: int, batch: int, workers: int, repeats: int) -> tuple[float, float]:
    """(raw loop samples/s, podium harness samples/s), best of ``repeats`` each, interleaved."""
    idx = np.arange(n, dtype=np.int64) % qsl.total_sample_count
    gathered = [qsl.get_batch(idx[s:s + batch]) for s in range(0, n, batch)]
    sut = BackendSUT(backend, qsl, _post, scenario_hint="Offline", max_batch_size=batch, workers=workers)

    def raw() -> float:
        # the backend's own loop with the harness's parallelism: ``workers`` threads, each running its share
        def share(k: int) -> None:
            for x in gathered[k::workers]:
                _post(backend.run(x))

        t = time.perf_counter()
        threads = [threading.Thread(target=share, args=(k,)) for k in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - t

    def harness() -> float:
        c = Completions(n)
        sut.bind(c.complete, c.complete_ids)
        t = time.perf_counter()
        sut.issue_arrays(np.arange(1, n + 1, dtype=np.int64), idx)
        if not c.done.wait(1800):
            raise RuntimeError("completions missing")
        return time.perf_counter() - t

    raw(), harness()  # warm-up (and, with torch.compile, the compilation of these shapes)
    best_raw, best_h = math.inf, math.inf
    for _ in range(repeats):
        best_raw = min(best_raw, raw())
        best_h = min(best_h, harness())
    sut.close()
    if sut.errors:
        raise RuntimeError(f"the harness failed {sut.errors} batches: {sut.last_error}")
    return n / best_raw, n / best_h


def single_stream(backend: Backend, qsl: ArrayQSL, queries: int, out: Path) -> tuple[float, float]:
    """(raw p90 ms, podium LoadGen SingleStream p90 ms) of one sample."""
    one = qsl.get_batch(np.zeros(1, dtype=np.int64))
    lat = []
    for _ in range(queries):
        t = time.perf_counter()
        _post(backend.run(one))
        lat.append(time.perf_counter() - t)
    raw_p90 = float(np.percentile(lat, 90)) * 1e3
    sut = BackendSUT(backend, qsl, _post, scenario_hint="SingleStream", max_batch_size=1, workers=1)
    settings = TestSettings(scenario=Scenario.SingleStream, mode=TestMode.PerformanceOnly, min_duration_ms=0,
                            min_query_count=queries, max_query_count=queries,
                            single_stream_expected_latency_ns=int(np.median(lat) * 1e9))
    # the samples stay loaded for the next backend: this QSL's load and unload do nothing
    res = start_test(sut, SimpleQSL(qsl.total_sample_count, qsl.total_sample_count), settings,
                     LogSettings(outdir=str(out)), audit_config=None)
    sut.close()
    if sut.errors:
        raise RuntimeError(f"the harness failed {sut.errors} batches: {sut.last_error}")
    perf = res.performance
    return raw_p90, (perf.sample_percentiles.get(0.9, 0) / 1e6 if perf is not None else float("nan"))


def _backends(names: list[str], files: dict[str, Path], threads: int) -> list[tuple[str, Callable[[], Backend]]]:
    out: list[tuple[str, Callable[[], Backend]]] = []
    for name in names:
        if name == "onnxruntime":
            out.append(("onnxruntime", lambda: get_backend("onnxruntime", intra_op_threads=threads).load(files["onnx"])))
        elif name == "openvino":
            out.append(("openvino", lambda: get_backend("openvino", hint="throughput").load(files["onnx"])))
        elif name == "torch":
            out.append(("torch eager (TorchScript)", lambda: get_backend("torch", threads=threads).load(files["torchscript"])))
        elif name == "torch-compile":
            out.append(("torch.compile (inductor)",
                        lambda: get_backend("torch", threads=threads, compile="default").load(files["export"])))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="BERT 2 layers at sequence 128, fewer samples")
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--backends", default="onnxruntime,openvino,torch,torch-compile")
    ap.add_argument("--bert-layers", type=int, default=None, help="of BERT-large's 24 (default 24; --quick 2)")
    ap.add_argument("--seq", type=int, default=None, help="BERT sequence length (default 384; --quick 128)")
    ap.add_argument("--batch", type=int, default=8, help="Offline batch size (default 8)")
    ap.add_argument("--samples", type=int, default=None, help="Offline samples per pass (default 64; --quick 32)")
    ap.add_argument("--workers", type=int, default=2, help="harness worker threads (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads per backend call (default 1)")
    ap.add_argument("--ss-queries", type=int, default=None, help="SingleStream queries (default 64; --quick 24)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    layers = args.bert_layers or (2 if args.quick else 24)
    seq = args.seq or (128 if args.quick else 384)
    n = args.samples or (32 if args.quick else 64)
    ssq = args.ss_queries or (24 if args.quick else 64)
    start = time.perf_counter()
    torch = _torch()
    print(f"RANDOM WEIGHTS: timing only, accuracy is meaningless. torch {torch.__version__}; batch {args.batch}, "
          f"{args.workers} harness workers, {args.threads} intra-op thread(s) per call; best of {args.repeats}")
    rows: list[tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for model_name in args.models.split(","):
            rng = np.random.default_rng(0)
            if model_name == "resnet50":
                files = export("resnet50", resnet50(), (torch.zeros(2, 3, 224, 224),), ["input"], out)

                def load(idx: np.ndarray) -> Any:
                    return rng.standard_normal((idx.size, 3, 224, 224), dtype=np.float32)
                label = "ResNet50-v1.5"
            elif model_name == "bert":
                ex = (torch.ones(2, seq, dtype=torch.int64), torch.ones(2, seq, dtype=torch.int64),
                      torch.zeros(2, seq, dtype=torch.int64))
                files = export("bert", bert(layers, seq), ex, ["input_ids", "input_mask", "segment_ids"], out)

                def load(idx: np.ndarray) -> Any:
                    ids = rng.integers(1000, 30000, (idx.size, seq), dtype=np.int64)
                    return {"input_ids": ids, "input_mask": np.ones_like(ids), "segment_ids": np.zeros_like(ids)}
                label = f"BERT ({layers} of 24 layers, seq {seq})"
            else:
                raise SystemExit(f"--models {model_name}: expected resnet50 or bert")
            qsl = ArrayQSL(model_name, 16, 16, load)
            qsl.load_samples(list(range(16)))
            for bname, make in _backends(args.backends.split(","), files, args.threads):
                try:
                    t0 = time.perf_counter()
                    be = make()
                    raw_sps, pod_sps = offline(be, qsl, n, args.batch, args.workers, args.repeats)
                    raw_p90, pod_p90 = single_stream(be, qsl, ssq, out / f"ss-{model_name}-{bname[:5]}")
                    rows.append((label, bname, raw_sps, pod_sps, raw_p90, pod_p90, time.perf_counter() - t0))
                    print(f"  {label} · {bname}: {pod_sps:,.1f} samples/s ({pod_sps / raw_sps:.3f} of raw), "
                          f"SS p90 {pod_p90:.2f} ms", flush=True)
                except Exception as exc:  # a backend missing here is a row saying so, not a crash
                    rows.append((label, bname, None, None, None, None, 0.0))
                    print(f"  {label} · {bname}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
    print()
    print(f"{'model':<30} {'backend':<26} {'raw loop':>10} {'podium':>10} {'podium/raw':>10} "
          f"{'SS p90 raw':>10} {'SS p90':>8}")
    for label, bname, raw_sps, pod_sps, raw_p90, pod_p90, _ in rows:
        if raw_sps is None:
            print(f"{label:<30} {bname:<26} {'skipped':>10}")
            continue
        print(f"{label:<30} {bname:<26} {raw_sps:>10,.1f} {pod_sps:>10,.1f} {pod_sps / raw_sps:>10.3f} "
              f"{raw_p90:>9.2f}m {pod_p90:>7.2f}m")
    print("(Offline samples/s; SS p90 in ms; podium/raw: the harness's efficiency against the backend's own loop)")
    print(f"(total {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
