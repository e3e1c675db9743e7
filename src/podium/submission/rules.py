"""The MLPerf Inference v2.1 submission rules, as data: models, scenarios per category, accuracy targets,
minimum sample counts, latency bounds, seeds, system-description fields and the file sets of a tree.

The facts are those of the official v2.1 submission checker (``tools/submission/submission-checker.py`` at
tag v2.1, spec submission.md §1-§3); the checker, packager and results table all read them from here.
"""

from __future__ import annotations

import re

ROUND = "v2.1"
DIVISIONS: tuple[str, ...] = ("closed", "open", "network")
#: Top-level folders the checker skips without complaint.
IGNORED_TOP_LEVEL = frozenset({".git", ".github", "assets"})
STATUSES: tuple[str, ...] = ("available", "preview", "rdi")
SYSTEM_TYPES: tuple[str, ...] = ("datacenter", "edge", "datacenter,edge", "edge,datacenter")
SCENARIOS: tuple[str, ...] = ("SingleStream", "MultiStream", "Server", "Offline")
SCENARIO_SPELLINGS = {s.lower(): s for s in SCENARIOS}

#: The official v2.1 model names (the benchmark folder names of closed and network submissions).
MODELS: tuple[str, ...] = ("resnet", "retinanet", "rnnt", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9",
                           "3d-unet-99", "3d-unet-99.9")
#: Other folder names the v2.1 checker maps to an official model (only those that map to a v2.1 model).
MODEL_ALIASES: dict[str, str] = {"resnet50": "resnet", "mobilenet": "resnet", "ssd-resnet34": "retinanet"}
#: mlperf.conf model name of each official model (for settings look-ups).
CONF_MODEL: dict[str, str] = {"resnet": "resnet50", "retinanet": "retinanet", "rnnt": "rnnt", "bert-99": "bert",
                              "bert-99.9": "bert", "dlrm-99": "dlrm", "dlrm-99.9": "dlrm", "3d-unet-99": "3d-unet",
                              "3d-unet-99.9": "3d-unet"}

_DC = {"resnet": ("Server", "Offline"), "retinanet": ("Server", "Offline"), "rnnt": ("Server", "Offline"),
       "bert-99": ("Server", "Offline"), "bert-99.9": ("Server", "Offline"), "dlrm-99": ("Server", "Offline"),
       "dlrm-99.9": ("Server", "Offline"), "3d-unet-99": ("Offline",), "3d-unet-99.9": ("Offline",)}
_EDGE = {"resnet": ("SingleStream", "MultiStream", "Offline"), "retinanet": ("SingleStream", "MultiStream", "Offline"),
         "rnnt": ("SingleStream", "Offline"), "bert-99": ("SingleStream", "Offline"),
         "3d-unet-99": ("SingleStream", "Offline"), "3d-unet-99.9": ("SingleStream", "Offline")}
_BOTH = {"resnet": SCENARIOS, "retinanet": SCENARIOS, "rnnt": ("SingleStream", "Server", "Offline"),
         "bert-99": ("SingleStream", "Server", "Offline"), "bert-99.9": ("Server", "Offline"),
         "dlrm-99": ("Server", "Offline"), "dlrm-99.9": ("Server", "Offline"),
         "3d-unet-99": ("SingleStream", "Offline"), "3d-unet-99.9": ("SingleStream", "Offline")}
#: Required scenarios per system type and model; v2.1 has no optional ones. A model missing from a
#: system type's table is not allowed in that category (bert-99.9 and dlrm on edge).
REQUIRED_SCENARIOS: dict[str, dict[str, tuple[str, ...]]] = {
    "datacenter": _DC, "edge": _EDGE, "datacenter,edge": _BOTH, "edge,datacenter": _BOTH}

