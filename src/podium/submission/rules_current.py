"""The submission rules of the current rounds (v6.0, v6.1), as data: the tree layout, models, scenarios per
category, accuracy targets, sample counts, dataset sizes, latency bounds, compliance tests, system-description
fields and the results table of each round.

The facts are those of the official checker package ``tools/submission/submission_checker`` of
github.com/mlcommons/inference at commit d6147c7e ("Increment version to 6.0.17", the v6.1 checker; its
``constants.py`` holds the "v6.0" and "v6.1" tables side by side). Only the benchmarks podium runs (and the
token-latency LLM names the checker knows) are carried over; the LLM tables come with the LLM benchmarks.

The tree of these rounds differs from v2.1's: there is no ``measurements/`` or ``compliance/`` folder, each
``results/<system>/<benchmark>/<scenario>`` holds its ``measurements.json``, ``user.conf``, ``README.md``
(and optionally ``mlperf.conf``) and its compliance folders ``TEST01``/``TEST04``; the code pointer is
``src/<benchmark>``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

from podium.loadgen import rules as lgrules
from podium.submission import rules as v21

DIVISIONS = v21.DIVISIONS
STATUSES = v21.STATUSES
SYSTEM_TYPES = v21.SYSTEM_TYPES
SCENARIOS: tuple[str, ...] = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")
SCENARIO_SPELLINGS = {s.lower(): s for s in SCENARIOS}
#: The checker's early-stopping scenarios (their min query count is not checked).
EARLY_STOPPING_SCENARIOS = frozenset({"Server", "SingleStream", "MultiStream"})
MODEL_ALIASES: dict[str, str] = {"ssd-resnet34": "retinanet", "resnet50": "resnet"}

#: accuracy.txt line of each metric, as the checker matches it (``re.match``)
ACCURACY_PATTERNS: dict[str, re.Pattern[str]] = {
    "acc": re.compile(r"^(?:\{\"accuracy|accuracy)[\": ]*=?\s*([\d\.]+).*"),
    "mAP": re.compile(r".*(?:mAP=|'Total':)\s*([\d.]+)"),
    "F1": re.compile(r"^{[\"\']exact_match[\"\']\:\s*[\d\.]+,\s*[\"\']f1[\"\']\:\s*([\d\.]+)}"),
    "DICE": re.compile(r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*"),
}
HASH_LINE = v21.HASH_LINE

# ---- per model (both rounds; v6.1 dropped retinanet) ---------------------------------------------------------
ACCURACY_TARGET: dict[str, tuple[str, float]] = {
    "resnet": ("acc", 76.46 * 0.99), "retinanet": ("mAP", 37.55 * 0.99), "bert-99": ("F1", 90.874 * 0.99),
    "bert-99.9": ("F1", 90.874 * 0.999), "3d-unet-99": ("DICE", 0.86170 * 0.99),
    "3d-unet-99.9": ("DICE", 0.86170 * 0.999)}
PERFORMANCE_SAMPLE_COUNT: dict[str, int] = {"resnet": 1024, "retinanet": 64, "bert-99": 10833, "bert-99.9": 10833,
                                            "3d-unet-99": 43, "3d-unet-99.9": 43}
#: The accuracy run must cover exactly this many samples (``effective_accuracy_sample_count``).
DATASET_SIZE: dict[str, int] = {"resnet": 50000, "retinanet": 24781, "bert-99": 10833, "bert-99.9": 10833,
                                "3d-unet-99": 43, "3d-unet-99.9": 43}
LATENCY_CONSTRAINT_NS: dict[str, dict[str, int]] = {"resnet": {"Server": 15_000_000},
                                                    "retinanet": {"Server": 100_000_000}}
MIN_QUERIES: dict[str, dict[str, int]] = {
    "resnet": {"SingleStream": 1024, "MultiStream": 270336, "Server": 270336, "Offline": 1},
    "retinanet": {"SingleStream": 1024, "MultiStream": 270336, "Server": 270336, "Offline": 1},
    "bert-99": {"SingleStream": 1024, "Offline": 1}, "bert-99.9": {"SingleStream": 1024, "Offline": 1},
    "3d-unet-99": {"SingleStream": 1024, "Offline": 1}, "3d-unet-99.9": {"SingleStream": 1024, "Offline": 1}}
#: Offline samples per query a closed run needs (the checker's table "since v4")
OFFLINE_MIN_SPQ: dict[str, int] = {"resnet": 24576, "retinanet": 24576, "bert-99": 10833, "bert-99.9": 10833,
                                   "3d-unet-99": 43, "3d-unet-99.9": 43}
MIN_DURATION_MS = 600_000
MAX_ACCURACY_LOG_SIZE = 10 * 1024
RESULT_KEY: dict[str, str] = {"Offline": "result_samples_per_second", "SingleStream": "early_stopping_latency_ss",
                              "MultiStream": "early_stopping_latency_ms",
                              "Server": "result_completed_samples_per_sec",
                              "Interactive": "result_completed_samples_per_sec"}
RESULT_UNITS: dict[str, str] = {"SingleStream": "Latency (ms)", "MultiStream": "Latency (ms)",
                                "Offline": "Samples/s", "Server": "Queries/s", "Interactive": "Queries/s"}
POWER_UNITS = v21.POWER_UNITS

# ---- files ---------------------------------------------------------------------------------------------------
SUMMARY, DETAIL, ACCURACY_LOG, ACCURACY_TXT = v21.SUMMARY, v21.DETAIL, v21.ACCURACY_LOG, v21.ACCURACY_TXT
PERFORMANCE_FILES = v21.PERFORMANCE_FILES
PERFORMANCE_OPTIONAL = v21.PERFORMANCE_OPTIONAL
ACCURACY_FILES = v21.ACCURACY_FILES
MEASUREMENTS_JSON = "measurements.json"
#: Files every scenario folder must hold, non-empty (mlperf.conf is optional)
MEASURE_FILES: tuple[str, ...] = ("user.conf", "README.md")
MEASUREMENTS_KEYS = v21.MEASUREMENTS_KEYS
COMPLIANCE_PERF_FILES = frozenset({SUMMARY, DETAIL})
TEST01_ACC_FILES = frozenset({ACCURACY_LOG, ACCURACY_TXT, "baseline_accuracy.txt", "compliance_accuracy.txt"})
SRC_FOLDER = "src"

# ---- system description --------------------------------------------------------------------------------------
SYSTEM_FIELDS_REQUIRED: tuple[str, ...] = v21.SYSTEM_FIELDS_REQUIRED + ("host_network_card_count",
                                                                        "system_type_detail")
#: Required fields that must also be non-empty
SYSTEM_FIELDS_MEANINGFUL: tuple[str, ...] = (
    "division", "submitter", "system_type", "status", "system_name", "number_of_nodes", "host_processor_model_name",
    "host_processors_per_node", "host_processor_core_count", "host_memory_capacity", "host_memory_configuration",
    "host_storage_capacity", "host_storage_type", "host_networking", "host_network_card_count",
    "host_networking_topology", "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
    "accelerator_host_interconnect", "accelerator_memory_configuration", "accelerator_interconnect", "cooling",
    "framework", "operating_system", "other_software_stack")
SYSTEM_FIELDS_POWER: tuple[str, ...] = v21.SYSTEM_FIELDS_POWER + ("system_power_only",)
IS_NETWORK = v21.IS_NETWORK
SYSTEM_FIELDS_NETWORK = v21.SYSTEM_FIELDS_NETWORK
NETWORK_SUT_NAME = v21.NETWORK_SUT_NAME

#: The summary CSV's columns (every value written between quotes)
CSV_HEADER: tuple[str, ...] = (
    "Organization", "Availability", "Division", "SystemType", "SystemName", "Platform", "Model", "MlperfModel",
    "Scenario", "Result", "Accuracy", "number_of_nodes", "host_processor_model_name", "host_processors_per_node",
    "host_processor_core_count", "accelerator_model_name", "accelerators_per_node", "total_accelerators",
    "Location", "framework", "operating_system", "notes", "compliance", "errors", "version", "inferred",
    "has_power", "Units", "weight_data_types", "design_power_watts", "PrivateID")


@dataclass(frozen=True)
class CurrentTreeRules:
    """One current round's checker tables (what differs between v6.0 and v6.1)."""

    name: str
    models: tuple[str, ...]
    required: dict[str, dict[str, tuple[str, ...]]]
    #: models with no required scenario in a category but allowed there (any scenario of theirs)
    optional: dict[str, tuple[str, ...]]
    compliance: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: podium's own benchmarks this tree holds as practice results (``with_practice``); empty for a submission
    practice: tuple["PracticeBenchmark", ...] = ()

    def with_practice(self, benchmarks: "tuple[PracticeBenchmark, ...]") -> "CurrentTreeRules":
        """These rules for a practice tree: ``benchmarks`` accepted beside the round's, short runs warned of."""
        return dataclasses.replace(self, practice=tuple(benchmarks))

    def practice_benchmark(self, model: str) -> "PracticeBenchmark | None":
        return next((b for b in self.practice if b.name == model), None)

    def accuracy_target(self, model: str) -> tuple[str, float]:
        """The checker's accuracy metric (an ``ACCURACY_PATTERNS`` key) and target of ``model``."""
        pb = self.practice_benchmark(model)
        return (pb.metric, pb.target) if pb is not None else ACCURACY_TARGET[model]

    def dataset_size(self, model: str) -> int | None:
        """Samples the accuracy run of ``model`` must cover (None: not checked)."""
        pb = self.practice_benchmark(model)
        return pb.dataset_size if pb is not None else DATASET_SIZE.get(model)

    @functools.cached_property
    def seeds(self) -> dict[str, int]:
        """The RNG seeds the round's mlperf.conf sets (the checker compares each log with them)."""
        from podium.loadgen import config as lgconfig

        s = lgconfig.load_settings("resnet50", "Offline", round=self.name)
        return {"qsl_rng_seed": s.qsl_rng_seed, "sample_index_rng_seed": s.sample_index_rng_seed,
                "schedule_rng_seed": s.schedule_rng_seed}

    def mlperf_model(self, name: str) -> str | None:
        """The official model a benchmark folder stands for (official names and the checker's aliases)."""
        name = MODEL_ALIASES.get(name, name)
        return name if name in self.models or self.practice_benchmark(name) is not None else None

    def required_scenarios(self, model: str, system_type: str) -> tuple[str, ...] | None:
        """Scenarios ``model`` needs on a ``system_type`` system: () for an optional model (any scenario it
        has), None when the model is not allowed in that category."""
        key = system_type if system_type in ("datacenter", "edge") else "datacenter-edge"
        if self.practice_benchmark(model) is not None:
            return PRACTICE_SCENARIOS[key]
        req = self.required.get(key, {}).get(model)
        if req is not None:
            return req
        return () if model in self.optional.get(key, ()) else None

    def compliance_tests(self, model: str) -> tuple[str, ...]:
        """The compliance tests the checker asks of ``model``."""
        return tuple(t for t, models in self.compliance.items() if model in models)


