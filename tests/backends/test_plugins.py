"""A vendor backend through the ``podium.backends`` entry points: a small plugin package, installed into a
folder of its own, is listed by ``podium list`` and runs ``podium run --backend NAME`` with no change to podium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = '''
"""A vendor runtime for podium (here: ONNX Runtime under another name, counting its batches)."""
from podium.backends.onnxruntime_backend import OnnxRuntimeBackend


class EchoBackend(OnnxRuntimeBackend):
    name = "echo-ort"

    def __init__(self, greeting="hi", **options):
        super().__init__(**options)
        self.greeting = greeting
        self.batches = 0

    def run(self, batch):
        self.batches += 1
        return super().run(batch)

    def config(self):
        return {**super().config(), "backend": self.name, "greeting": self.greeting}
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "podium-echo-backend"
version = "0.1.0"

[project.entry-points."podium.backends"]
echo-ort = "podium_echo_backend:EchoBackend"
broken = "podium_echo_backend.nowhere:Nothing"
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "podium_echo_backend").mkdir()
    (src / "podium_echo_backend" / "__init__.py").write_text(PLUGIN)
    (src / "pyproject.toml").write_text(PYPROJECT)
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(src)], check=True, timeout=300, capture_output=True)
    return site


def _podium(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "COLUMNS": "120", "PODIUM_RESULTS_DB": str(cwd / "store.sqlite")}
    return subprocess.run([sys.executable, "-m", "podium.cli.main", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def test_podium_list_shows_plugins_and_their_status(plugin_site, tmp_path):
    out = _podium(plugin_site, "list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("echo-ort"))
    assert "ok (plugin: podium-echo-backend 0.1.0)" in line


def test_podium_run_through_the_plugin(plugin_site, tmp_path):
    out = _podium(plugin_site, "run", "--backend", "echo-ort", "--backend-option", "greeting=hello",
                  "--mode", "performance", "--duration", "0.5", "--output", "res", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    rec = json.loads(next((tmp_path / "res").glob("*/performance/podium/podium_result.json")).read_text())
    assert rec["backend"]["name"] == "echo-ort" and rec["backend"]["options"] == {"greeting": "hello"}
    assert rec["backend"]["config"]["greeting"] == "hello" and rec["backend"]["config"]["providers"]


def test_a_broken_plugin_is_one_line(plugin_site, tmp_path):
    out = _podium(plugin_site, "run", "--backend", "broken", "--duration", "0.5", "--output", "res", cwd=tmp_path)
    assert out.returncode != 0
    assert "backend 'broken' (plugin podium-echo-backend 0.1.0): cannot load podium_echo_backend.nowhere:Nothing" \
        in out.stderr
