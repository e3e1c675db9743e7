"""The PyTorch backend: TorchScript (``torch.jit``), ``torch.export`` programs (``.pt2``) and, when allowed,
pickled ``nn.Module`` files (eager), optionally compiled with ``torch.compile`` (inductor); threads,
channels-last, bf16/fp16 autocast, CPU or CUDA.

Who calls what: ``load`` once, from the thread setting up the run (with ``compile``, the first batches of
each shape are slow while inductor compiles: the suite's calibration run warms them); ``run`` from any number
of harness worker threads at once: PyTorch releases the GIL inside its kernels, and the module is only read.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np

from podium.backends.base import Backend, BackendError, Batch, TensorSpec, first_line
from podium.backends.options import as_int

_AUTOCAST = {"none": None, "off": None, "bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16",
             "float16": "float16"}
_COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")


def _flag(value: Any, field: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", "none", ""):
        return False
    raise BackendError(f"backend option {field}: expected true or false, got {value!r}")


class TorchBackend(Backend):
    """Runs PyTorch models.

    Options (strings accepted): ``device`` (cpu, cuda, cuda:N; default cpu), ``threads`` (intra-op threads,
    0 = PyTorch's default; process-wide), ``channels_last`` (4-D inputs and the model in channels-last memory
    format), ``autocast`` (none, bf16, fp16: mixed precision where the device supports it), ``compile``
    (none, default, reduce-overhead, max-autotune: ``torch.compile`` with inductor), ``allow_pickle`` (load a
    pickled ``nn.Module``: this runs code from the file, so only for files you trust), ``input_dtype`` (the
    element type of inputs given as lists, default float32).
    """

    name = "torch"

    def __init__(self, device: str = "cpu", threads: int | str = 0, channels_last: bool | str = False,
                 autocast: str = "none", compile: str = "none", allow_pickle: bool | str = False,
                 input_dtype: str = "float32") -> None:
        import torch

        self._torch = torch
        self.device = str(device).lower()
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(f"backend option device: {device!r}, but this PyTorch sees no CUDA device "
                               f"(torch {torch.__version__}; a CUDA build and a GPU are needed)")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise BackendError(f"backend option device: expected cpu, cuda or cuda:N, got {device!r}")
        self.threads = as_int(threads, "threads")
        self.channels_last = _flag(channels_last, "channels_last")
        key = str(autocast).lower()
        if key not in _AUTOCAST:
            raise BackendError(f"backend option autocast: expected none, bf16 or fp16, got {autocast!r}")
        self.autocast = _AUTOCAST[key]
        if self.autocast == "float16" and self.device == "cpu":
            raise BackendError("backend option autocast: fp16 autocast needs a CUDA device; on the CPU use bf16")
        mode = str(compile).lower()
        if mode not in _COMPILE_MODES:
            raise BackendError(f"backend option compile: expected one of {', '.join(_COMPILE_MODES)}, "
                               f"got {compile!r}")
        self.compile = mode
        self.allow_pickle = _flag(allow_pickle, "allow_pickle")
        self.input_dtype = np.dtype(input_dtype)
        if self.threads:
            torch.set_num_threads(self.threads)
        self.model_path: Path | None = None
        self.format = ""
        self._module: Any = None
        self._inputs: list[TensorSpec] = []
        self._outputs: list[TensorSpec] = []

    @property
    def version(self) -> str:
        return str(self._torch.__version__)

    def load(self, model_path: str | Path) -> "TorchBackend":
        torch = self._torch
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"{path}: model file not found")
        if path.suffix.lower() == ".onnx":
            raise BackendError(f"{path}: the torch backend reads TorchScript (.pt), torch.export (.pt2) or pickled "
                               "nn.Module files, not ONNX; run ONNX models with --backend onnxruntime or openvino")
        module: Any = None
        errors = []
        if path.suffix.lower() == ".pt2":
            try:
                program = torch.export.load(str(path))
                module, self.format = program.module(), "torch.export"
                names = [s.arg.name for s in program.graph_signature.input_specs
                         if s.kind == torch.export.graph_signature.InputKind.USER_INPUT]
            except Exception as exc:
                raise BackendError(f"{path}: not a torch.export program ({first_line(exc)})") from None
        else:
            try:
                module, self.format = torch.jit.load(str(path), map_location=self.device), "torchscript"
                names = [a.name for a in module.forward.schema.arguments[1:]]
            except Exception as exc:
                errors.append(first_line(exc))
                if not self.allow_pickle:
                    raise BackendError(f"{path}: not a TorchScript file ({errors[0]}); a pickled nn.Module loads "
                                       "only with --backend-option allow_pickle=true (it runs code from the file: "
                                       "only for files you trust)") from None
                try:
                    module = torch.load(str(path), map_location=self.device, weights_only=False)
                except Exception as exc2:
                    raise BackendError(f"{path}: not a PyTorch model file ({first_line(exc2)})") from None
                if not isinstance(module, torch.nn.Module):
                    raise BackendError(f"{path}: holds a {type(module).__name__}, not an nn.Module (a state dict "
                                       "needs its model class: save the whole module, TorchScript or torch.export)")
                self.format = "eager"
                names = [p for p in inspect.signature(module.forward).parameters if p not in ("self",)]
        if self.format != "torch.export":  # an exported program is already in inference form (no .eval())
            module = module.eval()
        if self.format != "torch.export" and hasattr(module, "to"):
            module = module.to(self.device)
            if self.channels_last:
                module = module.to(memory_format=torch.channels_last)
        if self.compile != "none":
            try:
                module = torch.compile(module, mode=None if self.compile == "default" else self.compile)
            except Exception as exc:
                raise BackendError(f"{path}: torch.compile failed ({first_line(exc)})") from None
        self._module = module
        self.model_path = path
        self._inputs = [TensorSpec(n, self.input_dtype, (None,)) for n in names]
        self._outputs = []
        return self

    @property
    def inputs(self) -> list[TensorSpec]:
        self._require_loaded()
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorSpec]:
        self._require_loaded()
        return list(self._outputs) or [TensorSpec("output_0", np.dtype(np.float32), (None,))]

    def _tensor(self, a: np.ndarray) -> Any:
        torch = self._torch
        t = torch.from_numpy(np.ascontiguousarray(a))
        if self.device != "cpu":
            t = t.to(self.device, non_blocking=True)
        if self.channels_last and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t

    def run(self, batch: Batch) -> list[np.ndarray]:
        torch = self._torch
        module = self._module
        if module is None:
            self._require_loaded()
        if isinstance(batch, np.ndarray):
            args = [self._tensor(batch)]
        else:
            try:
                args = [self._tensor(batch[s.name]) for s in self._inputs]
            except KeyError as exc:
                raise BackendError(f"{self.model_path}: no input {exc} in the batch (the model takes "
                                   f"{', '.join(s.name for s in self._inputs)})") from None
        try:
            with torch.inference_mode():
                if self.autocast is not None:
                    dev = "cuda" if self.device.startswith("cuda") else "cpu"
                    with torch.autocast(dev, dtype=getattr(torch, self.autocast)):
                        out = module(*args)
                else:
                    out = module(*args)
        except Exception as exc:
            raise BackendError(f"{self.model_path}: inference failed ({first_line(exc)})") from None
        return [_numpy(t) for t in _flatten(out)]

    def config(self) -> dict[str, Any]:
        torch = self._torch
        out: dict[str, Any] = {"backend": self.name, "version": self.version, "format": self.format,
                               "device": self.device, "threads": torch.get_num_threads(),
                               "channels_last": self.channels_last, "autocast": self.autocast or "none",
                               "precision": self.autocast or "float32", "compile": self.compile,
                               "model_path": str(self.model_path) if self.model_path else None}
        if self.device.startswith("cuda"):
            out["device_name"] = torch.cuda.get_device_name(self.device)
        return out

    def close(self) -> None:
        self._module = None

    def _require_loaded(self) -> None:
        if self._module is None:
            raise BackendError("torch backend: no model loaded (call load(model_path) first)")


def _flatten(out: Any) -> list[Any]:
    if isinstance(out, dict):
        return [v for v in out.values()]
    if isinstance(out, (list, tuple)):
        items: list[Any] = []
        for o in out:
            items.extend(_flatten(o))
        return items
    return [out]


def _numpy(t: Any) -> np.ndarray:
    import torch

    if not isinstance(t, torch.Tensor):
        return np.asarray(t)
    t = t.detach()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()  # numpy has no bfloat16; results leave the backend as float32
    return t.cpu().numpy()
