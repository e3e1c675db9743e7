"""The DLRM ONNX graph against an independent numpy forward pass; random models; checkpoint conversion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from podium.backends import get_backend
from podium.benchmarks.dlrm import model
from podium.benchmarks.dlrm.qsl import DlrmBatch
from podium.benchmarks.dlrm.reference import TABLE_ROWS
from podium.benchmarks.dlrm.responses import DlrmModelRunner
from podium.errors import PodiumError

# 3 tables of 4-dim embeddings: 4 vectors interact -> 6 dot products, top MLP input 4 + 6 = 10.
TINY = model.DlrmArch(table_rows=(5, 7, 3), embedding_dim=4, bottom_mlp=(13, 8, 4), top_mlp=(10, 6, 1))


def numpy_dlrm(w: model.DlrmWeights, dense: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """DLRM forward written out plainly: MLPs, look-ups, pairwise dots with j < i in (i, j) order."""
    x = dense.astype(np.float64)
    for wt, b in w.bottom:
        x = np.maximum(x @ wt.T + b, 0)
    out = []
    for n in range(x.shape[0]):
        vecs = [x[n]] + [w.tables[k][ids[k, n] % len(w.tables[k])] for k in range(len(w.tables))]
        dots = [float(np.dot(vecs[i], vecs[j])) for i in range(len(vecs)) for j in range(i)]
        r = np.concatenate([x[n], dots])
        for li, (wt, b) in enumerate(w.top):
            r = r @ wt.T + b
            r = np.maximum(r, 0) if li < len(w.top) - 1 else 1 / (1 + np.exp(-r))
        out.append(r[0])
    return np.array(out)


def _batch(n: int, seed: int = 0, high: int = 50) -> DlrmBatch:
    rng = np.random.default_rng(seed)
    return DlrmBatch(dense=rng.random((n, 13), dtype=np.float32) * 3,
                     sparse=rng.integers(0, high, size=(3, n)).astype(np.int64),
                     labels=(rng.random(n) < 0.5).astype(np.float32), lengths=np.array([n]))


def test_graph_matches_numpy_forward(tmp_path: Path) -> None:
    w = model.random_weights(TINY, seed=3)
    path = model.save_model(model.build_graph(TINY, w), tmp_path / "tiny.onnx")
    backend = get_backend("onnxruntime", intra_op_threads=1).load(path)
    runner = DlrmModelRunner(backend)
    batch = _batch(11)  # ids up to 50: beyond every table, so the in-graph modulo is exercised
    pred, labels, lengths = runner.run(batch)
    assert pred.shape == (11,) and np.array_equal(labels, batch.labels) and lengths.tolist() == [11]
    np.testing.assert_allclose(pred, numpy_dlrm(w, batch.dense, batch.sparse), rtol=1e-5, atol=1e-6)


def test_interaction_pairs_order() -> None:
    assert model.interaction_pairs(4).tolist() == [4, 8, 9, 12, 13, 14]  # (1,0) (2,0) (2,1) (3,0) (3,1) (3,2)
    assert model.interaction_pairs(27).size == 351


def test_architecture_checks() -> None:
    assert model.DlrmArch().top_mlp[0] == 479 and len(model.DlrmArch().table_rows) == 26
    with pytest.raises(PodiumError, match="top MLP must go from 10"):
        model.DlrmArch(table_rows=(5, 7, 3), embedding_dim=4, bottom_mlp=(13, 4), top_mlp=(11, 1))
    capped = model.DlrmArch().capped(1000)
    assert capped.table_rows[0] == 1000 and capped.table_rows[5] == 3 and max(capped.table_rows) == 1000


def test_random_model_is_built_once_and_labelled(tmp_path: Path) -> None:
    path = model.build_random_model(tmp_path, row_cap=64, seed=5)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["random_weights"] is True and meta["row_cap"] == 64
    assert meta["official_table_rows"] == list(TABLE_ROWS) and max(meta["table_rows"]) == 64
    assert model.read_model_info(path)["row_cap"] == 64
    mtime = path.stat().st_mtime_ns
    assert model.build_random_model(tmp_path, row_cap=64, seed=5) == path and path.stat().st_mtime_ns == mtime
    backend = get_backend("onnxruntime", intra_op_threads=1).load(path)
    assert [s.name for s in backend.inputs] == ["dense_x", "offsets", "indices"]
    rng = np.random.default_rng(0)
    n = 40
    batch = DlrmBatch(rng.random((n, 13), dtype=np.float32), rng.integers(0, 40_000_000, size=(26, n)),
                      np.zeros(n, np.float32), np.array([n]))
    pred = DlrmModelRunner(backend).run(batch)[0]
    assert pred.shape == (n,) and np.all((pred > 0) & (pred < 1)) and np.unique(pred).size > 1


class _PerTableBackend:
    """A stand-in backend with the reference's per-table input names; records what it was fed."""

    def __init__(self) -> None:
        from podium.backends.base import TensorSpec

        names = ["dense_x"] + [f"offsets_{k}" for k in range(3)] + [f"indices_{k}" for k in range(3)]
        self.inputs = [TensorSpec(n, np.dtype(np.float32), ()) for n in names]
        self.fed: dict[str, np.ndarray] = {}

    def run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.fed = feed
        return [np.full((feed["dense_x"].shape[0], 1), 0.25, dtype=np.float32)]


