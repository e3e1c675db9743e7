"""The resnet benchmark: reference pre-processing, val_map handling, post-processing offsets and dtypes, the
exact accuracy line, the random-weight ResNet50-v1.5 graph, synthetic data and an end-to-end run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podium.benchmarks.resnet import ResNetBenchmark, dataset, model
from podium.benchmarks.resnet.postprocess import label_responses, predicted_labels
from podium.benchmarks.vision.images import read_bgr
from podium.benchmarks.vision.preprocess import RESNET_MEANS, InputFormat, resnet_image
from podium.benchmarks.vision.resnet_body import RESNEXT50_32X4D, ResNetSpec
from podium.errors import PodiumError
from tests.benchmarks import vision_fixtures as vf

cv2 = vf.cv2
TINY = ResNetSpec(layers=(1, 1, 1, 1), base_planes=8)


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[int]]:
    return vf.write_imagenet_val(tmp_path_factory.mktemp("imagenet"))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "tiny_resnet.onnx"
    path.write_bytes(model.build_resnet50_v15(seed=1, spec=TINY)[0].SerializeToString())
    return path


def _reference_recipe(path: Path) -> np.ndarray:
    """The v2.1 recipe written out step by step: shorter side 256 with INTER_AREA, centre 224, means."""
    img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    size = (256, int(256 * h / w)) if h > w else (int(256 * w / h), 256)  # cv2 sizes are (width, height)
    img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    top, left = int((h - 224) / 2), int((w - 224) / 2)
    return img[top:top + 224, left:left + 224].astype(np.float32) - RESNET_MEANS


def test_preprocessing_follows_the_reference(imagenet: tuple[Path, list[str], list[int]]) -> None:
    root, names, _ = imagenet
    for name in names:
        got = resnet_image(read_bgr(root / name))
        assert got.shape == (224, 224, 3) and got.dtype == np.float32
        np.testing.assert_array_equal(got, _reference_recipe(root / name))
    # The interpolation matters: INTER_LINEAR (the mobilenet recipe) gives other pixels.
    bgr = read_bgr(root / names[2])
    linear = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (384, 256), interpolation=cv2.INTER_LINEAR)
    assert not np.array_equal(resnet_image(bgr), linear[16:240, 80:304].astype(np.float32) - RESNET_MEANS)


def test_qsl_caches_samples_in_the_model_layout(imagenet: tuple[Path, list[str], list[int]]) -> None:
    root, names, _ = imagenet
    bench = ResNetBenchmark()
    nchw = bench.create_qsl(root)
    assert nchw.total_sample_count == len(names) and nchw.performance_sample_count == len(names)
    nchw.load_samples([0, 3, 5])
    batch = nchw.get_batch(np.array([5, 0]))
    assert batch.shape == (2, 3, 224, 224) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[1], resnet_image(read_bgr(root / names[0])).transpose(2, 0, 1))

    nhwc = bench.create_qsl(root, InputFormat(layout="NHWC"))
    nhwc.load_samples([0])
    np.testing.assert_array_equal(nhwc.get_batch(np.array([0]))[0], batch[1].transpose(1, 2, 0))

    q8 = bench.create_qsl(root, InputFormat(dtype=np.dtype(np.int8), scale=0.5, zero_point=3))
    q8.load_samples([0])
    x8 = q8.get_batch(np.array([0]))[0]
    assert x8.dtype == np.int8
    np.testing.assert_array_equal(x8, np.clip(np.rint(batch[1] / 0.5) + 3, -128, 127).astype(np.int8))


def test_val_map_problems_are_one_line_errors(tmp_path: Path, imagenet: tuple[Path, list[str], list[int]]) -> None:
    root, names, _ = imagenet
    with pytest.raises(PodiumError, match=r"val_map.txt: not found; --data-dir must be an ImageNet"):
        dataset.read_val_map(tmp_path / "val_map.txt")
    (tmp_path / "val_map.txt").write_text("a.JPEG 1\n\nb.JPEG x\n")
    with pytest.raises(PodiumError, match=r"val_map.txt line 3: label 'x' is not an integer"):
        dataset.read_val_map(tmp_path / "val_map.txt")
    (tmp_path / "val_map.txt").write_text(f"{names[0]} 1\nmissing.JPEG 2\n")
    for name in names[:1]:
        (tmp_path / name).write_bytes((root / name).read_bytes())
    with pytest.raises(PodiumError, match=r"lists 2 images but 1 are missing, the first .*missing.JPEG") as err:
        ResNetBenchmark().create_qsl(tmp_path)
    assert "\n" not in str(err.value)


def test_postprocess_applies_the_background_offset_and_writes_float32() -> None:
    argmax = np.array([1, 1000, 501], dtype=np.int64)
    scores = np.zeros((3, 1001), np.float32)
    assert predicted_labels([argmax, scores]).tolist() == [0, 999, 500]   # official: 1001 classes
    assert predicted_labels([argmax]).tolist() == [0, 999, 500]           # arg-max only: official layout
    logits = np.zeros((2, 1000), np.float32)
    logits[0, 7] = logits[1, 999] = 1.0
    assert predicted_labels([logits]).tolist() == [7, 999]                # 1000 classes: no offset
    out = ResNetBenchmark().postprocess([argmax, scores])
    assert [np.frombuffer(b, "<f4")[0] for b in out] == [0.0, 999.0, 500.0]
    assert label_responses(np.array([5]), np.dtype("<i8")) == [(5).to_bytes(8, "little")]
    with pytest.raises(PodiumError, match="expected an integer arg-max vector"):
        predicted_labels([np.zeros((2, 3, 4), np.float32)])


def test_accuracy_line_is_exact(tmp_path: Path, imagenet: tuple[Path, list[str], list[int]]) -> None:
    root, _, labels = imagenet
    f32 = [np.float32(v).tobytes() for v in labels]
    wrong = np.float32(labels[1] + 1).tobytes()
    # 6 samples: index 1 and 4 wrong; a later duplicate of index 1 with the right label does not count.
    entries = [(0, f32[0]), (1, wrong), (2, f32[2]), (3, f32[3]), (1, f32[1]), (4, wrong), (5, f32[5])]
    log = vf.write_accuracy_log(tmp_path / "mlperf_log_accuracy.json", entries)
    result = ResNetBenchmark().score_accuracy(log, root)
    assert result.line == "accuracy=66.667%, good=4, total=6"
    assert result.accuracy_txt == result.line + "\n"
    assert result.target == pytest.approx(75.6954) and not result.passed
    as_int32 = ResNetBenchmark(response_dtype_name="int32").score_accuracy(
        vf.write_accuracy_log(tmp_path / "i32.json", [(i, np.int32(v).tobytes()) for i, v in enumerate(labels)]),
        root)
    assert as_int32.line == "accuracy=100.000%, good=6, total=6" and as_int32.passed


def test_verdict_uses_the_printed_value() -> None:
    from podium.benchmarks.vision.metrics import checker_passes

    target = 76.46 * 0.99  # 75.6954, as the checker computes it
    assert not checker_passes(75.69545, target)  # above the target, but printed 75.695: the checker fails it
    assert checker_passes(75.6956, target) and not checker_passes(75.6949, target)


def test_random_resnet50_matches_the_architecture() -> None:
    graph, g = model.build_resnet50_v15(num_classes=1000)
    assert g.param_count == 25_557_032          # torchvision resnet50 (v1.5), 1000 classes
    ops = g.op_count()
    assert ops["Conv"] == 53 and ops["BatchNormalization"] == 53 and ops["Add"] == 16 and ops["Gemm"] == 1
    convs = [{a.name: list(a.ints) for a in n.attribute} for n in graph.graph.node if n.op_type == "Conv"]
    kernels = sorted(c["kernel_shape"][0] for c in convs if c["strides"] == [2, 2])
    assert kernels == [1, 1, 1, 3, 3, 3, 7]     # v1.5: the stride sits on the 3x3 (and the projections)
    _, gx = model.build_resnet50_v15(num_classes=1000, spec=RESNEXT50_32X4D)
    assert gx.param_count == 25_028_904         # torchvision resnext50_32x4d


def test_random_model_has_the_official_interface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path))
    bench = ResNetBenchmark().synthetic_variant()
    path = bench.resolve_model_path()
    assert path.parent == tmp_path / "models" and json.loads(path.with_name(path.name + ".json").read_text())
    mtime = path.stat().st_mtime_ns
    assert bench.resolve_model_path() == path and path.stat().st_mtime_ns == mtime  # cached, not rebuilt
    assert bench.input_format.name == "input_tensor:0" and bench.max_batch_size is None
    from podium.backends import get_backend

    backend = get_backend("onnxruntime", intra_op_threads=1).load(path)
    assert [(o.name, o.dtype.name) for o in backend.outputs] == [("ArgMax:0", "int64"),
                                                                 ("softmax_tensor:0", "float32")]
    qsl = bench.create_qsl(None)  # synthetic images
    qsl.load_samples([0, 1])
    outs = backend.run(qsl.get_batch(np.array([0, 1])))
    assert outs[1].shape == (2, 1001) and np.allclose(outs[1].sum(axis=1), 1.0, atol=1e-4)
    assert len(bench.postprocess(outs)) == 2
    labels = bench.run_labels()
    assert bench.random_weights and labels[0].startswith("random weights")
    assert labels[1].startswith("synthetic data: 1024 images")
    assert "performance only" in bench.labels()["model"]
    # Given back with --model-path, podium's own random build is still labelled as random weights.
    real = ResNetBenchmark()
    assert real.resolve_model_path(path) == path
    assert real.random_weights and "random-weight" in real.labels()["model"]
    with pytest.raises(PodiumError, match="scoring accuracy needs --data-dir"):
        bench.score_accuracy(tmp_path / "log.json")


def _quantised_nhwc_model(path: Path, dequantise: bool) -> Path:
    """A stand-in for a submitter's export: int8 NHWC input, DequantizeLinear, a 1000-wide score output."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["xf"]) if dequantise
             else helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMean", ["xf"], ["m"], axes=[1, 2], keepdims=0),
             helper.make_node("Tile", ["m", "reps"], ["scores"])]
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.5]), helper.make_tensor("z", TensorProto.INT8, [], [3]),
             helper.make_tensor("reps", TensorProto.INT64, [2], [1, 334])]
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.INT8, ["n", 224, 224, 3])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["n", 1002])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_input_format_is_read_from_the_model(tmp_path: Path, imagenet: tuple[Path, list[str], list[int]],
                                             tiny_model: Path) -> None:
    bench = ResNetBenchmark()
    bench.resolve_model_path(_quantised_nhwc_model(tmp_path / "q.onnx", dequantise=True))
    fmt = bench.input_format
    assert (fmt.layout, fmt.dtype, fmt.scale, fmt.zero_point, fmt.name) == ("NHWC", np.int8, 0.5, 3, "x")
    assert not bench.random_weights
    qsl = bench.create_qsl(imagenet[0])
    qsl.load_samples([1])
    x = qsl.get_batch(np.array([1]))
    assert x.shape == (1, 224, 224, 3) and x.dtype == np.int8
    with pytest.raises(PodiumError, match="integer tensor but no DequantizeLinear with a constant scale reads it"):
        bench.resolve_model_path(_quantised_nhwc_model(tmp_path / "u.onnx", dequantise=False))
    bench.resolve_model_path(tiny_model)
    assert bench.input_format.describe() == "NCHW float32 224x224" and bench.random_weights


