"""The retinanet benchmark: reference pre-processing, anchors, the in-graph detection post-processing against
a NumPy rendering of torchvision's, detection records, the exact mAP line, the random-weight graph, synthetic
data and an end-to-end run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podium.benchmarks.qsl import ArrayQSL
from podium.benchmarks.retinanet import RetinaNetBenchmark, anchors, dataset, model
from podium.benchmarks.retinanet.postprocess import detection_responses
from podium.benchmarks.vision.images import read_bgr
from podium.benchmarks.vision.preprocess import retinanet_image
from podium.benchmarks.vision.resnet_body import RESNET50, ResNetSpec
from podium.errors import PodiumError
from tests.benchmarks import vision_fixtures as vf

pytest.importorskip("pycocotools")
cv2 = vf.cv2
TINY = ResNetSpec(layers=(1, 1, 1, 1), base_planes=8)

#: Boxes of the accuracy check (category id, COCO [x, y, w, h] in pixels of the photo).
BOXES = {
    "astronaut": [(3, [168.0, 48.0, 96.0, 128.0])],
    "chelsea": [(7, [40.0, 20.0, 300.0, 260.0])],
    "coffee": [(11, [100.0, 50.0, 400.0, 300.0]), (11, [20.0, 300.0, 80.0, 60.0])],
    "portrait": [(3, [50.0, 100.0, 150.0, 200.0])],
}


@pytest.fixture(scope="module")
def openimages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vf.write_openimages(tmp_path_factory.mktemp("openimages"), BOXES)


def _tiny_model(num_classes: int = 5, cls_logits_std: float = 0.5, size: int = 128) -> object:
    return model.build_retinanet(seed=3, num_classes=num_classes, image_size=size, spec=TINY, fpn_channels=16,
                                 head_convs=1, cls_logits_std=cls_logits_std)[0]


def test_preprocessing_follows_the_reference(openimages: Path) -> None:
    for path in sorted((openimages / "validation" / "data").iterdir()):
        bgr = cv2.imread(str(path))
        expected = cv2.resize(cv2.cvtColor(bgr.astype(np.float32), cv2.COLOR_BGR2RGB), (800, 800),
                              interpolation=cv2.INTER_LINEAR) / np.float32(255.0)
        got = retinanet_image(read_bgr(path))
        assert got.dtype == np.float32 and got.shape == (800, 800, 3)
        np.testing.assert_array_equal(got, expected)
        # Resizing the 8-bit image instead (as most pipelines do) rounds: the reference resizes floats.
        rounded = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (800, 800), interpolation=cv2.INTER_LINEAR)
        assert not np.array_equal(got, rounded.astype(np.float32) / np.float32(255.0))


def test_anchors_match_torchvision() -> None:
    assert anchors.ANCHOR_SIZES[0] == (32, 40, 50) and anchors.ANCHOR_SIZES[4] == (512, 645, 812)
    assert anchors.feature_sizes(800, 800) == [(100, 100), (50, 50), (25, 25), (13, 13), (7, 7)]
    base = anchors.cell_anchors((32, 40, 50))
    np.testing.assert_array_equal(base[[0, 3, 8]], [[-23, -11, 23, 11], [-16, -16, 16, 16], [-18, -35, 18, 35]])
    levels = anchors.grid_anchors(800, 800)
    assert sum(len(a) for a in levels) == 120087
    # P6 is 13x13 on 800 px: the stride is 800 // 13 = 61. Its first cell anchor (size 256, ratio 0.5) is
    # round([-362.04, -181.02, 362.04, 181.02] / 2) = [-181, -91, 181, 91]; cell (row 1, col 2) sits at (122, 61).
    np.testing.assert_array_equal(levels[3][(1 * 13 + 2) * 9], [122 - 181, 61 - 91, 122 + 181, 61 + 91])


def _torchvision_detections(cls: list[np.ndarray], reg: list[np.ndarray], size: int) -> tuple[np.ndarray, ...]:
    """torchvision RetinaNet.postprocess_detections for one image, in NumPy (the test's own rendering)."""
    boxes, scores, labels = [], [], []
    for logits, deltas, anc in zip(cls, reg, anchors.grid_anchors(size, size)):
        k = logits.shape[-1]
        s = (1.0 / (1.0 + np.exp(-logits.reshape(-1).astype(np.float64)))).astype(np.float32)
        keep = np.flatnonzero(s > 0.05)
        order = np.argsort(-s[keep], kind="stable")[:1000]
        idx = keep[order]
        a, rel = anc[idx // k], deltas.reshape(-1, 4)[idx // k]
        w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
        cx, cy = a[:, 0] + 0.5 * w, a[:, 1] + 0.5 * h
        dw, dh = np.minimum(rel[:, 2], np.log(1000.0 / 16)), np.minimum(rel[:, 3], np.log(1000.0 / 16))
        px, py, pw, ph = rel[:, 0] * w + cx, rel[:, 1] * h + cy, np.exp(dw) * w, np.exp(dh) * h
        b = np.stack([px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2], axis=1).clip(0, size)
        boxes.append(b), scores.append(s[idx]), labels.append(idx % k)
    b, s, lab = np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels)
    kept: list[int] = []
    for c in np.unique(lab):  # greedy NMS per class, IoU > 0.5 suppresses
        members = list(np.flatnonzero(lab == c)[np.argsort(-s[lab == c], kind="stable")])
        while members:
            best, members = members[0], members[1:]
            kept.append(best)
            x1, y1 = np.maximum(b[best, 0], b[members, 0]), np.maximum(b[best, 1], b[members, 1])
            x2, y2 = np.minimum(b[best, 2], b[members, 2]), np.minimum(b[best, 3], b[members, 3])
            inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
            area = lambda i: (b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1])  # noqa: E731
            iou = inter / (area(best) + area(members) - inter)
            members = [m for m, v in zip(members, iou) if not v > 0.5]
    top = sorted(kept, key=lambda i: -s[i])[:300]
    return b[top], s[top], lab[top]


