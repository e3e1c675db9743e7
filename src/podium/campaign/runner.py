"""Runs a campaign's matrix in order through ``podium.suite.run_benchmark``, keeping the state file current
after every run, then lays out the submission tree(s), checks them and writes the HTML report.

Resuming: a ``done`` run is skipped (unless ``redo`` names it or ``force``); ``failed``, ``interrupted`` and
stale ``running`` runs are rerun. Ctrl-C (``RunInterrupted``, or a bare ``KeyboardInterrupt``) marks the run
``interrupted``, saves the state and re-raises, so the CLI exits 130 and the next ``podium suite run``
continues from that run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from podium.campaign.lock import CampaignLock
from podium.campaign.model import Campaign, RunSpec
from podium.campaign.plan import estimate_s
from podium.campaign.state import CampaignState, RunState
from podium.compliance import OfficialCompliance
from podium.errors import PodiumError, RunInterrupted
from podium.power import power_plan
from podium.suite.runner import RunOutcome, RunRequest, run_benchmark



def short_label(round_name: str) -> str:
    """The label every output of a campaign with short runs carries."""
    tree = "the submission tree is a draft" if round_name == "v2.1" else \
        "the submission tree is a practice tree (not an MLPerf submission)"
    return f"short runs: not a valid MLPerf duration ({round_name} requires 600 s); {tree}"


def practice_tree(campaign: Campaign) -> bool:
    """Whether the campaign's tree is a practice tree (``podium.submission.practice``): a current round with
    short runs or podium's own benchmarks; round v2.1 writes those as drafts."""
    from podium.campaign.rounds import get_round

    rnd = get_round(campaign.round)
    return campaign.round != "v2.1" and any(s.short or rnd.official_model(s.benchmark) is None
                                            for s in campaign.runs)


class Events(Protocol):
    """What the runner tells its display (the CLI): each run's start and end, and each stage."""

    def run_starting(self, index: int, total: int, spec: RunSpec, eta_s: float | None) -> None: ...
    def stage(self, name: str) -> None: ...
    def run_finished(self, index: int, total: int, spec: RunSpec, state: RunState) -> None: ...
    def run_skipped(self, index: int, total: int, spec: RunSpec, state: RunState) -> None: ...


@dataclass
class CampaignResult:
    """What ``run_campaign`` did and produced."""

    state: CampaignState
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    trees: list[dict[str, Any]] = field(default_factory=list)
    report: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and all(t.get("ok") for t in self.trees)


def request_for(campaign: Campaign, spec: RunSpec) -> RunRequest:
    """The ``RunRequest`` of one run: its folder is ``<output>/runs/<run id>`` (replaced when rerun)."""
    s = spec.settings
    modes = tuple(m for m in spec.modes if m in ("performance", "accuracy"))
    extra: dict[str, Any] = {}
    if s.completion_timeout is not None:
        extra["completion_timeout_s"] = s.completion_timeout
    return RunRequest(
        benchmark=spec.benchmark, scenario=spec.scenario, round=campaign.round, modes=modes,
        backend=spec.backend.backend,
        backend_options=dict(spec.backend.options), model_path=spec.model_path, data_dir=spec.data_dir,
        output=str(campaign.runs_root), run_name=spec.run_id, force=True, duration_s=s.duration_s,
        query_count=s.query_count, target_qps=s.target_qps, expected_qps=s.expected_qps,
        expected_latency_ms=s.expected_latency_ms, latency_bound_ms=s.latency_bound_ms, batch_size=s.batch_size,
        max_wait_us=s.max_wait_us, workers=s.workers, find_peak=s.find_peak, synthetic=s.synthetic,
        compliance=("all",) if "compliance" in spec.modes else (), power=spec.power,
        record_extra={"campaign": {"file": str(campaign.path), "run": spec.run_id}}, **extra)


def _default_provider(req: RunRequest) -> Any:
    from podium.providers import provider_for

    return provider_for(req)


