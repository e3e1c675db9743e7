"""``retinanet``: RetinaNet ResNeXt50-32x4d FPN 800×800 on the MLPerf OpenImages subset (v2.1, closed).

mlperf.conf model ``retinanet``; performance sample count 64; metric COCO mAP@[.5:.95] with pycocotools,
target 99 % of the FP32 reference 37.55 % (37.1745). Data: ``--data-dir`` in the reference layout
(``annotations/openimages-mlperf.json`` + ``validation/data/``), pre-processed exactly like the reference
(800×800 bilinear on the float image, 0..1) into the layout the model declares, cached in RAM on load.
Model: the official ONNX file from ``--model-path``; it handles one image per call, so ``max_batch_size``
is 1. ``synthetic_variant()`` (``podium run --synthetic``) runs performance only: a random-weight build of
the same graph unless ``--model-path`` is given, random-pixel images unless ``--data-dir`` is. Responses:
the reference's 7-float detection records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.accuracy import AccuracyResult
from podium.benchmarks.base import ALL_SCENARIOS
from podium.benchmarks.qsl import ArrayQSL
from podium.benchmarks.retinanet import accuracy, dataset, model
from podium.benchmarks.retinanet.postprocess import detection_responses
from podium.benchmarks.vision.benchmark import VisionBenchmark
from podium.benchmarks.vision.preprocess import InputFormat, retinanet_image
from podium.errors import PodiumError


class RetinaNetBenchmark(VisionBenchmark):
    """RetinaNet object detection on the MLPerf OpenImages subset (264 classes), COCO mAP."""

    name = "retinanet"
    conf_model = "retinanet"
    description = ("RetinaNet ResNeXt50-32x4d FPN 800x800, MLPerf OpenImages subset (264 classes), mAP "
                   "(MLPerf v2.1 closed)")
    scenarios = ALL_SCENARIOS
    performance_sample_count = 64
    accuracy_metric = "mAP"
    needs_model_path = True
    needs_data_dir = True
    model_title = "RetinaNet ResNeXt50-FPN"
    model_hint = ("the official resnext50_32x4d_fpn.onnx (https://zenodo.org/record/6617879/files/"
                  "resnext50_32x4d_fpn.onnx)")
    data_hint = dataset.DATA_HINT
    dataset_name = "MLPerf OpenImages validation subset (openimages-mlperf.json)"
    default_input = InputFormat(height=model.IMAGE_SIZE, width=model.IMAGE_SIZE, batch=1)
    qsl_class = ArrayQSL

    def __init__(self, *, synthetic: bool = False, seed: int = model.DEFAULT_SEED, use_inv_map: bool = False) -> None:
        super().__init__(synthetic=synthetic, seed=seed)
        self.use_inv_map = use_inv_map  # the script's --use-inv-map; the official ONNX model needs none

    def synthetic_variant(self) -> RetinaNetBenchmark:
        return type(self)(synthetic=True, seed=self.seed, use_inv_map=self.use_inv_map)

    # -- model ---------------------------------------------------------------------------------------
    def random_model_file(self) -> Path:
        return model.random_model_file(self.seed)

    def build_random_model(self) -> Path:
        return model.random_model_path(self.seed)

    def build_model(self, out_dir: str | Path, **options: Any) -> Path:
        """Write the random-weight RetinaNet into ``out_dir`` (podium never builds the trained one)."""
        seed = int(options.get("seed", self.seed))
        out = Path(out_dir) / model.random_model_file(seed).name
        out.write_bytes(model.build_retinanet(seed)[0].SerializeToString())
        return out

    # -- data ----------------------------------------------------------------------------------------
    def image_files(self, data_dir: str | Path) -> Sequence[Path]:
        return dataset.open_openimages(data_dir).files

    def preprocess_image(self, bgr: np.ndarray, fmt: InputFormat) -> np.ndarray:
        return retinanet_image(bgr, fmt.height, fmt.width)

    def normalise_pixels(self, pixels: np.ndarray) -> np.ndarray:
        # Synthetic images are drawn at the input size: only the scaling to 0..1 applies.
        return pixels.astype(np.float32) / np.float32(255.0)

    # -- outputs and accuracy ------------------------------------------------------------------------
    def postprocess(self, outputs: list[np.ndarray], indices: np.ndarray | None = None) -> list[bytes]:
        """Detection records per image; the records start with each sample's QSL index (``indices``)."""
        if indices is None:
            raise PodiumError("retinanet post-processing needs the batch's QSL indices (the detection records "
                              "start with the image index); a server cannot post-process a retinanet request: "
                              "use --sut-postprocess client")
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return detection_responses(outputs, idx, self.input_format.height, self.input_format.width)

    def accuracy_target(self) -> float:
        return accuracy.target()

    def score_accuracy(self, accuracy_log: str | Path, data_dir: str | Path | None = None) -> AccuracyResult:
        if data_dir is None:
            raise PodiumError("benchmark retinanet: scoring accuracy needs --data-dir (annotations/"
                              "openimages-mlperf.json holds the boxes; synthetic images have none)")
        annotations = Path(data_dir).expanduser() / dataset.ANNOTATIONS
        dataset.read_images(annotations)  # a clear one-line error before pycocotools sees a bad file
        return accuracy.score_map(accuracy_log, annotations, self.use_inv_map, self.accuracy_metric)

    def labels(self) -> dict[str, Any]:
        return {**super().labels(), "reference_map": accuracy.REFERENCE_MAP}
