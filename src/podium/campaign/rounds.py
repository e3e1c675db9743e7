"""MLPerf rounds as campaigns see them: the scenarios each category requires, the compliance tests, the
checker version. A later round plugs in by adding a ``Round`` to ``ROUNDS`` (v2.1 reads podium.submission's
rules, v6.0/v6.1 its ``rules_current``: the same facts the packager and the checker use)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from podium.errors import PodiumError
from podium.submission import rules as v21
from podium.submission import rules_current as cur


@dataclass(frozen=True)
class Round:
    """One MLPerf Inference round."""

    name: str
    #: the checker podium implements for this round (``podium submission check``)
    checker_version: str
    divisions: tuple[str, ...]
    categories: tuple[str, ...]
    models: tuple[str, ...]
    #: (official model, category) -> required scenarios, or None when the model is not allowed there
    required_scenarios: Callable[[str, str], "tuple[str, ...] | None"]
    #: official model -> compliance tests
    compliance_tests: Callable[[str], tuple[str, ...]]
    #: benchmark name -> official model, or None
    official_model: Callable[[str], "str | None"]
    min_duration_s: float

    def required(self, benchmark: str, category: str) -> tuple[str, ...] | None:
        """Scenarios ``benchmark`` needs in ``category`` (None: not a benchmark of this round there)."""
        model = self.official_model(benchmark)
        return None if model is None else self.required_scenarios(model, category)


V2_1 = Round(name="v2.1", checker_version="v2.1", divisions=v21.DIVISIONS, categories=("datacenter", "edge"),
             models=v21.MODELS, required_scenarios=v21.required_scenarios, compliance_tests=v21.compliance_tests,
             official_model=lambda b: b if b in v21.MODELS else None,
             min_duration_s=v21.MIN_DURATION_MS / 1000)



def _current(tr: cur.CurrentTreeRules) -> Round:
    return Round(name=tr.name, checker_version=tr.name, divisions=cur.DIVISIONS, categories=("datacenter", "edge"),
                 models=tr.models, required_scenarios=tr.required_scenarios, compliance_tests=tr.compliance_tests,
                 official_model=tr.mlperf_model, min_duration_s=cur.MIN_DURATION_MS / 1000)


V6_0, V6_1 = _current(cur.V6_0), _current(cur.V6_1)
#: the round a campaign file without ``round:`` runs (the newest, as for podium run)
DEFAULT = V6_1.name
ROUNDS: dict[str, Round] = {r.name: r for r in (V2_1, V6_0, V6_1)}


def get_round(name: str) -> Round:
    """The round called ``name``."""
    try:
        return ROUNDS[name]
    except KeyError:
        raise PodiumError(f"round {name!r}: expected one of {', '.join(ROUNDS)}") from None
