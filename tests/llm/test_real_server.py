"""A real OpenAI-compatible server podium did not write: ``transformers serve`` (Hugging Face transformers
5.25, its FastAPI server) on a tiny random-weight Llama built here (``tiny_hf_model.py``). A short
SingleStream run and a Server run with token latencies end VALID.

transformers' serving extra pins newer FastAPI/Starlette than the KServe peers of the dev extra, so the server
runs from its own environment: ``PODIUM_TRANSFORMERS_PYTHON`` names its Python (``.ci/run`` makes
``.venv-tf`` with ``pip install torch==2.13.0 "transformers[serving]==5.25.0"``); without one the test skips.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from podium.providers import provider_for
from podium.suite import RunRequest, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
PY = os.environ.get("PODIUM_TRANSFORMERS_PYTHON") or str(ROOT / ".venv-tf" / "bin" / "python")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not Path(PY).is_file(), reason="set PODIUM_TRANSFORMERS_PYTHON to a Python with torch and transformers[serving]")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = tmp_path_factory.mktemp("tiny-llama") / "model"
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    # one interpreter builds the model and serves it: torch and transformers import once
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import tiny_hf_model; "
            f"from pathlib import Path; tiny_hf_model.build(Path({str(model)!r})); "
            "from transformers.cli.transformers import main; "
            f"sys.argv = ['transformers', 'serve', {str(model)!r}, '--host', '127.0.0.1', '--port', '{port}', "
            "'--device', 'cpu']; main()")
    log = open(model.parent / "serve.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen([PY, "-c", code], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 180
        while time.monotonic() < end:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {(model.parent / 'serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not answer in 180 s")
        yield f"openai+{url}", model
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _run(tmp_path: Path, url: str, model: Path, scenario: str, **kw):
    req = RunRequest(benchmark="llm", scenario=scenario, sut_urls=(url,), output=str(tmp_path / "out"), round="v6.1",
                     benchmark_options={"num_prompts": 64, "input_len": "8", "output_len": "3",
                                        "tokenizer": str(model / "tokenizer.json")},
                     sut_timeout_s=30.0, completion_timeout_s=60.0, **kw)
    return run_benchmark(req, provider=provider_for(req))


def test_singlestream_and_server_with_token_latencies_end_valid(server, tmp_path):
    url, model = server
    ss = _run(tmp_path / "ss", url, model, "SingleStream", duration_s=3.0)
    perf = ss.performance.performance
    assert ss.performance.valid, perf.invalid_reasons
    assert perf.tokens is not None and perf.tokens.first_token_percentiles[0.5] > 0
    rec = json.loads((ss.output / "performance" / "podium" / "podium_result.json").read_text())["llm"]
    assert rec["failed_requests"] == 0 and rec["token_count_source"] == "tokenizer"
    # the early stopping of a Server run with token latencies needs about 460 queries at the 99th percentile
    sv = _run(tmp_path / "sv", url, model, "Server", duration_s=1.0, target_qps=40.0, query_count=470)
    assert sv.performance.valid, sv.performance.performance.invalid_reasons
    assert sv.performance.performance.tokens.tpot_percentiles[0.99] < 100e6
