"""The DLRM network as an ONNX graph: from the official checkpoint's weights, or random with row-capped tables.

Architecture (the reference's ``dlrm_s_pytorch.DLRM_Net`` with ``arch_interaction_op="dot"``,
``arch_interaction_itself=False``): bottom MLP on the 13 dense features (ReLU after each layer) gives a
128-vector; each of the 26 categorical ids selects a 128-row of its embedding table (EmbeddingBag "sum" over
one id); the 27 vectors' pairwise dot products ``T[i]·T[j]`` for ``j < i`` (351, ordered by ``i`` then ``j``)
are appended to the bottom output (479 values); the top MLP (ReLU, last layer sigmoid) gives the click
probability.

The graph's inputs follow the reference's ONNX export: ``dense_x`` float32 ``(N, 13)``, ``offsets`` and
``indices`` int64 ``(26, N)``; output ``pred`` float32 ``(N, 1)``. Criteo gives exactly one id per table and
item, so the bag is a plain row look-up and ``offsets`` (always ``0..N-1``) is accepted but not read. Ids are
reduced modulo each table's row count inside the graph, so a table capped to fewer rows than the official
one (a random-weight model for small machines) takes any id; the full tables need ~96 GB.

Built with the ``onnx`` helper API and numpy: no PyTorch needed except to read a ``.pt`` checkpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podium.benchmarks.dlrm.reference import BOTTOM_MLP, EMBEDDING_DIM, FULL_TABLE_BYTES, TABLE_ROWS, TOP_MLP
from podium.errors import PodiumError
from podium.files import models_cache_dir, sha256_file

OPSET = 17
INPUT_DENSE, INPUT_OFFSETS, INPUT_INDICES, OUTPUT = "dense_x", "offsets", "indices", "pred"
#: Tables larger than this go to an external-data file beside the model (protobuf's limit is 2 GiB).
_EXTERNAL_DATA_BYTES = 1 << 30
#: Default row cap of a random-weight model: 26 tables of at most 100,000 rows, ~0.5 GB of FP32.
DEFAULT_ROW_CAP = 100_000


@dataclass(frozen=True)
class DlrmArch:
    """Layer sizes of a DLRM; the default is the official MLPerf model (``tb00_40M``)."""

    table_rows: tuple[int, ...] = TABLE_ROWS
    embedding_dim: int = EMBEDDING_DIM
    bottom_mlp: tuple[int, ...] = BOTTOM_MLP
    top_mlp: tuple[int, ...] = TOP_MLP

    def __post_init__(self) -> None:
        n = len(self.table_rows) + 1
        if self.bottom_mlp[-1] != self.embedding_dim:
            raise PodiumError(f"DLRM architecture: bottom MLP ends at {self.bottom_mlp[-1]}, expected the "
                              f"embedding dim {self.embedding_dim}")
        if self.top_mlp[0] != self.embedding_dim + n * (n - 1) // 2 or self.top_mlp[-1] != 1:
            raise PodiumError(f"DLRM architecture: top MLP must go from {self.embedding_dim + n * (n - 1) // 2} "
                              f"(embedding dim + {n}*{n - 1}/2 interactions) to 1, got {self.top_mlp}")
        if min(self.table_rows) <= 0:
            raise PodiumError("DLRM architecture: every embedding table needs at least one row")

    def capped(self, row_cap: int | None) -> DlrmArch:
        """The same network with every table cut to at most ``row_cap`` rows (None: unchanged)."""
        if row_cap is None:
            return self
        if row_cap <= 0:
            raise PodiumError(f"DLRM row cap: expected a positive number of rows, got {row_cap}")
        return DlrmArch(tuple(min(r, row_cap) for r in self.table_rows), self.embedding_dim,
                        self.bottom_mlp, self.top_mlp)

    @property
    def table_bytes(self) -> int:
        """FP32 bytes of all embedding tables."""
        return sum(self.table_rows) * self.embedding_dim * 4


@dataclass
class DlrmWeights:
    """Weights in the layout of the reference's PyTorch state dict (``Linear``: ``(out, in)`` weight)."""

    tables: list[np.ndarray]
    bottom: list[tuple[np.ndarray, np.ndarray]]
    top: list[tuple[np.ndarray, np.ndarray]]
    meta: dict[str, Any] = field(default_factory=dict)