def test_runner_feeds_per_table_inputs() -> None:
    be = _PerTableBackend()
    batch = _batch(4)
    DlrmModelRunner(be).run(batch)
    assert np.array_equal(be.fed["indices_2"], batch.sparse[2])
    assert be.fed["offsets_1"].tolist() == [0, 1, 2, 3]


def test_runner_rejects_unknown_inputs() -> None:
    be = _PerTableBackend()
    from podium.backends.base import TensorSpec

    be.inputs.append(TensorSpec("image", np.dtype(np.float32), ()))
    with pytest.raises(PodiumError, match="input 'image' is not a DLRM input"):
        DlrmModelRunner(be)


def test_checkpoint_conversion(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    w = model.random_weights(TINY, seed=9)
    state = {f"emb_l.{k}.weight": torch.from_numpy(t) for k, t in enumerate(w.tables)}
    for prefix, layers in (("bot_l", w.bottom), ("top_l", w.top)):
        for j, (wt, b) in enumerate(layers):
            state[f"{prefix}.{2 * j}.weight"] = torch.from_numpy(wt)
            state[f"{prefix}.{2 * j}.bias"] = torch.from_numpy(b)
    ckpt = tmp_path / "tiny.pt"
    torch.save({"state_dict": state, "epoch": 0}, str(ckpt))
    out = model.convert_checkpoint(ckpt, tmp_path / "tiny.onnx")
    backend = get_backend("onnxruntime", intra_op_threads=1).load(out)
    batch = _batch(6, seed=2)
    np.testing.assert_allclose(DlrmModelRunner(backend).run(batch)[0], numpy_dlrm(w, batch.dense, batch.sparse),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(PodiumError, match="differs from the expected"):
        model.convert_checkpoint(ckpt, tmp_path / "x.onnx", arch=model.DlrmArch())
    torch.save({"state_dict": {"foo": torch.zeros(1)}}, str(ckpt))
    with pytest.raises(PodiumError, match="expected emb_l"):
        model.convert_checkpoint(ckpt, tmp_path / "y.onnx")


def test_tables_as_external_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Large tables (the official ~96 GB, or a high row cap) are streamed to <model>.data beside the model.
    monkeypatch.setattr(model, "_EXTERNAL_DATA_BYTES", 0)
    w = model.random_weights(TINY, seed=4)
    path = tmp_path / "ext.onnx"
    tables = model.tables_file_for(path, TINY)
    assert tables == tmp_path / "ext.onnx.data"
    model.save_model(model.build_graph(TINY, w, tables_file=tables), path)
    assert tables.stat().st_size == sum(TINY.table_rows) * 4 * 4
    backend = get_backend("onnxruntime", intra_op_threads=1).load(path)
    batch = _batch(5, seed=1)
    np.testing.assert_allclose(DlrmModelRunner(backend).run(batch)[0], numpy_dlrm(w, batch.dense, batch.sparse),
                               rtol=1e-5, atol=1e-6)