def test_graph_post_processing_matches_torchvision_semantics() -> None:
    import onnx
    import onnxruntime as ort

    size = 128
    graph = _tiny_model(cls_logits_std=0.1, size=size)
    splits = [o for n in graph.graph.node if n.op_type == "Split" for o in n.output]
    for name in splits:
        graph.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    image = retinanet_image(vf.photos()["coffee"][:, :, ::-1].copy(), size, size).transpose(2, 0, 1)[None]
    outs = session.run(None, {"images": np.ascontiguousarray(image)})
    boxes, scores, labels = outs[:3]
    cls, reg = [o[0] for o in outs[3:8]], [o[0] for o in outs[8:13]]
    assert sum(int((c > np.log(0.05 / 0.95)).sum()) for c in cls) > 2000  # top-k and NMS both bite
    ref_boxes, ref_scores, ref_labels = _torchvision_detections(cls, reg, size)
    assert len(scores) == len(ref_scores) == 300
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(boxes, ref_boxes, rtol=1e-4, atol=1e-3)


def test_random_retinanet_matches_the_architecture() -> None:
    _, g = model.build_retinanet(num_classes=91, spec=RESNET50)
    assert g.param_count == 34_014_999  # torchvision retinanet_resnet50_fpn (91 classes, frozen BN)
    graph, g = model.build_retinanet()
    ops = g.op_count()
    assert ops["Conv"] == 53 + 8 + 50 and ops["TopK"] == 5 and ops["NonMaxSuppression"] == 1
    grouped = [n for n in graph.graph.node if n.op_type == "Conv"
               and any(a.name == "group" and a.i == 32 for a in n.attribute)]
    assert len(grouped) == 16  # ResNeXt 32x4d: every bottleneck's 3x3
    io = ([(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in graph.graph.input],
          [o.name for o in graph.graph.output])
    assert io == ([("images", [1, 3, 800, 800])], ["boxes", "scores", "labels"])


def test_detection_records_follow_the_reference_layout() -> None:
    boxes = np.array([[80, 40, 400, 200], [0, 0, 800, 800], [1, 1, 2, 2]], np.float32)  # x1, y1, x2, y2 px
    scores = np.array([0.9, 0.3, 0.01], np.float32)
    labels = np.array([12, 263, 5], np.int64)
    [raw] = detection_responses([boxes, scores, labels], np.array([17]), 800, 800)
    rows = np.frombuffer(raw, "<f4").reshape(-1, 7)
    np.testing.assert_allclose(rows, [[17, 0.05, 0.1, 0.25, 0.5, 0.9, 12], [17, 0, 0, 1, 1, 0.3, 263]], rtol=1e-6)
    assert detection_responses([np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)],
                               np.array([3]), 800, 800) == [b""]
    batched = detection_responses([boxes[None].repeat(2, 0), scores[None].repeat(2, 0), labels[None].repeat(2, 0)],
                                  np.array([4, 9]), 800, 800)
    assert [np.frombuffer(r, "<f4")[0] for r in batched] == [4.0, 9.0] and len(batched[1]) == 2 * 7 * 4
    with pytest.raises(PodiumError, match="returns the detections of one image but the batch holds 2"):
        detection_responses([boxes, scores, labels], np.array([1, 2]), 800, 800)


