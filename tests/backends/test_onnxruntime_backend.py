"""ONNX Runtime backend and the backend registry, on tiny models written with onnx.helper."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from podium.backends import (
    Backend,
    BackendEntry,
    BackendError,
    TensorSpec,
    available_backends,
    get_backend,
    register_backend,
)
from podium.backends import registry as backend_registry
from podium.errors import PodiumError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def _save(model: onnx.ModelProto, path: Path) -> Path:
    model.opset_import[0].version = 13
    model.ir_version = 8  # readable by any onnxruntime >= 1.17
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def double_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """y = 2 * x, x float32 [batch, 3]."""
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])], "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[two],
    )
    return _save(helper.make_model(graph), tmp_path_factory.mktemp("m") / "double.onnx")


@pytest.fixture(scope="module")
def add_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """s = a + b (int64 [batch, 2]), two inputs."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"])], "add",
        [helper.make_tensor_value_info("a", TensorProto.INT64, [None, 2]),
         helper.make_tensor_value_info("b", TensorProto.INT64, [None, 2])],
        [helper.make_tensor_value_info("s", TensorProto.INT64, [None, 2])],
    )
    return _save(helper.make_model(graph), tmp_path_factory.mktemp("m") / "add.onnx")


def test_registry_lists_onnxruntime_as_ok() -> None:
    assert available_backends()["onnxruntime"] == "ok"
    assert get_backend("ort").name == "onnxruntime"


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(PodiumError, match="backend 'nope': unknown; expected one of .*onnxruntime"):
        get_backend("nope")


def test_missing_library_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_registry, "_REGISTRY", dict(backend_registry._REGISTRY))
    register_backend(BackendEntry("fakevino", "nowhere:Nothing", requires="no_such_module_xyz", extra="openvino"))
    assert available_backends()["fakevino"] == "not installed: pip install podium[openvino]"
    with pytest.raises(BackendError, match=r"not installed: pip install podium\[openvino\]"):
        get_backend("fakevino")


def test_bad_option_name_is_a_podium_error() -> None:
    with pytest.raises(BackendError, match="bad option"):
        get_backend("onnxruntime", threads=2)


@pytest.mark.parametrize("options, field", [
    ({"intra_op_threads": "many"}, "intra_op_threads"),
    ({"inter_op_threads": -1}, "inter_op_threads"),
    ({"providers": "NoSuchExecutionProvider"}, "providers"),
    ({"graph_optimization_level": "max"}, "graph_optimization_level"),
    ({"execution_mode": "random"}, "execution_mode"),
])
def test_bad_option_values_name_the_option(options: dict, field: str) -> None:
    with pytest.raises(BackendError, match=field):
        get_backend("onnxruntime", **options)


def test_unknown_session_option_fails_at_load(double_model: Path) -> None:
    be = get_backend("onnxruntime", session_options={"no_such_attribute": 1})
    with pytest.raises(BackendError, match="session_options.no_such_attribute"):
        be.load(double_model)


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.onnx"
    with pytest.raises(BackendError) as err:
        get_backend("onnxruntime").load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_corrupt_model_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not a protobuf")
    with pytest.raises(BackendError) as err:
        get_backend("onnxruntime").load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: not a loadable ONNX model") and "\n" not in msg


def test_specs_are_discovered_from_the_model(double_model: Path, add_model: Path) -> None:
    be = get_backend("onnxruntime", intra_op_threads=1).load(double_model)
    assert isinstance(be, Backend)
    assert be.inputs == [TensorSpec("x", np.dtype(np.float32), ("batch", 3))]
    assert be.outputs[0].name == "y"
    assert be.inputs[0].dynamic_dims == (0,)
    assert be.inputs[0].concrete_shape(5) == (5, 3)
    two = get_backend("onnxruntime").load(add_model)
    assert [s.name for s in two.inputs] == ["a", "b"]
    assert two.inputs[0].dtype == np.int64 and two.inputs[0].shape == (None, 2)


def test_run_with_array_and_dict(double_model: Path, add_model: Path) -> None:
    be = get_backend("onnxruntime", intra_op_threads="1", graph_optimization_level="basic",
                     session_options={"enable_mem_pattern": False,
                                      "session.intra_op.allow_spinning": "0"}).load(double_model)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(be.run(x)[0], 2 * x)
    np.testing.assert_array_equal(be.run({"x": x})[0], 2 * x)
    two = get_backend("onnxruntime").load(add_model)
    a = np.ones((4, 2), dtype=np.int64)
    np.testing.assert_array_equal(two.run({"a": a, "b": a})[0], 2 * a)
    with pytest.raises(BackendError, match="several inputs"):
        two.run(a)
    with pytest.raises(BackendError, match="inference failed"):
        be.run(np.zeros((2, 4), dtype=np.float32))  # wrong inner dim


def test_run_before_load_is_an_error() -> None:
    with pytest.raises(BackendError, match="no model loaded"):
        get_backend("onnxruntime").run(np.zeros((1, 3), dtype=np.float32))


def test_concurrent_runs_from_threads(double_model: Path) -> None:
    be = get_backend("onnxruntime", intra_op_threads=1).load(double_model)
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for k in range(50):
                x = np.full((k % 7 + 1, 3), seed + k, dtype=np.float32)
                assert np.array_equal(be.run(x)[0], 2 * x)
        except BaseException as exc:  # collected: an assert in a thread would be lost otherwise
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_config_and_close(double_model: Path) -> None:
    with get_backend("onnxruntime", intra_op_threads=1).load(double_model) as be:
        cfg = be.config()
        assert cfg["backend"] == "onnxruntime" and cfg["intra_op_threads"] == 1
        assert cfg["model_path"] == str(double_model) and cfg["version"]
    with pytest.raises(BackendError):
        be.run(np.zeros((1, 3), dtype=np.float32))