def random_weights(arch: DlrmArch, seed: int = 0) -> DlrmWeights:
    """Weights drawn like the reference's initialisation: Linear ``N(0, sqrt(2/(in+out)))``, bias
    ``N(0, sqrt(1/out))``, tables ``U(-sqrt(1/rows), sqrt(1/rows))``; float32."""
    rng = np.random.default_rng(seed)

    def mlp(sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w = rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_out, n_in)).astype(np.float32)
            b = rng.normal(0.0, np.sqrt(1.0 / n_out), size=n_out).astype(np.float32)
            layers.append((w, b))
        return layers

    tables = []
    for rows in arch.table_rows:
        bound = np.float32(np.sqrt(1.0 / rows))
        tables.append(rng.uniform(-bound, bound, size=(rows, arch.embedding_dim)).astype(np.float32))
    return DlrmWeights(tables=tables, bottom=mlp(arch.bottom_mlp), top=mlp(arch.top_mlp))


def interaction_pairs(n_vectors: int) -> np.ndarray:
    """Flat positions ``i * n + j`` of the dot products kept, ``j < i``, ordered by ``i`` then ``j``."""
    return np.array([i * n_vectors + j for i in range(n_vectors) for j in range(i)], dtype=np.int64)


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise PodiumError("building the DLRM ONNX graph needs the onnx package: pip install 'onnx>=1.15'") from None
    return onnx


