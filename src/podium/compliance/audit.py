"""The audit.config files of the v2.1 compliance tests (TEST01, TEST04, TEST05) and which tests a benchmark needs.

The settings are those of the official ``compliance/nvidia`` tree at tag v2.1 (spec submission.md §4,
loadgen.md §7):

* TEST01 (one file per model): ``mode = 2`` (PerformanceOnly), ``accuracy_log_rng_seed = 720381539243781796``
  and ``accuracy_log_sampling_target`` = 4096 for resnet50, bert, dlrm and rnnt, 256 for retinanet, 64 for
  3d-unet, all under ``*.*``.
* TEST04 (one file): for each scenario ``mode = 2``, ``performance_issue_unique = 0``,
  ``performance_issue_same = 1``, ``performance_issue_same_index = 3``, under ``*.<Scenario>``.
* TEST05 (one file): ``*.*.mode = 2`` and the alternate seeds qsl 313588358309856706, sample_index
  471397156132239067, schedule 413914573387865862.

The LoadGen reads audit.config with model ``*``, so every key names model ``*``.
"""

from __future__ import annotations

import os
from pathlib import Path

from podium.errors import PodiumError
from podium.loadgen.config import conf_model_name
from podium.loadgen.rules import current_round, round_rules

TEST01 = "TEST01"
TEST04 = "TEST04"
TEST05 = "TEST05"
#: Every compliance test podium runs, in the order the official checker lists them.
TESTS: tuple[str, ...] = (TEST01, TEST04, TEST05)

#: TEST01's accuracy-log sampling seed (all models).
TEST01_ACCURACY_LOG_RNG_SEED = 720381539243781796
#: TEST01's ``accuracy_log_sampling_target`` per mlperf.conf model name (official v2.1 files).
TEST01_SAMPLING_TARGETS: dict[str, int] = {
    "resnet50": 4096,
    "retinanet": 256,
    "bert": 4096,
    "dlrm": 4096,
    "rnnt": 4096,
    "3d-unet": 64,
}
#: TEST04 repeats this loaded-set position for the whole run.
TEST04_SAME_INDEX = 3
#: The alternate seeds of TEST05; the official checker expects exactly these in TEST05 detail logs.
TEST05_SEEDS: dict[str, int] = {
    "qsl_rng_seed": 313588358309856706,
    "sample_index_rng_seed": 471397156132239067,
    "schedule_rng_seed": 413914573387865862,
}

#: Benchmarks (submission names and mlperf.conf model names) for which the v2.1 checker does not ask TEST04.
_NO_TEST04 = frozenset({"retinanet", "rnnt", "bert", "dlrm", "3d-unet"})

_HEADER = (
    "# {test} audit.config for MLPerf Inference v2.1 ({what}), written by podium.\n"
    "# Keys are model.scenario.setting; LoadGen reads this file with model '*'.\n"
    "# mode: 0 = SubmissionRun, 1 = AccuracyOnly, 2 = PerformanceOnly, 3 = FindPeakPerformance\n"
)


def _test01_text(model: str, target: int) -> str:
    return (_HEADER.format(test=TEST01, what=f"model {model}")
            + "*.*.mode = 2\n"
            + f"*.*.accuracy_log_rng_seed = {TEST01_ACCURACY_LOG_RNG_SEED}\n"
            + f"*.*.accuracy_log_sampling_target = {target}\n")


def _test04_text() -> str:
    lines = [_HEADER.format(test=TEST04, what="all models")]
    for scenario in ("MultiStream", "Offline", "SingleStream", "Server"):
        lines.append(f"*.{scenario}.mode = 2\n"
                     f"*.{scenario}.performance_issue_unique = 0\n"
                     f"*.{scenario}.performance_issue_same = 1\n"
                     f"*.{scenario}.performance_issue_same_index = {TEST04_SAME_INDEX}\n")
    return "".join(lines)


def _test05_text() -> str:
    return (_HEADER.format(test=TEST05, what="all models")
            + "*.*.mode = 2\n"
            + "".join(f"*.*.{name} = {value}\n" for name, value in TEST05_SEEDS.items()))