# ---- practice trees ------------------------------------------------------------------------------------------
# A practice tree is podium's, not MLCommons': the round's layout and rules over runs that cannot be submitted
# by nature (podium's own benchmarks such as digits, short runs), so that a campaign can rehearse the whole
# path to a submission in minutes. Every output says it is not an MLPerf submission.


@dataclass(frozen=True)
class PracticeBenchmark:
    """A podium benchmark in a practice tree, with the accuracy rules its own runs declared."""

    name: str
    #: the ``ACCURACY_PATTERNS`` key its accuracy.txt matches
    metric: str
    target: float
    dataset_size: int | None


#: what a practice benchmark must run in each category: those of a vision model (resnet) in the round
PRACTICE_SCENARIOS: dict[str, tuple[str, ...]] = {
    "edge": ("SingleStream", "MultiStream", "Offline"), "datacenter": ("Server", "Offline"),
    "datacenter-edge": ("SingleStream", "MultiStream", "Offline", "Server")}
#: checker rules a practice tree reports as warnings (a short run breaks them by design), with the note
PRACTICE_RELAXED: dict[str, str] = {**{rule: "practice tree: short run" for rule in
                                       ("duration", "sample-count", "early-stopping")},
                                    "to-fill": "practice tree: fill it in for a submission"}