def build_graph(arch: DlrmArch, weights: DlrmWeights, name: str = "dlrm", tables_file: Path | None = None) -> Any:
    """The ONNX ``ModelProto`` of the network with these weights (see the module docstring for its I/O).

    With ``tables_file`` the embedding tables are written there, one after the other, and the model refers
    to it as ONNX external data (it must sit beside the model file): no copy of the tables is made in
    memory, which matters for tables of tens of GB.
    """
    _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    _check_weights(arch, weights)
    n_tables = len(arch.table_rows)
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(nm: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), nm))
        return nm

    def mlp(x: str, layers: list[tuple[np.ndarray, np.ndarray]], prefix: str, last_act: str) -> str:
        for k, (w, b) in enumerate(layers):
            y = f"{prefix}_{k}"
            nodes.append(helper.make_node("Gemm", [x, const(f"{prefix}.{k}.weight", w.astype(np.float32)),
                                                   const(f"{prefix}.{k}.bias", b.astype(np.float32))],
                                          [y + "_lin"], transB=1))
            act = "Relu" if k < len(layers) - 1 else last_act
            nodes.append(helper.make_node(act, [y + "_lin"], [y]))
            x = y
        return x

    x_bot = mlp(INPUT_DENSE, weights.bottom, "bot", "Relu")
    # All tables in one matrix: one Gather for all 26 look-ups; per-table ids are taken modulo the table's
    # rows (a capped table accepts any id) and shifted to the table's first row.
    rows = np.asarray(arch.table_rows, dtype=np.int64).reshape(n_tables, 1)
    base = np.concatenate([[0], np.cumsum(arch.table_rows)[:-1]]).astype(np.int64).reshape(n_tables, 1)
    if tables_file is None:
        inits.append(numpy_helper.from_array(np.concatenate(weights.tables, axis=0).astype(np.float32), "embedding_tables"))
    else:
        inits.append(_external_table(weights.tables, arch.embedding_dim, Path(tables_file)))
    nodes += [
        helper.make_node("Mod", [INPUT_INDICES, const("table_rows", rows)], ["ids_mod"]),
        helper.make_node("Add", ["ids_mod", const("table_base", base)], ["ids_flat"]),
        helper.make_node("Transpose", ["ids_flat"], ["ids_by_item"], perm=[1, 0]),
        helper.make_node("Gather", ["embedding_tables", "ids_by_item"], ["emb"], axis=0),
        helper.make_node("Unsqueeze", [x_bot, const("axis1", np.array([1], dtype=np.int64))], ["x_bot3"]),
        helper.make_node("Concat", ["x_bot3", "emb"], ["T"], axis=1),
        helper.make_node("Transpose", ["T"], ["T_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["T", "T_t"], ["Z"]),
        helper.make_node("Reshape", ["Z", const("z_flat_shape", np.array([0, -1], dtype=np.int64))], ["Z_flat"]),
        helper.make_node("Gather", ["Z_flat", const("pairs", interaction_pairs(n_tables + 1))], ["Zp"], axis=1),
        helper.make_node("Concat", [x_bot, "Zp"], ["R"], axis=1),
    ]
    top = mlp("R", weights.top, "top", "Sigmoid")
    nodes.append(helper.make_node("Identity", [top], [OUTPUT]))

    graph = helper.make_graph(
        nodes, name,
        inputs=[helper.make_tensor_value_info(INPUT_DENSE, TensorProto.FLOAT, ["N", arch.bottom_mlp[0]]),
                helper.make_tensor_value_info(INPUT_OFFSETS, TensorProto.INT64, [n_tables, "N"]),
                helper.make_tensor_value_info(INPUT_INDICES, TensorProto.INT64, [n_tables, "N"])],
        outputs=[helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="podium")
    model.ir_version = min(model.ir_version, 8)  # readable by older onnxruntime releases too
    if weights.meta:
        helper.set_model_props(model, {k: str(v) for k, v in weights.meta.items()})
    return model


def _external_table(tables: list[np.ndarray], dim: int, path: Path) -> Any:
    """An initializer ``embedding_tables`` whose data is ``path``: the tables' float32 rows, streamed to disk."""
    from onnx import TensorProto

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for t in tables:
            np.ascontiguousarray(t, dtype="<f4").tofile(fh)
    tensor = TensorProto(name="embedding_tables", data_type=TensorProto.FLOAT,
                         dims=[sum(len(t) for t in tables), dim])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", path.name), ("offset", "0"), ("length", str(path.stat().st_size))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def tables_file_for(model_path: Path, arch: DlrmArch) -> Path | None:
    """Where a model's tables go as external data (``<model>.data``), or None when they fit in the model."""
    return model_path.with_name(model_path.name + ".data") if arch.table_bytes > _EXTERNAL_DATA_BYTES else None


def save_model(model: Any, path: str | Path) -> Path:
    """Write the model (atomically); initializers still inside it that add up to over 1 GiB go to
    ``<name>.data`` beside it (ONNX external data)."""
    onnx = _import_onnx()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    large = sum(t.ByteSize() for t in model.graph.initializer) > _EXTERNAL_DATA_BYTES
    tmp = p.with_name(p.name + ".tmp")
    if large:
        onnx.save_model(model, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=p.name + ".data", size_threshold=1 << 20)
    else:
        onnx.save_model(model, str(tmp))
    os.replace(tmp, p)  # a reader never sees a half-written model in the cache
    return p


def _check_weights(arch: DlrmArch, w: DlrmWeights) -> None:
    if len(w.tables) != len(arch.table_rows):
        raise PodiumError(f"DLRM weights: {len(w.tables)} embedding tables, expected {len(arch.table_rows)}")
    for k, (t, rows) in enumerate(zip(w.tables, arch.table_rows)):
        if t.shape != (rows, arch.embedding_dim):
            raise PodiumError(f"DLRM weights: table {k} has shape {t.shape}, expected ({rows}, {arch.embedding_dim})")
    for what, layers, sizes in (("bottom", w.bottom, arch.bottom_mlp), ("top", w.top, arch.top_mlp)):
        if len(layers) != len(sizes) - 1:
            raise PodiumError(f"DLRM weights: {len(layers)} {what} MLP layers, expected {len(sizes) - 1}")
        for k, ((wt, b), n_in, n_out) in enumerate(zip(layers, sizes[:-1], sizes[1:])):
            if wt.shape != (n_out, n_in) or b.shape != (n_out,):
                raise PodiumError(f"DLRM weights: {what} layer {k} has weight {wt.shape} and bias {b.shape}, "
                                  f"expected ({n_out}, {n_in}) and ({n_out},)")


# -- random-weight models in the cache ---------------------------------------------------------------
def model_cache_dir() -> Path:
    """Where built models live (``podium.files.models_cache_dir``)."""
    return models_cache_dir()


def random_model_name(row_cap: int | None, seed: int) -> str:
    """File name of a random-weight model: the cap and seed are part of it, so each build is its own file."""
    cap = "full" if row_cap is None else str(row_cap)
    return f"dlrm_random_rowcap{cap}_seed{seed}.onnx"


def build_random_model(out_dir: str | Path | None = None, row_cap: int | None = DEFAULT_ROW_CAP,
                       seed: int = 0, arch: DlrmArch | None = None) -> Path:
    """Build (or reuse) a random-weight DLRM in ``out_dir`` (default: the model cache); returns its path.

    A JSON file beside the model records the cap, the seed and that the weights are random.
    """
    base_arch = arch or DlrmArch()
    capped = base_arch.capped(row_cap)
    out = Path(out_dir) if out_dir is not None else model_cache_dir()
    path = out / random_model_name(row_cap, seed)
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file() and arch is None:
        return path
    weights = random_weights(capped, seed)
    weights.meta = {"podium_random_weights": "true", "podium_row_cap": row_cap, "podium_seed": seed}
    save_model(build_graph(capped, weights, name="dlrm_random", tables_file=tables_file_for(path, capped)), path)
    meta = {
        "model": path.name,
        "random_weights": True,
        "row_cap": row_cap,
        "seed": seed,
        "table_rows": list(capped.table_rows),
        "official_table_rows": list(base_arch.table_rows),
        "table_bytes": capped.table_bytes,
        "official_table_bytes": FULL_TABLE_BYTES if arch is None else base_arch.table_bytes,
        "onnx_sha256": _sha256(path),
        "note": "random weights: timing only; capped tables are smaller than the official ones, so embedding "
                "look-ups hit caches more than with the full ~96 GB of tables",
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def read_model_info(model_path: str | Path) -> dict[str, Any]:
    """The JSON written beside a random-weight model, or ``{}`` for any other model file."""
    meta = Path(model_path).with_suffix(".json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PodiumError(f"{meta}: not valid JSON ({exc})") from None
    return data if isinstance(data, dict) and data.get("random_weights") else {}


def _sha256(path: Path) -> str:
    return sha256_file(path)


# -- the official PyTorch checkpoint -----------------------------------------------------------------
def weights_from_state_dict(state: Mapping[str, Any], arch: DlrmArch | None = None) -> tuple[DlrmArch, DlrmWeights]:
    """Weights from a reference state dict (``emb_l.<k>.weight``, ``bot_l.<2k>.weight/bias``,
    ``top_l.<2k>.weight/bias``); the architecture is read from the shapes and checked against ``arch``."""
    def arr(key: str) -> np.ndarray:
        if key not in state:
            raise PodiumError(f"DLRM checkpoint: no tensor {key!r} (expected the reference DLRM_Net state dict)")
        v = state[key]
        v = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
        return np.ascontiguousarray(v, dtype=np.float32)

    tables = []
    k = 0
    while f"emb_l.{k}.weight" in state:
        tables.append(arr(f"emb_l.{k}.weight"))
        k += 1

    def layers(prefix: str) -> list[tuple[np.ndarray, np.ndarray]]:
        out, j = [], 0
        while f"{prefix}.{j}.weight" in state:
            out.append((arr(f"{prefix}.{j}.weight"), arr(f"{prefix}.{j}.bias")))
            j += 2  # Sequential(Linear, ReLU, Linear, ...): linear layers sit at even positions
        return out

    bottom, top = layers("bot_l"), layers("top_l")
    if not tables or not bottom or not top:
        raise PodiumError("DLRM checkpoint: expected emb_l.*, bot_l.* and top_l.* tensors (reference DLRM_Net)")
    found = DlrmArch(tuple(t.shape[0] for t in tables), tables[0].shape[1],
                     tuple([bottom[0][0].shape[1]] + [w.shape[0] for w, _ in bottom]),
                     tuple([top[0][0].shape[1]] + [w.shape[0] for w, _ in top]))
    if arch is not None and found != arch:
        raise PodiumError(f"DLRM checkpoint: architecture {asdict(found)} differs from the expected {asdict(arch)}")
    return found, DlrmWeights(tables=tables, bottom=bottom, top=top)


def convert_checkpoint(checkpoint: str | Path, out_path: str | Path, arch: DlrmArch | None = None) -> Path:
    """Convert a reference ``.pt`` checkpoint (a dict with ``state_dict``, or the state dict) to ONNX.

    Needs PyTorch (``pip install torch==2.13.0``). The checkpoint is memory-mapped and read with
    ``weights_only=True``, so no code inside it runs.
    """
    try:
        import torch
    except ImportError:
        raise PodiumError(f"{checkpoint}: reading a PyTorch checkpoint needs torch (pip install torch==2.13.0), "
                          "or pass the ONNX model instead") from None
    src = Path(checkpoint)
    if not src.is_file():
        raise PodiumError(f"{src}: checkpoint not found")
    try:
        loaded = torch.load(str(src), map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many types for a bad or non-weights-only file
        raise PodiumError(f"{src}: not a readable weights-only PyTorch checkpoint ({str(exc).splitlines()[0]})") from None
    state = loaded.get("state_dict", loaded) if isinstance(loaded, Mapping) else None
    if not isinstance(state, Mapping):
        raise PodiumError(f"{src}: expected a state dict or a dict with 'state_dict'")
    found, weights = weights_from_state_dict(state, arch)
    weights.meta = {"podium_source_checkpoint": src.name}
    out = Path(out_path)
    return save_model(build_graph(found, weights, name="dlrm", tables_file=tables_file_for(out, found)), out)
