"""Imports of the optional vision libraries, each failing with a one-line install hint.

OpenCV (decoding and resizing exactly like the reference), pycocotools (the reference mAP) and onnx (building
random-weight models, reading a model's input format) come with ``pip install 'podium[vision]'``.
"""

from __future__ import annotations

from typing import Any

from podium.errors import PodiumError


class MissingDependencyError(PodiumError):
    """An optional library a vision benchmark needs is not installed."""


def _import(module: str, pip_name: str, why: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise MissingDependencyError(f"{why} needs {pip_name}: pip install 'podium[vision]'") from None


def cv2() -> Any:
    """OpenCV (``cv2``): the reference decodes with ``cv2.imread`` and resizes with ``cv2.resize``."""
    return _import("cv2", "opencv-python-headless", "reading images like the MLPerf reference")


def onnx() -> Any:
    """The ``onnx`` package, for building random-weight models and reading a model's inputs."""
    return _import("onnx", "onnx", "building or inspecting an ONNX model")


def pycocotools() -> tuple[Any, Any]:
    """``(COCO, COCOeval)`` from pycocotools, the library the reference mAP script uses."""
    coco = _import("pycocotools.coco", "pycocotools", "scoring mAP like the MLPerf reference")
    cocoeval = _import("pycocotools.cocoeval", "pycocotools", "scoring mAP like the MLPerf reference")
    return coco.COCO, cocoeval.COCOeval