#: The audit.config texts, keyed by their path in the official ``compliance/nvidia`` tree
#: (``TEST01/<model>/audit.config``, ``TEST04/audit.config``, ``TEST05/audit.config``).
AUDIT_CONFIGS: dict[str, str] = {
    **{f"{TEST01}/{model}/audit.config": _test01_text(model, target)
       for model, target in TEST01_SAMPLING_TARGETS.items()},
    f"{TEST04}/audit.config": _test04_text(),
    f"{TEST05}/audit.config": _test05_text(),
}


class ComplianceError(PodiumError):
    """A compliance test cannot run or be verified: unknown test or model, missing or malformed log files."""


def check_test(test: str, round: str | None = None) -> str:
    """``test`` in its official spelling (``TEST01``, ``TEST04``, ``TEST05``); raises for any other name, and
    for a test the round does not have (TEST05 ended with v5.0). ``round``: default the current round."""
    t = str(test).upper()
    rules = round_rules(round if round is not None else current_round())
    if t in ("TEST06", "TEST07", "TEST08", "TEST09") and rules.current:
        raise ComplianceError(f"compliance test {t}: a round {rules.name} test of the LLM/DLRMv3 benchmarks, which "
                              "podium does not have yet; expected TEST01 or TEST04")
    if t not in TESTS:
        raise ComplianceError(f"compliance test {test!r}: unknown; expected one of {', '.join(TESTS)}")
    if t not in rules.compliance_tests:
        raise ComplianceError(f"compliance test {t}: not a round {rules.name} test ({t} ended with v5.0); "
                              f"round {rules.name} has {', '.join(x for x in rules.compliance_tests if x in TESTS)}")
    return t


def sampling_target_for(model: str) -> int:
    """TEST01's ``accuracy_log_sampling_target`` for a benchmark or mlperf.conf model name."""
    name = conf_model_name(model)
    try:
        return TEST01_SAMPLING_TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(TEST01_SAMPLING_TARGETS))
        raise ComplianceError(f"TEST01 for model {model!r}: no official accuracy_log_sampling_target (known: "
                              f"{known}); pass sampling_target= explicitly") from None


def audit_config_text(test: str, model: str | None = None, sampling_target: int | None = None) -> str:
    """The audit.config text of ``test``. TEST01 needs ``model`` (its sampling target depends on it) unless
    ``sampling_target`` is given, which then replaces the official per-model value."""
    test = check_test(test)
    if test == TEST01:
        if sampling_target is not None:
            if int(sampling_target) <= 0:
                raise ComplianceError(f"TEST01 sampling_target {sampling_target!r}: expected a positive integer")
            return _test01_text(conf_model_name(model) if model else "custom", int(sampling_target))
        if model is None:
            raise ComplianceError("TEST01: the audit.config depends on the model; pass model=")
        return _test01_text(conf_model_name(model), sampling_target_for(model))
    return AUDIT_CONFIGS[f"{test}/audit.config"]


def write_audit_config(test: str, path: str | os.PathLike[str], model: str | None = None,
                       sampling_target: int | None = None) -> Path:
    """Write ``test``'s audit.config to ``path`` (a file path, or a folder to hold ``audit.config``)."""
    p = Path(path)
    if p.is_dir():
        p = p / "audit.config"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(audit_config_text(test, model, sampling_target), encoding="utf-8")
    return p


#: LoadGen 6.0.x rounds: the checker's models_TEST04 (of podium's benchmarks, resnet; digits is run like it)
_TEST04_CURRENT = frozenset({"resnet50", "digits"})


def required_tests(benchmark: str, round: str | None = None) -> tuple[str, ...]:
    """The compliance tests the round's checker requires for ``benchmark`` (default: the current round).

    v2.1: TEST01 and TEST05 always, TEST04 too except for retinanet, rnnt, bert, dlrm and 3d-unet (any
    accuracy class); unknown (open-division) benchmarks get all three. v6.0/v6.1 (``models_TEST01`` and
    ``models_TEST04`` of the checker's constants.py): TEST01 for resnet, retinanet, bert and 3d-unet, TEST04
    for resnet only; unknown benchmarks get both.
    """
    rules = round_rules(round if round is not None else current_round())
    if rules.current:
        known = {"resnet50", "retinanet", "bert", "3d-unet", "digits"}
        model = conf_model_name(benchmark)
        if model in known and model not in _TEST04_CURRENT:
            return (TEST01,)
        return (TEST01, TEST04)
    if conf_model_name(benchmark) in _NO_TEST04:
        return (TEST01, TEST05)
    return TESTS
