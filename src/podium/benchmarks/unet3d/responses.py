"""Running the 3D-UNet on whole cases (sliding window) and the uint8 label volume each case answers with.

``UNet3DModelRunner`` is what the harness calls ``run`` on: for each case of a batch it runs the
benchmark-side sliding window (``sliding_window``), calling the backend once per patch (or per
``patch_batch`` patches when the model's batch dimension is dynamic), and returns the label volumes.
``responses`` turns them into the reference's payload: the raw uint8 volume, C order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from podium.benchmarks.unet3d.sliding_window import OVERLAP, ROI_SHAPE, sliding_window_inference
from podium.errors import PodiumError


class UNet3DModelRunner:
    """Adapts a loaded backend (input ``(N, 1, r, r, r)``, output ``(N, 3, r, r, r)``) to whole cases.

    The patch size comes from the model's input shape when it is fixed there, else ``roi``. ``patches_run``
    counts patches, for reports.
    """

    def __init__(self, backend: Any, roi: tuple[int, int, int] | None = None, overlap: float = OVERLAP,
                 patch_batch: int = 1) -> None:
        self.backend = backend
        spec = backend.inputs[0]
        dims = tuple(spec.shape)
        if len(dims) != 5:
            raise PodiumError(f"{getattr(backend, 'model_path', 'the model')}: input {spec.name!r} has shape "
                              f"{dims}, expected (N, 1, D, H, W)")
        fixed = tuple(d for d in dims[2:] if isinstance(d, int))
        self.roi: tuple[int, int, int] = roi or (tuple(fixed) if len(fixed) == 3 else ROI_SHAPE)  # type: ignore[assignment]
        batch_fixed = isinstance(dims[0], int)
        self.patch_batch = 1 if batch_fixed else max(1, int(patch_batch))
        self.overlap = overlap
        self.patches_run = 0

    @property
    def version(self) -> str | None:
        """The wrapped backend's library version, for result files."""
        return getattr(self.backend, "version", None)

    def _infer(self, patches: np.ndarray) -> np.ndarray:
        return self.backend.run(np.ascontiguousarray(patches, dtype=np.float32))[0]

    def run(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        """One uint8 label volume ``(D, H, W)`` per case of the batch."""
        out = []
        for volume in batch:
            labels, n = sliding_window_inference(volume, self._infer, self.roi, self.overlap, self.patch_batch)
            self.patches_run += n
            out.append(labels)
        return out


def responses(outputs: list[np.ndarray]) -> list[bytes]:
    """One payload per case: its label volume as raw uint8 bytes (C order), as the reference sends."""
    return [np.ascontiguousarray(v, dtype=np.uint8).tobytes() for v in outputs]