_LLM_OPTIONAL_DC = ("llama2-70b-99", "llama2-70b-99.9", "llama3.1-8b", "deepseek-r1", "gpt-oss-120b")
_EDGE: dict[str, tuple[str, ...]] = {"resnet": ("SingleStream", "MultiStream", "Offline"), "bert-99": ("SingleStream", "Offline"),
         "bert-99.9": ("SingleStream", "Offline"), "3d-unet-99": ("SingleStream", "Offline"),
         "3d-unet-99.9": ("SingleStream", "Offline")}
_BOTH: dict[str, tuple[str, ...]] = {"resnet": ("SingleStream", "MultiStream", "Offline", "Server"), "bert-99": ("SingleStream", "Offline"),
         "bert-99.9": ("SingleStream", "Offline"), "3d-unet-99": ("SingleStream", "Offline"),
         "3d-unet-99.9": ("SingleStream", "Offline")}
_DC: dict[str, tuple[str, ...]] = {"3d-unet-99": ("Offline",), "3d-unet-99.9": ("Offline",)}

V6_0 = CurrentTreeRules(
    name="v6.0",
    models=("resnet", "retinanet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9"),
    required={"datacenter": _DC, "edge": _EDGE,
              "datacenter-edge": {**_BOTH, "retinanet": ("SingleStream", "Offline", "MultiStream", "Server")}},
    optional={"datacenter": _LLM_OPTIONAL_DC + ("llama3.1-405b",), "edge": (),
              "datacenter-edge": _LLM_OPTIONAL_DC + ("llama3.1-405b", "qwen3-vl-235b-a22b")},
    compliance={"TEST01": ("resnet", "retinanet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9"),
                "TEST04": ("resnet",)},
)
V6_1 = CurrentTreeRules(
    name="v6.1",
    models=("resnet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9"),
    required={"datacenter": _DC, "edge": _EDGE, "datacenter-edge": _BOTH},
    optional={"datacenter": _LLM_OPTIONAL_DC, "edge": (), "datacenter-edge": _LLM_OPTIONAL_DC},
    compliance={"TEST01": ("resnet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9"),
                "TEST04": ("resnet",)},
)
TREE_RULES: dict[str, CurrentTreeRules] = {r.name: r for r in (V6_0, V6_1)}


def tree_rules(round_name: str) -> CurrentTreeRules:
    """The checker tables of current round ``round_name`` (``v6.0``, ``v6.1``)."""
    lgrules.round_rules(round_name)  # an unknown round: its one-line error
    if round_name not in TREE_RULES:
        from podium.errors import PodiumError

        raise PodiumError(f"round {round_name}: not a current round ({', '.join(TREE_RULES)}); its tree is "
                          "podium.submission.rules'")
    return TREE_RULES[round_name]


def scenario_name(folder: str) -> str:
    """The official spelling of a scenario folder (lower-case forms mapped, as the checker does)."""
    return SCENARIO_SPELLINGS.get(folder.lower(), folder)