def test_serving_qsl_tells_postprocess_the_image_index(openimages: Path) -> None:
    bench = RetinaNetBenchmark()
    qsl = bench.create_qsl(openimages)
    assert isinstance(qsl, ArrayQSL) and qsl.total_sample_count == 4 and qsl.performance_sample_count == 4
    qsl.load_samples([2])
    assert qsl.get_batch(np.array([2])).shape == (1, 3, 800, 800)
    outputs = [np.array([[8.0, 8, 16, 16]], np.float32), np.array([0.5], np.float32), np.array([7])]
    out = bench.postprocess(outputs, np.array([2]))  # the batch's QSL indices, as the harness passes them
    assert np.frombuffer(out[0], "<f4")[0] == 2.0
    with pytest.raises(PodiumError, match="needs the batch's QSL indices"):
        bench.postprocess(outputs, None)  # a server post-processing a request: no indices to start records with


def test_map_line_is_exact(tmp_path: Path, openimages: Path) -> None:
    imgs = vf.annotations_of(openimages)["images"]
    hw = [(i["height"], i["width"]) for i in imgs]
    entries = [
        (0, vf.detection_bytes(0, [([168, 48, 96, 128], 0.9, 3)], *hw[0])),                  # TP
        (1, vf.detection_bytes(1, [([40, 20, 300, 260], 0.8, 7), ([0, 0, 50, 50], 0.95, 3)], *hw[1])),  # TP, FP
        (0, b""),                                                                              # duplicate: ignored
        (2, vf.detection_bytes(2, [([100, 50, 400, 300], 0.7, 11), ([300, 300, 100, 50], 0.6, 11)], *hw[2])),
        (3, b""),                                                                              # no detections
    ]
    log = vf.write_accuracy_log(tmp_path / "mlperf_log_accuracy.json", entries)
    result = RetinaNetBenchmark().score_accuracy(log, openimages)
    # AP per class: 3 → 0.5 × 51/101 (one of two found, behind a false positive), 7 → 1, 11 → 51/101.
    expected = 100 * (0.5 * 51 / 101 + 1 + 51 / 101) / 3
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.line == "mAP=58.581%" and result.passed and result.target == pytest.approx(37.1745)
    assert result.accuracy_txt.startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all")
    assert result.accuracy_txt.endswith("\nmAP=58.581%\n")
    assert result.details["images"] == 4 and result.details["images_without_detections"] == 1

    bad = vf.write_accuracy_log(tmp_path / "bad.json", [(1, vf.detection_bytes(2, [([0, 0, 9, 9], 0.9, 3)], 9, 9))])
    mismatch = RetinaNetBenchmark().score_accuracy(bad, openimages)
    assert mismatch.summary.startswith("ERROR: loadgen(1) and payload(2) disagree on image_idx")
    none = RetinaNetBenchmark().score_accuracy(vf.write_accuracy_log(tmp_path / "none.json", [(0, b"")]), openimages)
    assert none.line == "mAP=0.000%"


