"""Harnesses: SUTs that run a backend for the LoadGen engine (batching, worker pools).

``BackendSUT(backend, qsl, postprocess, scenario_hint=...)`` is the standard one.
"""

from podium.harness.backend_sut import BackendSUT, BatchSource, InferenceBackend
from podium.harness.batching import SCENARIO_POLICIES, BatchingPolicy, policy_for

__all__ = ["SCENARIO_POLICIES", "BackendSUT", "BatchSource", "BatchingPolicy", "InferenceBackend", "policy_for"]
