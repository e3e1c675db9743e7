"""SUT providers: the concrete systems under test a run can drive (see ``podium.suite.provider``).

``LocalProvider``: the benchmark's model on a backend of this machine, through the batching harness.
``RemoteProvider``: KServe v2 endpoints (``--sut-url``). ``OpenAIProvider``: OpenAI-compatible streaming
endpoints (``--sut-url openai+http://...``) for the LLM benchmarks. ``provider_for(request)`` picks one from a
``RunRequest``'s fields, the way ``podium run`` does.
"""

from __future__ import annotations

from podium.errors import PodiumError
from podium.llm.metrics import parse_slo
from podium.providers.local import LocalProvider
from podium.providers.openai_endpoints import OpenAIProvider
from podium.providers.remote import RemoteProvider
from podium.suite.provider import SutProvider
from podium.suite.runner import RunRequest


def provider_for(req: RunRequest) -> SutProvider:
    """The provider a ``RunRequest`` asks for: remote endpoints when it names any, else a local backend."""
    llm = [u.startswith("openai+") for u in req.sut_urls]
    if any(llm):
        if not all(llm):
            raise PodiumError("--sut-url: openai+ endpoints and KServe v2 endpoints cannot be mixed in one run")
        return OpenAIProvider(urls=tuple(req.sut_urls), api=req.sut_api, model=req.sut_model,
                              timeout_s=req.sut_timeout_s, max_in_flight=req.sut_max_in_flight,
                              api_key_env=req.sut_api_key_env, extra_body=dict(req.sut_extra_body),
                              slo=parse_slo(req.sut_slo), processes=req.sut_client_processes)
    if req.sut_urls:
        return RemoteProvider(urls=tuple(req.sut_urls), policy=req.sut_policy, send=req.sut_send,
                              timeout_s=req.sut_timeout_s, token=req.sut_token, model=req.sut_model,
                              outputs=tuple(req.sut_outputs), postprocess=req.sut_postprocess,
                              request_samples=req.sut_request_samples, concurrency=req.sut_concurrency,
                              ca_cert=req.sut_ca_cert)
    return LocalProvider(backend=req.backend, backend_options=req.backend_options, model_path=req.model_path,
                         batch_size=req.batch_size, max_wait_us=req.max_wait_us, workers=req.workers)


__all__ = ["LocalProvider", "OpenAIProvider", "RemoteProvider", "provider_for"]
