"""The official LoadGen as a test-time peer: find or install ``mlcommons-loadgen==6.0.17`` outside podium's
environment, run ``peer_loadgen.py`` under it, and run the same test on podium (``twin.py``).

The official package is never imported into the test process: it is installed with ``pip install --target``
into a cache folder (``PODIUM_OFFICIAL_LOADGEN_SITE`` names one already made) and runs in a subprocess with
that folder on ``PYTHONPATH``. Where it cannot be installed (no package index), the tests that need it skip,
saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

OFFICIAL_PACKAGE = "mlcommons-loadgen"
OFFICIAL_VERSION = "6.0.17"
PEER_SCRIPT = Path(__file__).with_name("peer_loadgen.py")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "podium-tests" / f"{OFFICIAL_PACKAGE}-{OFFICIAL_VERSION}"


def _has_official(site: Path) -> bool:
    return any(site.glob("mlperf_loadgen*.so")) or any(site.glob("mlperf_loadgen*.pyd"))


def official_site() -> tuple[Path | None, str]:
    """A folder holding the official 6.0.17 module, installing it on first use; (None, why) if impossible."""
    named = os.environ.get("PODIUM_OFFICIAL_LOADGEN_SITE")
    if named:
        site = Path(named)
        return (site, "") if _has_official(site) else (None, f"PODIUM_OFFICIAL_LOADGEN_SITE={named} holds no "
                                                             "mlperf_loadgen module")
    site = _cache_root()
    if _has_official(site):
        return site, ""
    try:
        site.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return None, f"cannot make {site} for {OFFICIAL_PACKAGE} ({exc.strerror}); set PODIUM_OFFICIAL_LOADGEN_SITE"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
           f"{OFFICIAL_PACKAGE}=={OFFICIAL_VERSION}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot install {OFFICIAL_PACKAGE}=={OFFICIAL_VERSION}: {exc}"
    if proc.returncode != 0 or not _has_official(site):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"cannot install {OFFICIAL_PACKAGE}=={OFFICIAL_VERSION} ({tail[0]})"
    return site, ""


def run_official(site: Path, spec: dict, outdir: Path, timeout_s: float = 120) -> Path:
    """Run one test on the official LoadGen; its logs and ``issued.json`` land in ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    spec = {**spec, "outdir": str(outdir)}
    spec_path = outdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, str(PEER_SCRIPT), str(spec_path)], capture_output=True, text=True,
                          timeout=timeout_s, env=env, cwd=str(outdir))
    if proc.returncode != 0:
        raise AssertionError(f"official peer failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return outdir


#: runs peer_loadgen.py with ``import mlperf_loadgen`` answered by podium's drop-in
_DROPIN_SHIM = ("import runpy, sys; import podium.mlperf_loadgen as m; sys.modules['mlperf_loadgen'] = m; "
                "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def run_dropin(spec: dict, outdir: Path, round: str = "v6.1", timeout_s: float = 120) -> Path:
    """Run the very harness the official ran (``peer_loadgen.py``) on ``podium.mlperf_loadgen``."""
    outdir.mkdir(parents=True, exist_ok=True)
    spec = {**spec, "outdir": str(outdir)}
    spec_path = outdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PODIUM_ROUND"] = round
    proc = subprocess.run([sys.executable, "-c", _DROPIN_SHIM, str(PEER_SCRIPT), str(spec_path)],
                          capture_output=True, text=True, timeout=timeout_s, env=env, cwd=str(outdir))
    if proc.returncode != 0:
        raise AssertionError(f"drop-in peer failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return outdir
