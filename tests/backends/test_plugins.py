"""A vendor backend through the ``podium.backends`` entry points: a small plugin package, installed into a
folder of its own, is listed by ``podium list`` and runs ``podium run --backend NAME`` with no change to podium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_plugin() -> str:
    """The complete minimal plugin README shows: the test installs exactly that code."""
    text = README.read_text(encoding="utf-8")
    code = text[text.index("# myaccel_podium/__init__.py"):]
    return code[:code.index("```")]


PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "myaccel-podium"
version = "0.1.0"

[project.entry-points."podium.backends"]
myaccel = "myaccel_podium:MyAccelBackend"
broken = "myaccel_podium.nowhere:Nothing"
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "myaccel_podium").mkdir()
    (src / "myaccel_podium" / "__init__.py").write_text(_readme_plugin())
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
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("myaccel"))
    assert "ok (plugin: myaccel-podium 0.1.0)" in line


def test_podium_run_through_the_plugin(plugin_site, tmp_path):
    out = _podium(plugin_site, "run", "--backend", "myaccel", "--backend-option", "device=7",
                  "--mode", "performance", "--duration", "0.5", "--output", "res", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    rec = json.loads(next((tmp_path / "res").glob("*/performance/podium/podium_result.json")).read_text())
    assert rec["backend"]["name"] == "myaccel" and rec["backend"]["options"] == {"device": "7"}
    assert rec["backend"]["config"] == {"backend": "myaccel", "version": rec["backend"]["version"], "device": "7",
                                        "precision": "fp32"}


def test_a_broken_plugin_is_one_line(plugin_site, tmp_path):
    out = _podium(plugin_site, "run", "--backend", "broken", "--duration", "0.5", "--output", "res", cwd=tmp_path)
    assert out.returncode != 0
    assert "backend 'broken' (plugin myaccel-podium 0.1.0): cannot load myaccel_podium.nowhere:Nothing" in out.stderr
