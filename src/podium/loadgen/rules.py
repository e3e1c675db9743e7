"""What a benchmark round's rules change in the LoadGen, kept as data.

Scenarios and logs consult a ``RoundRules`` instead of hard-coding round behaviour, so a later round can be
added beside v2.1 without touching them (spec loadgen.md marks the HEAD deltas).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundRules:
    """Round-dependent switches of the LoadGen."""

    name: str
    #: LoadGen version string logged as ``loadgen_version`` ("<ver> @ <git rev>").
    loadgen_version: str
    #: Built-in mlperf.conf shipped in this package for the round.
    mlperf_conf: str
    #: Where equal-issue mode (``sample_concatenate_permutation``) applies: "singlestream_offline" (v2.1)
    #: or "all" (later rounds: every scenario in performance mode).
    equal_issue_scope: str
    #: Server headline metric: "scheduled" (v2.1) or "completed" (later rounds).
    server_headline: str
    #: Decimals of the percentile in the SingleStream/MultiStream summary metric label ("90th" vs "90.0th").
    percentile_label_decimals: int


V2_1 = RoundRules(
    name="v2.1",
    loadgen_version="2.1 @ podium",
    mlperf_conf="mlperf_v2_1.conf",
    equal_issue_scope="singlestream_offline",
    server_headline="scheduled",
    percentile_label_decimals=0,
)

ROUNDS = {V2_1.name: V2_1}
DEFAULT_ROUND = V2_1