def test_data_folder_problems_are_one_line_errors(tmp_path: Path, openimages: Path) -> None:
    with pytest.raises(PodiumError, match=r"openimages-mlperf.json: not found; --data-dir must hold the MLPerf"):
        RetinaNetBenchmark().create_qsl(tmp_path)
    ann = tmp_path / dataset.ANNOTATIONS
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}]}))
    with pytest.raises(PodiumError, match=r"lists 1 images but 1 are missing, the first .*validation/data/a.jpg"):
        RetinaNetBenchmark().create_qsl(tmp_path)
    ann.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "height": 10}]}))
    with pytest.raises(PodiumError, match=r"images\[0\] lacks one of id, file_name, height, width"):
        RetinaNetBenchmark().create_qsl(tmp_path)
    with pytest.raises(PodiumError, match="needs --model-path: the official resnext50_32x4d_fpn.onnx"):
        RetinaNetBenchmark().resolve_model_path()


def test_random_weights_variant_and_synthetic_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path))
    tiny = _tiny_model(size=800)  # the real build takes seconds; the cache and QSL logic are the same
    monkeypatch.setattr(model, "build_retinanet", lambda seed: (tiny, None))
    bench = RetinaNetBenchmark().synthetic_variant()
    path = bench.resolve_model_path()
    assert path.name == "retinanet_resnext50_32x4d_fpn_random_seed0.onnx" and bench.max_batch_size == 1
    qsl = bench.create_qsl()
    qsl.load_samples([0, 63])
    x = qsl.get_batch(np.array([63]))
    assert x.shape == (1, 3, 800, 800) and 0.0 <= x.min() and x.max() <= 1.0
    assert bench.run_labels()[-1:] == ["synthetic data: 64 images of random pixels at 800x800 - performance only, "
                                     "no accuracy"]


def test_end_to_end_run_with_a_model_from_a_path(tmp_path: Path, openimages: Path) -> None:
    from podium.benchmarks import register
    from podium.suite import RunRequest

    path = tmp_path / "tiny_retinanet.onnx"
    path.write_bytes(_tiny_model(num_classes=12, cls_logits_std=0.3, size=800).SerializeToString())
    register(RetinaNetBenchmark())
    _run(RunRequest(benchmark="retinanet", round="v6.0", scenario="Offline", model_path=str(path), batch_size=1,
                             data_dir=str(openimages), output=str(tmp_path / "out"), duration_s=0.2))
    acc = (tmp_path / "out" / "latest" / "accuracy" / "accuracy.txt").read_text()
    assert acc.splitlines()[-1].startswith("mAP=")
    logged = json.loads((tmp_path / "out" / "latest" / "accuracy" / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in logged) == [0, 1, 2, 3]
    for e in logged:
        rows = np.frombuffer(bytes.fromhex(e["data"]), "<f4").reshape(-1, 7)
        assert len(rows) and (rows[:, 0] == e["qsl_idx"]).all() and (rows[:, 5] >= 0.05).all()


@pytest.mark.skipif(not os.environ.get("PODIUM_MLPERF_INFERENCE_DIR"),
                    reason="set PODIUM_MLPERF_INFERENCE_DIR to a mlcommons/inference v2.1 checkout")
def test_official_script_prints_the_same_line(tmp_path: Path, openimages: Path) -> None:
    script = (Path(os.environ["PODIUM_MLPERF_INFERENCE_DIR"]) / "vision" / "classification_and_detection" / "tools"
              / "accuracy-openimages.py")
    imgs = vf.annotations_of(openimages)["images"]
    entries = [(i, vf.detection_bytes(i, [([30 + 7 * i, 40, 200, 150], 0.5 + 0.1 * i, c)], img["height"],
                                      img["width"])) for i, (img, c) in enumerate(zip(imgs, (3, 7, 11, 3)))]
    log = vf.write_accuracy_log(tmp_path / "mlperf_log_accuracy.json", entries)
    official = subprocess.run([sys.executable, str(script), "--mlperf-accuracy-file", str(log), "--openimages-dir",
                               str(openimages), "--output-file", str(tmp_path / "results.json")],
                              capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert official.strip().splitlines()[-1] == RetinaNetBenchmark().score_accuracy(log, openimages).line


def _run(req: Any) -> Any:
    from podium.providers import provider_for
    from podium.suite import run_benchmark

    return run_benchmark(req, provider=provider_for(req))
