"""The campaign state file (``<output>/campaign-state.json``): each run's status and result, written
atomically after every change so an interruption (Ctrl-C, a crash, a killed process) loses nothing.

Statuses: ``pending`` (not started), ``running`` (started; a process that died leaves it so: resume reruns
it), ``done`` (finished: its result, VALID or INVALID, stands and is never redone unless asked), ``failed``
(raised an error or a SUT/QSL failure ended it: retried on resume), ``interrupted`` (Ctrl-C: rerun on resume).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from podium.campaign.model import Campaign
from podium.errors import PodiumError
from podium.files import write_json_atomic

STATE_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "interrupted")


@dataclass
class RunState:
    """One run of the matrix as the state file records it."""

    run_id: str
    status: str = "pending"
    folder: str | None = None
    #: "VALID" / "INVALID" (performance), None when no performance result
    result: str | None = None
    #: e.g. "samples/s 1234.5"
    metric: str | None = None
    accuracy: str | None = None
    compliance: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    short: bool = False
    #: the run's labels (short run, synthetic inputs, random weights, measured settings ...)
    labels: list[str] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None
    wall_s: float | None = None
    attempts: int = 0
    pid: int | None = None

    def stale(self) -> bool:
        """A ``running`` entry whose process is gone (killed without saving)."""
        if self.status != "running" or self.pid is None:
            return False
        if self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False


@dataclass
class CampaignState:
    """Every run's state, in the matrix's order, plus what the campaign's end produced."""

    path: Path
    runs: dict[str, RunState] = field(default_factory=dict)
    finish: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, campaign: Campaign) -> "CampaignState":
        """The state of ``campaign`` (a fresh one when no state file exists); runs no longer in the file are
        dropped from the view, new ones are pending."""
        path = campaign.state_path
        state = cls(path)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                saved = {r["run_id"]: RunState(**r) for r in data.get("runs", [])}
                state.finish = dict(data.get("finish", {}))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise PodiumError(f"{path}: damaged campaign state ({exc}); move it away to start over") from None
        else:
            saved = {}
        for spec in campaign.runs:
            state.runs[spec.run_id] = saved.get(spec.run_id) or RunState(spec.run_id, short=spec.short)
        return state

    def save(self) -> None:
        write_json_atomic(self.path, {"version": STATE_VERSION,
                                      "runs": [asdict(r) for r in self.runs.values()],
                                      "finish": self.finish})

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self.runs.values():
            out[r.status] = out.get(r.status, 0) + 1
        return out