def summarise(outcome: RunOutcome, rs: RunState) -> None:
    """Copy an outcome's verdict, headline metric, accuracy and compliance into the run's state."""
    rs.folder = str(outcome.output)
    perf = outcome.performance.performance if outcome.performance is not None else None
    if perf is not None:
        rs.result = "VALID" if outcome.performance.valid else "INVALID"  # type: ignore[union-attr]
        try:
            from podium.loadgen.record import headline

            head = headline(perf)
            v = head.get("value")
            if v is None:
                rs.metric = "n/a"
            elif head.get("unit") == "ns":
                rs.metric = f"p{perf.settings.target_latency_percentile * 100:g} {float(v) / 1e6:,.3f} ms"
            else:
                rs.metric = f"{float(v):,.1f} {head.get('unit', '')}".strip()
        except Exception as exc:  # a display figure must not lose the run
            rs.metric = f"n/a ({exc})"
    acc = outcome.accuracy_result
    if acc is not None:
        rs.accuracy = f"{acc.line} ({'PASS' if acc.passed else 'FAIL'})"
    rs.compliance = {k: bool(v) for k, v in outcome.compliance.items()}
    rs.labels = list(outcome.labels)


def run_campaign(campaign: Campaign, *, events: Events | None = None, redo: tuple[str, ...] = (),
                 force: bool = False, finish: bool = True,
                 runner: Callable[..., RunOutcome] | None = None,
                 provider_for: Callable[[RunRequest], Any] | None = None) -> CampaignResult:
    """Run every pending (or failed) run of ``campaign`` in order, then package, check and report.

    ``runner`` / ``provider_for`` default to ``podium.suite.run_benchmark`` / ``podium.providers.provider_for``
    (tests pass their own). A ``KeyboardInterrupt`` saves the state and propagates.
    """
    run = runner or run_benchmark
    make_provider = provider_for or _default_provider
    known = {s.run_id for s in campaign.runs}
    for r in redo:
        if r not in known:
            raise PodiumError(f"--redo {r}: not a run of {campaign.path.name}; expected one of {', '.join(known)}")
    campaign.output.mkdir(parents=True, exist_ok=True)
    with CampaignLock(campaign.output):
        return _run_locked(campaign, events, redo, force, finish, run, make_provider)


def _run_locked(campaign: Campaign, events: Events | None, redo: tuple[str, ...], force: bool, finish: bool,
                run: Callable[..., RunOutcome], make_provider: Callable[[RunRequest], Any]) -> CampaignResult:
    state = CampaignState.load(campaign)
    result = CampaignResult(state)
    total = len(campaign.runs)
    est = {s.run_id: estimate_s(s) for s in campaign.runs}
    spent_actual = spent_est = 0.0
    for i, spec in enumerate(campaign.runs, 1):
        rs = state.runs[spec.run_id]
        if rs.status == "done" and not force and spec.run_id not in redo:
            result.skipped.append(spec.run_id)
            if events:
                events.run_skipped(i, total, spec, rs)
            continue
        todo = [s.run_id for s in campaign.runs[i - 1:]
                if state.runs[s.run_id].status != "done" or force or s.run_id in redo]
        scale = spent_actual / spent_est if spent_est > 0 else 1.0
        eta = sum(est[r] for r in todo) * scale
        if events:
            events.run_starting(i, total, spec, eta)
        # a fresh entry: a rerun's old result, error and folder must not linger beside the new attempt
        rs = RunState(spec.run_id, status="running", short=spec.short, started=time.time(),
                      attempts=rs.attempts + 1, pid=os.getpid())
        state.runs[spec.run_id] = rs
        state.finish = {}
        state.save()
        t0 = time.monotonic()
        try:
            req = request_for(campaign, spec)
            with power_plan(req.power) as power:  # a meter is connected per run, and closed after it
                outcome = run(req, on_stage=events.stage if events else None, provider=make_provider(req),
                              power=power, compliance=OfficialCompliance())
        except RunInterrupted as exc:
            rs.status = "interrupted"
            if isinstance(exc.outcome, RunOutcome):
                summarise(exc.outcome, rs)
            rs.error = "interrupted (Ctrl-C); podium suite run resumes here"
            _finish_run(state, rs, t0)
            raise
        except KeyboardInterrupt:
            rs.status = "interrupted"
            rs.error = "interrupted (Ctrl-C); podium suite run resumes here"
            _finish_run(state, rs, t0)
            raise
        except Exception as exc:  # one broken run must not stop the campaign: it is retried on resume
            rs.status = "failed"
            rs.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not isinstance(exc, PodiumError):
                rs.error = f"{type(exc).__name__}: {rs.error}"
            _finish_run(state, rs, t0)
            result.failed.append(spec.run_id)
        else:
            summarise(outcome, rs)
            rs.status = "failed" if outcome.failure else "done"
            rs.error = outcome.failure
            _finish_run(state, rs, t0)
            (result.failed if outcome.failure else result.ran).append(spec.run_id)
        spent_actual += time.monotonic() - t0
        spent_est += est[spec.run_id]
        if events:
            events.run_finished(i, total, spec, rs)
    # a done run skipped here may have an INVALID result: it stands, and the tree and its check say so
    if finish:
        finish_campaign(campaign, state, result, events)
    return result


