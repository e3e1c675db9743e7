"""Published MLPerf Inference v2.1 figures (the submitters' own statements) and putting a user's result beside
them, normalised per accelerator.

The figures ship in ``published_v2_1.json``: what each statement claims, with its qualifier ("at least" for
"K+"), and an accelerator count only where the statement ties the figure to one. Everything shown from it is
labelled as a published claim.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from typing import Any

from podium.errors import PodiumError

DATA_FILE = "published_v2_1.json"
CLAIM_LABEL = "PUBLISHED CLAIM"

#: Benchmark names (podium / submission spelling, and mlperf.conf model names) -> model family of the data.
MODEL_FAMILY: dict[str, str] = {
    "resnet": "resnet50", "resnet50": "resnet50", "retinanet": "retinanet", "rnnt": "rnnt", "bert": "bert",
    "bert-99": "bert", "bert-99.9": "bert", "dlrm": "dlrm", "dlrm-99": "dlrm", "dlrm-99.9": "dlrm",
    "3d-unet": "3d-unet", "3d-unet-99": "3d-unet", "3d-unet-99.9": "3d-unet",
}
#: The unit a scenario's headline is published in.
SCENARIO_UNIT: dict[str, str] = {"Offline": "samples/s", "Server": "queries/s", "SingleStream": "ms",
                                 "MultiStream": "ms"}
#: Units that scale with the number of accelerators (a latency does not).
RATE_UNITS = frozenset({"samples/s", "queries/s", "inferences/s"})


@dataclass(frozen=True)
class PublishedFigure:
    """One figure from one submitter's statement."""

    submitter: str
    system: str
    model: str
    value: float
    unit: str
    qualifier: str
    benchmark: str | None = None
    scenario: str | None = None
    division: str | None = None
    category: str | None = None
    accelerator: str | None = None
    accelerators: int | None = None
    note: str = ""

    @property
    def per_accelerator(self) -> float | None:
        """The figure divided by its accelerator count (rates only; None when no count is stated)."""
        if self.unit not in RATE_UNITS or not self.accelerators:
            return None
        return self.value / self.accelerators


def load_published() -> tuple[dict[str, Any], list[PublishedFigure]]:
    """(the data file's header: title, source, caveat; its figures)."""
    text = importlib.resources.files("podium.report").joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    fields = {f for f in PublishedFigure.__dataclass_fields__}
    figures = [PublishedFigure(**{k: v for k, v in e.items() if k in fields}) for e in data["entries"]]
    header = {k: data[k] for k in ("title", "source", "caveat")}
    return header, figures


def model_family(benchmark: str) -> str | None:
    """The model family of a benchmark name, or None when no published figure can be about it."""
    return MODEL_FAMILY.get(benchmark.lower())


def matching(figures: list[PublishedFigure], benchmark: str, scenario: str | None = None) -> list[PublishedFigure]:
    """Figures about the same model family (bert-99 and bert-99.9 alike: the table shows which), and the same
    scenario when given; figures whose scenario is not stated are kept only when both are rates."""
    family = model_family(benchmark)
    if family is None:
        return []
    out = []
    for f in figures:
        if f.model != family:
            continue
        if scenario is not None:
            unit = SCENARIO_UNIT.get(scenario)
            if f.scenario is not None and f.scenario != scenario:
                continue
            if f.scenario is None and not (unit in RATE_UNITS and f.unit in RATE_UNITS):
                continue
        out.append(f)
    return out


@dataclass
class Comparison:
    """A user's figure beside published ones."""

    benchmark: str
    scenario: str
    value: float
    unit: str
    accelerators: int | None
    figures: list[PublishedFigure]
    labels: list[str]

    @property
    def per_accelerator(self) -> float | None:
        if self.unit not in RATE_UNITS or not self.accelerators:
            return None
        return self.value / self.accelerators

    def ratio(self, f: PublishedFigure) -> float | None:
        """Yours / theirs per accelerator (rates), or theirs / yours for latencies (higher = yours better);
        None when it cannot be said."""
        if self.unit in RATE_UNITS and f.unit in RATE_UNITS:
            mine, theirs = self.per_accelerator, f.per_accelerator
            if mine is None or theirs is None or theirs == 0:
                return None
            return mine / theirs
        if self.unit == "ms" and f.unit == "ms" and self.value > 0:
            return f.value / self.value
        return None


def compare(benchmark: str, scenario: str, value: float, unit: str | None = None,
            accelerators: int | None = None, labels: list[str] | None = None) -> Comparison:
    """Put a result (``value`` in the scenario's published unit: samples/s, queries/s or ms) beside the
    published figures of the same model and scenario."""
    if scenario not in SCENARIO_UNIT:
        raise PodiumError(f"--scenario {scenario}: expected one of {', '.join(SCENARIO_UNIT)}")
    if model_family(benchmark) is None:
        known = ", ".join(sorted({k for k in MODEL_FAMILY if "-" in k or k in ("resnet", "rnnt", "retinanet")}))
        raise PodiumError(f"benchmark {benchmark}: no published MLPerf v2.1 figures for it (published: {known})")
    if accelerators is not None and accelerators < 0:
        raise PodiumError(f"--accelerators {accelerators}: expected a count >= 0")
    _, figures = load_published()
    return Comparison(benchmark, scenario, value, unit or SCENARIO_UNIT[scenario], accelerators,
                      matching(figures, benchmark, scenario), list(labels or []))


def run_value(scenario: str, metric: dict[str, Any]) -> float | None:
    """A podium result's headline in the published unit (latencies ns -> ms)."""
    v = metric.get("value")
    if not isinstance(v, (int, float)):
        return None
    if scenario in ("SingleStream", "MultiStream") or metric.get("unit") == "ns":
        return float(v) / 1e6
    return float(v)
