"""The campaign as plain dataclasses (what ``schema.load_campaign`` builds from the YAML file)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES: tuple[str, ...] = ("performance", "accuracy", "compliance")
SCENARIOS: tuple[str, ...] = ("SingleStream", "MultiStream", "Server", "Offline")


@dataclass
class RunSettings:
    """How long and how hard each run goes (``None``: the run's default)."""

    #: short run: min duration in seconds (a valid MLPerf run needs ``full: true``)
    duration: float | None = None
    full: bool = False
    query_count: int | None = None
    target_qps: float | None = None
    expected_qps: float | None = None
    expected_latency_ms: float | None = None
    latency_bound_ms: float | None = None
    find_peak: bool = False
    batch_size: int | None = None
    max_wait_us: int | None = None
    workers: int | None = None
    completion_timeout: float | None = None
    synthetic: bool = False

    @property
    def duration_s(self) -> float | None:
        """The RunRequest's ``duration_s``: None for a full run, else the short duration (default 5 s)."""
        if self.full:
            return None
        return self.duration if self.duration is not None else 5.0

    @property
    def short(self) -> bool:
        return not self.full


@dataclass
class BackendSpec:
    """A backend and its options; ``label`` names it in run ids (``onnxruntime-intra_op_threads1``)."""

    backend: str = "onnxruntime"
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        opts = "-".join(f"{k}{v}" for k, v in sorted(self.options.items()))
        return safe_id(f"{self.backend}-{opts}" if opts else self.backend)


@dataclass
class RunSpec:
    """One cell of the matrix: a benchmark, a scenario, a backend setting."""

    benchmark: str
    scenario: str
    backend: BackendSpec
    settings: RunSettings
    modes: tuple[str, ...]
    model_path: str | None = None
    data_dir: str | None = None
    power: str | None = None
    #: where in the campaign file it was declared ("campaign.yaml:14")
    where: str = ""

    @property
    def run_id(self) -> str:
        return safe_id(f"{self.benchmark}-{self.scenario}-{self.backend.label}")

    @property
    def short(self) -> bool:
        return self.settings.short


@dataclass
class SystemSpec:
    """The system under test: its name (the tree's system id) and, optionally, its description JSON."""

    name: str
    description: str | None = None
    status: str | None = None


@dataclass
class Campaign:
    """A whole campaign file."""

    path: Path
    system: SystemSpec
    division: str
    category: str
    round: str
    submitter: str
    output: Path
    runs: list[RunSpec]
    measurements: str | None = None

    @property
    def state_path(self) -> Path:
        return self.output / "campaign-state.json"

    @property
    def runs_root(self) -> Path:
        return self.output / "runs"


def safe_id(text: str) -> str:
    """Letters, digits, '.', '_' and '-' only (it names folders)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"