def _finish_run(state: CampaignState, rs: RunState, t0: float) -> None:
    rs.finished = time.time()
    rs.wall_s = round(time.monotonic() - t0, 2)
    rs.pid = None
    state.save()


def _groups(campaign: Campaign, state: CampaignState) -> dict[str, list[Path]]:
    """System id -> the run folders of its finished runs: one system per backend setting (the tree has one
    result per benchmark and scenario and system)."""
    labels = []
    for s in campaign.runs:
        if s.backend.label not in labels:
            labels.append(s.backend.label)
    out: dict[str, list[Path]] = {}
    for s in campaign.runs:
        rs = state.runs[s.run_id]
        if rs.status != "done" or not rs.folder:
            continue
        system = campaign.system.name if len(labels) == 1 else f"{campaign.system.name}-{s.backend.label}"
        out.setdefault(system, []).append(Path(rs.folder))
    return out


def finish_campaign(campaign: Campaign, state: CampaignState, result: CampaignResult,
                    events: Events | None = None) -> None:
    """The submission tree of each system (``<output>/submission/<system>``), the checker's verdict on it,
    and the HTML report (``<output>/report.html``), recorded in the state's ``finish``."""
    from podium.submission import RunInput, SubmissionRefused, check_submission, package_submission

    if events:
        events.stage("submission tree")
    unfinished = [r.run_id for r in state.runs.values() if r.status != "done"]
    practice = practice_tree(campaign)
    trees = []
    for system, folders in _groups(campaign, state).items():
        out = campaign.output / "submission" / system
        entry: dict[str, Any] = {"system": system, "path": str(out), "draft": [], "errors": [], "warnings": 0}
        kwargs: dict[str, Any] = dict(division=campaign.division, submitter=campaign.submitter, system=system,
                                      out=out, system_json=campaign.system.description,
                                      status=campaign.system.status or "available", system_type=campaign.category,
                                      measurements_json=campaign.measurements, force=True,
                                      round=campaign.round, practice=practice)
        runs = [RunInput(f) for f in folders]
        try:
            try:
                res = package_submission(runs, **kwargs)
            except SubmissionRefused as exc:
                # short or non-round runs cannot be submitted: the tree is written as a labelled draft
                res = package_submission(runs, draft=True, **kwargs)
                entry["draft"] = list(exc.reasons)
            rep = res.check if res.check is not None else check_submission(out)
            entry["errors"] = [p.line() for p in rep.errors]
            entry["warnings"] = len(rep.warnings)
            entry["accepted"] = sum(1 for ok in rep.scenarios.values() if ok)
            entry["scenarios"] = len(rep.scenarios)
            entry["practice"] = list(res.practice)
            kind = "practice tree" if res.practice else "submission"
            entry["verdict"] = f"{kind} looks OK" if rep.ok else f"{kind} has errors"
            if res.practice:
                entry["verdict"] += " (PRACTICE tree: not an MLPerf submission)"
            entry["ok"] = bool(rep.ok) and not entry["draft"]
        except PodiumError as exc:
            entry["verdict"] = f"not packaged: {str(exc).splitlines()[0]}"
            entry["ok"] = False
        trees.append(entry)
    result.trees = trees
    if unfinished:
        result.notes.append(f"not in the tree (not done): {', '.join(unfinished)}")
    if events:
        events.stage("report")
    folders = [Path(r.folder) for r in state.runs.values() if r.status == "done" and r.folder]
    report = None
    if folders:
        try:
            from podium.report.html import build_report
            from podium.report.model import from_run
            from podium.report.runs import read_run

            title = f"podium campaign {campaign.path.name}" + (" (short runs)" if any(
                s.short for s in campaign.runs) else "")
            files = build_report([from_run(read_run(f)) for f in folders], campaign.output / "report.html",
                                 title=title)
            report = str(files[0])
        except (PodiumError, ImportError) as exc:  # matplotlib missing: the runs and the tree stand
            result.notes.append(f"report not written: {str(exc).splitlines()[0]}")
    result.report = report
    state.finish = {"trees": trees, "report": report, "notes": list(result.notes), "at": time.time()}
    state.save()