#: Accuracy: (metric name, FP32 reference, required fraction) per model; target = reference x fraction.
ACCURACY_REFERENCE: dict[str, tuple[str, float, float]] = {
    "resnet": ("acc", 76.46, 0.99),
    "retinanet": ("mAP", 37.55, 0.99),
    "rnnt": ("WER", 100 - 7.452, 0.99),
    "bert-99": ("F1", 90.874, 0.99),
    "bert-99.9": ("F1", 90.874, 0.999),
    "dlrm-99": ("AUC", 80.25, 0.99),
    "dlrm-99.9": ("AUC", 80.25, 0.999),
    "3d-unet-99": ("DICE", 0.86170, 0.99),
    "3d-unet-99.9": ("DICE", 0.86170, 0.999),
}
#: The line each accuracy script prints, as the checker matches it (``re.match``: anchored at line start).
ACCURACY_PATTERNS: dict[str, re.Pattern[str]] = {
    "acc": re.compile(r"^accuracy=([\d\.]+).*"),
    "AUC": re.compile(r"^AUC=([\d\.]+).*"),
    "mAP": re.compile(r"^mAP=([\d\.]+).*"),
    "F1": re.compile(r"^{[\"\']exact_match[\"\']\:\s*[\d\.]+,\s*[\"\']f1[\"\']\:\s*([\d\.]+)}"),
    "WER": re.compile(r"Word Error Rate\:.*, accuracy=([0-9\.]+)%"),
    "DICE": re.compile(r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*"),
}
HASH_LINE = re.compile(r"^hash=([\w\d]+)$")

#: Minimum ``effective_performance_sample_count`` per model.
MIN_PERFORMANCE_SAMPLE_COUNT: dict[str, int] = {
    "resnet": 1024, "retinanet": 64, "rnnt": 2513, "bert-99": 10833, "bert-99.9": 10833, "dlrm-99": 204800,
    "dlrm-99.9": 204800, "3d-unet-99": 42, "3d-unet-99.9": 42}
#: Server latency bound (ns) per model; the Server run's ``effective_target_latency_ns`` must not exceed it.
SERVER_LATENCY_BOUND_NS: dict[str, int] = {
    "resnet": 15_000_000, "retinanet": 100_000_000, "rnnt": 1_000_000_000, "bert-99": 130_000_000,
    "bert-99.9": 130_000_000, "dlrm-99": 30_000_000, "dlrm-99.9": 30_000_000}
SEEDS: dict[str, int] = {"qsl_rng_seed": 14284205019438841327, "sample_index_rng_seed": 4163916728725999944,
                         "schedule_rng_seed": 299063814864929621}
TEST05_SEEDS: dict[str, int] = {"qsl_rng_seed": 313588358309856706, "sample_index_rng_seed": 471397156132239067,
                                "schedule_rng_seed": 413914573387865862}
MIN_DURATION_MS = 600_000
OFFLINE_MIN_SAMPLES_PER_QUERY = 24576
#: The only min-query rule still applied in v2.1 (the early-stopping scenarios are exempt).
OFFLINE_MIN_QUERY_COUNT = 1
EARLY_STOPPING_SCENARIOS = frozenset({"SingleStream", "MultiStream", "Server"})
#: The checker rejects accuracy logs larger than this many bytes (they must be truncated).
MAX_ACCURACY_LOG_SIZE = 10 * 1024

#: Detail-log key of each scenario's result, and the results table's unit.
RESULT_KEY: dict[str, str] = {"Offline": "result_samples_per_second", "Server": "result_scheduled_samples_per_sec",
                              "SingleStream": "early_stopping_latency_ss", "MultiStream": "early_stopping_latency_ms"}
RESULT_UNITS: dict[str, str] = {"SingleStream": "Latency (ms)", "MultiStream": "Latency (ms)",
                                "Offline": "Samples/s", "Server": "Queries/s"}
POWER_UNITS: dict[str, str] = {"SingleStream": "Joules", "MultiStream": "Joules", "Offline": "Watts",
                               "Server": "Watts"}
#: Detail-log keys every performance log must hold, and the extra ones per scenario.
REQUIRED_LOG_KEYS: tuple[str, ...] = (
    "result_validity", "effective_performance_sample_count", "effective_qsl_rng_seed",
    "effective_sample_index_rng_seed", "effective_schedule_rng_seed", "effective_scenario",
    "result_99.00_percentile_latency_ns", "result_mean_latency_ns", "effective_min_query_count",
    "effective_samples_per_query", "effective_min_duration_ms", "sut_name")
SCENARIO_LOG_KEYS: dict[str, tuple[str, ...]] = {
    "SingleStream": ("result_qps_without_loadgen_overhead", "early_stopping_met", "early_stopping_result"),
    "MultiStream": ("result_99.00_percentile_per_query_latency_ns", "result_mean_query_latency_ns",
                    "early_stopping_met", "early_stopping_result"),
    "Server": ("early_stopping_met", "early_stopping_result", "effective_target_latency_ns"),
    "Offline": (),
}

# ---- system description -------------------------------------------------------------------------------------
SYSTEM_FIELDS_BASE: tuple[str, ...] = (
    "division", "submitter", "status", "system_name", "number_of_nodes", "host_processor_model_name",
    "host_processors_per_node", "host_processor_core_count", "host_memory_capacity", "host_storage_capacity",
    "host_storage_type", "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
    "framework", "operating_system")
SYSTEM_FIELDS_SINCE_V1: tuple[str, ...] = (
    "system_type", "other_software_stack", "host_processor_frequency", "host_processor_caches",
    "host_memory_configuration", "host_processor_interconnect", "host_networking", "host_networking_topology",
    "accelerator_frequency", "accelerator_host_interconnect", "accelerator_interconnect",
    "accelerator_interconnect_topology", "accelerator_memory_configuration", "accelerator_on-chip_memories",
    "cooling", "hw_notes", "sw_notes")
#: Every field a v2.1 system description must hold.
SYSTEM_FIELDS_REQUIRED: tuple[str, ...] = SYSTEM_FIELDS_BASE + SYSTEM_FIELDS_SINCE_V1
#: Known, optional (power submissions) fields; any other key is "unknown" (a warning).
SYSTEM_FIELDS_POWER: tuple[str, ...] = (
    "power_management", "filesystem", "boot_firmware_version", "management_firmware_version", "other_hardware",
    "number_of_type_nics_installed", "nics_enabled_firmware", "nics_enabled_os", "nics_enabled_connected",
    "network_speed_mbit", "power_supply_quantity_and_rating_watts", "power_supply_details", "disk_drives",
    "disk_controllers")
IS_NETWORK = "is_network"
SYSTEM_FIELDS_NETWORK: tuple[str, ...] = (
    IS_NETWORK, "network_type", "network_media", "network_rate", "nic_loadgen", "number_nic_loadgen",
    "net_software_stack_loadgen", "network_protocol", "number_connections", "nic_sut", "number_nic_sut",
    "net_software_stack_sut", "network_topology")
NETWORK_SUT_NAME = "Network SUT"
#: Fields the summary CSV writes between quotes: they must be strings.
SYSTEM_STRING_FIELDS: tuple[str, ...] = ("host_processor_model_name", "accelerator_model_name", "framework",
                                         "operating_system", "system_name", "system_type")

#: Keys the measurements JSON (``<system>_<impl>_<scenario>.json``) must hold.
MEASUREMENTS_KEYS: tuple[str, ...] = ("input_data_types", "retraining", "starting_weights_filename",
                                      "weight_data_types", "weight_transformations")
MEASUREMENTS_FILES: tuple[str, ...] = ("mlperf.conf", "user.conf", "README.md")

# ---- file sets ----------------------------------------------------------------------------------------------
SUMMARY = "mlperf_log_summary.txt"
DETAIL = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
ACCURACY_TXT = "accuracy.txt"
TOLERATED_FILES = frozenset({"mlperf_log_trace.json", "results.json", ".gitkeep"})
PERFORMANCE_FILES = frozenset({SUMMARY, DETAIL})
PERFORMANCE_OPTIONAL = frozenset({ACCURACY_LOG})
ACCURACY_FILES = frozenset({SUMMARY, DETAIL, ACCURACY_TXT, ACCURACY_LOG})
POWER_RUN_FILES = frozenset({"spl.txt"})
POWER_FILES = frozenset({"client.json", "client.log", "ptd_logs.txt", "server.json", "server.log"})

#: Compliance tests per model (TEST04 only for resnet in v2.1).
_NO_TEST04 = frozenset({"rnnt", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9", "3d-unet-99", "3d-unet-99.9",
                        "retinanet"})


def compliance_tests(model: str) -> tuple[str, ...]:
    """The compliance tests the v2.1 checker asks of ``model`` (an official name)."""
    return ("TEST01", "TEST05") if model in _NO_TEST04 else ("TEST01", "TEST04", "TEST05")


def mlperf_model(name: str) -> str | None:
    """The official model a benchmark folder name stands for, or None.

    Official names and the known aliases map directly; other names are guessed from substrings the way the
    v2.1 checker guesses open-division names ("resnet50-int8" -> resnet, "bert-99.9-sparse" -> bert-99.9).
    """
    if name in MODELS:
        return name
    if name in MODEL_ALIASES:
        return MODEL_ALIASES[name]
    if any(s in name for s in ("ssdlite", "ssd-inception", "yolo", "ssd-mobilenet", "ssd-resnet50")):
        return None  # the checker's "ssd-small": not a v2.1 model
    if "mobilenet" in name or "efficientnet" in name or "resnet50" in name:
        return "resnet"
    if "rcnn" in name:
        return None
    if "bert-99.9" in name:
        return "bert-99.9"
    if "bert-99" in name:
        return "bert-99"
    return None


def accuracy_target(model: str) -> tuple[str, float]:
    """(metric name, threshold) of an official model."""
    metric, reference, fraction = ACCURACY_REFERENCE[model]
    return metric, reference * fraction


def required_scenarios(model: str, system_type: str) -> tuple[str, ...] | None:
    """Scenarios ``model`` needs on a ``system_type`` system; None when the model is not allowed there."""
    return REQUIRED_SCENARIOS.get(system_type, {}).get(model)


def scenario_name(folder: str) -> str:
    """The official spelling of a scenario folder name (the all-lower-case forms are mapped, as the checker
    does; any other spelling is kept and then fails the scenario checks)."""
    return SCENARIO_SPELLINGS.get(folder, folder)
