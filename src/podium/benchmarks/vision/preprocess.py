"""The reference pre-processing of the v2.1 vision benchmarks, and the input formats a model may ask for.

ResNet50 (reference ``pre_process_vgg``): BGR→RGB; resize so that the shorter side is 256 (= 224 / 0.875,
the "scale 87.5" of ``resize_with_aspectratio``), keeping the aspect ratio, with ``cv2.INTER_AREA``; center
crop 224×224 with the reference's truncating offsets; float32; subtract the per-channel means
(123.68, 116.78, 103.94). RetinaNet (reference ``pre_process_openimages_retinanet`` via ``maybe_resize``):
float32 first, BGR→RGB, resize to 800×800 without keeping the aspect ratio (``cv2.INTER_LINEAR`` on the
float image), divide by 255; the model normalises with the ImageNet mean/std inside its graph.

Both produce one (H, W, 3) float32 image; ``to_input_format`` then lays it out as the model asks (NCHW or
NHWC; float32, float16, or int8/uint8 quantised with the scale and zero point of the model's own
``DequantizeLinear``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podium.benchmarks.vision import deps
from podium.errors import PodiumError

#: Per-channel RGB means the reference subtracts for ResNet50 (the TF "vgg" pre-processing).
RESNET_MEANS = np.array([123.68, 116.78, 103.94], dtype=np.float32)
#: The reference's ``scale=87.5``: the image is first resized so the crop keeps 87.5 % of the shorter side.
RESNET_CROP_PERCENT = 87.5


@dataclass(frozen=True)
class InputFormat:
    """How a model wants its image input: tensor name, layout, element type, spatial size, quantisation.

    ``scale``/``zero_point`` are set only for int8/uint8 inputs: the float value ``x`` the FP32 model would
    take becomes ``clip(round(x / scale) + zero_point)``, the inverse of the model's ``DequantizeLinear``.
    """

    layout: str = "NCHW"
    dtype: np.dtype = np.dtype(np.float32)
    height: int = 224
    width: int = 224
    name: str | None = None
    scale: float | None = None
    zero_point: int = 0
    batch: int | None = None  # a fixed batch size the model was exported with (None: dynamic)

    def __post_init__(self) -> None:
        if self.layout not in ("NCHW", "NHWC"):
            raise PodiumError(f"input layout {self.layout!r}: expected NCHW or NHWC")
        kind = np.dtype(self.dtype)
        if kind not in _SUPPORTED_DTYPES:
            raise PodiumError(f"input {self.name or ''} element type {kind}: podium feeds float32, float16, "
                              "int8 or uint8 images")
        if kind.kind in "iu" and self.scale is None:
            raise PodiumError(f"input {self.name or ''} is {kind} but its quantisation scale is unknown "
                              "(expected a DequantizeLinear right after the input)")

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """Shape of one sample (no batch dimension)."""
        if self.layout == "NCHW":
            return (3, self.height, self.width)
        return (self.height, self.width, 3)

    def describe(self) -> str:
        """A short label for result files, e.g. ``NCHW float32 224x224``."""
        q = f" (scale {self.scale:g}, zero point {self.zero_point})" if self.scale is not None else ""
        return f"{self.layout} {np.dtype(self.dtype).name} {self.height}x{self.width}{q}"


_SUPPORTED_DTYPES = {np.dtype(t) for t in (np.float32, np.float16, np.int8, np.uint8)}


def resnet_image(bgr: np.ndarray, height: int = 224, width: int = 224) -> np.ndarray:
    """Reference ResNet50 pre-processing of one ``cv2.imread`` image → (height, width, 3) float32 RGB."""
    cv2 = deps.cv2()
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    img = _resize_keep_aspect(cv2, img, height, width, RESNET_CROP_PERCENT, cv2.INTER_AREA)
    img = _center_crop(img, height, width)
    out = np.asarray(img, dtype=np.float32)
    out -= RESNET_MEANS
    return out


def retinanet_image(bgr: np.ndarray, height: int = 800, width: int = 800) -> np.ndarray:
    """Reference RetinaNet pre-processing of one ``cv2.imread`` image → (height, width, 3) float32 in 0..1."""
    cv2 = deps.cv2()
    img = np.array(bgr, dtype=np.float32)  # the reference converts before resizing: float resize, no rounding
    if img.ndim < 3 or img.shape[2] != 3:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    img /= 255.0
    return img


def _resize_keep_aspect(cv2: object, img: np.ndarray, out_height: int, out_width: int, scale: float,
                        interpolation: int) -> np.ndarray:
    # Integer truncations in the same order as the reference, so odd sizes land on the same pixel counts.
    height, width = img.shape[:2]
    new_height = int(100.0 * out_height / scale)
    new_width = int(100.0 * out_width / scale)
    if height > width:
        w = new_width
        h = int(new_height * height / width)
    else:
        h = new_height
        w = int(new_width * width / height)
    return cv2.resize(img, (w, h), interpolation=interpolation)  # type: ignore[attr-defined]


def _center_crop(img: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    height, width = img.shape[:2]
    left = int((width - out_width) / 2)
    right = int((width + out_width) / 2)
    top = int((height - out_height) / 2)
    bottom = int((height + out_height) / 2)
    return img[top:bottom, left:right]


def to_input_format(image: np.ndarray, fmt: InputFormat) -> np.ndarray:
    """One (H, W, 3) float32 image → one sample in ``fmt``'s layout and element type."""
    if image.shape != (fmt.height, fmt.width, 3):
        raise PodiumError(f"pre-processed image has shape {image.shape}, expected {(fmt.height, fmt.width, 3)}")
    x = image.transpose(2, 0, 1) if fmt.layout == "NCHW" else image
    kind = np.dtype(fmt.dtype)
    if kind.kind == "f":
        return np.ascontiguousarray(x, dtype=kind)
    info = np.iinfo(kind)
    q = np.rint(x / np.float32(fmt.scale)) + fmt.zero_point  # rint: round half to even, as QuantizeLinear does
    return np.ascontiguousarray(np.clip(q, info.min, info.max).astype(kind))
