"""The network SUT provider: the system under test behind KServe v2 endpoints (``podium run --sut-url``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.benchmarks.base import Benchmark
from podium.loadgen.record import RecordContributor
from podium.loadgen.settings import Scenario
from podium.loadgen.types import QuerySampleLibrary
from podium.network import NetworkRecorder, calibrate_remote, make_client_sut
from podium.network.client import NetworkSUT
from podium.suite.calibrate import Calibration
from podium.suite.provider import Stage


class RemoteSession:
    """A ``NetworkSUT`` over the endpoints, with its per-test recorder (a ``SutSession``)."""

    def __init__(self, sut: NetworkSUT, urls: tuple[str, ...]) -> None:
        self.sut = sut
        self.recorder = NetworkRecorder(sut)
        self.contributors: list[RecordContributor] = [self.recorder]
        self.labels = [f"network SUT: {', '.join(urls)} ({sut.info['send']} inputs, post-processing on the "
                       f"{sut.info['postprocessing_on']}); latency includes the network"]

    def calibrate(self, qsl: QuerySampleLibrary, scenario: Scenario) -> Calibration:
        sps, lat1, batch = calibrate_remote(self.sut, qsl)
        return Calibration(samples_per_second=sps, batch1_latency_s=lat1, batch_size=batch)

    def record_info(self, stage: Stage) -> dict[str, Any]:
        return {"network": self.sut.info, "backend": {"name": "remote", "servers": self.sut.info["servers"]}}

    def unusable(self) -> str | None:
        if not (self.sut.aborted or self.sut.failed_requests):
            return None
        first = self.sut.errors[0] if self.sut.errors else None
        return (f"the network SUT failed ({self.sut.failed_requests} requests failed"
                + (f"; first: {first}" if first else "") + ")")

    def accuracy_spoiled(self) -> str | None:
        if not self.sut.failed_requests:
            return None
        return (f"{self.sut.failed_requests} network requests failed; samples answered empty, so the score "
                "does not count")

    def close(self) -> list[str]:
        self.sut.close()
        return list(self.recorder.notes)


@dataclass
class RemoteProvider:
    """A ``SutProvider`` for KServe v2 endpoints; the fields are ``podium run``'s ``--sut-*`` options."""

    urls: tuple[str, ...]
    policy: str = "round_robin"
    send: str = "preprocessed"
    timeout_s: float = 30.0
    token: str | None = None
    model: str | None = None
    outputs: tuple[str, ...] = ()
    postprocess: str = "auto"
    request_samples: int | None = None
    concurrency: int = 8
    ca_cert: str | None = None
    kind: str = field(default="network", init=False)

    def load(self, benchmark: Benchmark, stage: Stage) -> None:
        stage("connecting")  # nothing loads here: the model is the servers'

    def open(self, benchmark: Benchmark, qsl: QuerySampleLibrary, scenario: Scenario,
             stage: Stage) -> RemoteSession:
        sut = make_client_sut(
            list(self.urls), benchmark, qsl, scenario.value, policy=self.policy, send=self.send,
            timeout_s=self.timeout_s, model_name=self.model, token=self.token, output_names=list(self.outputs) or None,
            postprocess=self.postprocess, request_samples=self.request_samples, concurrency=self.concurrency,
            ca_cert=self.ca_cert)
        return RemoteSession(sut, self.urls)