def test_missing_files_say_what_is_needed() -> None:
    bench = ResNetBenchmark()
    with pytest.raises(PodiumError, match=r"needs --model-path: the official resnet50_v1.onnx .*zenodo.*"
                                          r"--synthetic for a performance-only run"):
        bench.resolve_model_path(None)
    with pytest.raises(PodiumError, match=r"needs --data-dir: an ImageNet 2012 validation folder.*--synthetic"):
        bench.create_qsl(None)
    assert bench.default_model_path() is None and bench.synthetic_variant().default_model_path() is not None


def test_end_to_end_run_with_a_model_from_a_path(tmp_path: Path, imagenet: tuple[Path, list[str], list[int]],
                                                 tiny_model: Path) -> None:
    from podium.benchmarks import register
    from podium.suite import RunRequest

    root, names, _ = imagenet
    register(ResNetBenchmark())
    out = _run(RunRequest(benchmark="resnet", scenario="SingleStream", model_path=str(tiny_model),
                                   data_dir=str(root), output=str(tmp_path / "out"), duration_s=0.2))
    assert out.performance is not None and out.performance.performance.sample_count >= 1
    acc = (tmp_path / "out" / "latest" / "accuracy" / "accuracy.txt").read_text()
    assert acc.startswith("accuracy=") and acc.rstrip().endswith(f"total={len(names)}")
    logged = json.loads((tmp_path / "out" / "latest" / "accuracy" / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in logged) == list(range(len(names)))
    assert all(len(e["data"]) == 8 for e in logged)  # one float32 each


@pytest.mark.skipif(not os.environ.get("PODIUM_MLPERF_INFERENCE_DIR"),
                    reason="set PODIUM_MLPERF_INFERENCE_DIR to a mlcommons/inference v2.1 checkout")
def test_official_script_prints_the_same_line(tmp_path: Path, imagenet: tuple[Path, list[str], list[int]]) -> None:
    root, _, labels = imagenet
    script = (Path(os.environ["PODIUM_MLPERF_INFERENCE_DIR"]) / "vision" / "classification_and_detection" / "tools"
              / "accuracy-imagenet.py")
    entries = [(i, np.float32(v if i % 3 else v + 1).tobytes()) for i, v in enumerate(labels)] + [(1, b"\0" * 4)]
    log = vf.write_accuracy_log(tmp_path / "mlperf_log_accuracy.json", entries)
    official = subprocess.run([sys.executable, str(script), "--mlperf-accuracy-file", str(log),
                               "--imagenet-val-file", str(root / "val_map.txt")], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert official == ResNetBenchmark().score_accuracy(log, root).line


def _run(req: Any) -> Any:
    from podium.providers import provider_for
    from podium.suite import run_benchmark

    return run_benchmark(req, provider=provider_for(req))
