"""``run_benchmark``: one benchmark, one scenario, performance and/or accuracy, end to end.

Settings come from the built-in v2.1 mlperf.conf, then the user's user.conf, then command-line values; a
short run (the default of ``podium run``) overrides the duration and query count and says so in every output.
Expected QPS / latency the user did not give are measured (``calibrate``) and labelled as such.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from podium.benchmarks import get_benchmark
from podium.errors import PodiumError, RunInterrupted
from podium.files import write_text_atomic
from podium.benchmarks.rounds import check_benchmark_in_round
from podium.loadgen import LogSettings, RunOptions, Scenario, TestMode, TestResult, TestSettings, start_test
from podium.loadgen.rules import active_round, env_round, round_rules
from podium.loadgen import config as lgconfig
from podium.loadgen.peak import PeakResult, find_peak
from podium.loadgen.record import RecordPart
from podium.loadgen.types import QuerySampleLibrary, SystemUnderTest
from podium.suite.provider import ComplianceRunner, PowerPlan, SutProvider, SutSession
from podium.suite.calibrate import Calibration
from podium.suite.run_folder import check_run_folder, new_run_folder, point_latest
from podium.suite.sysinfo import brief_system_info

MODES = ("performance", "accuracy", "submission")


@dataclass
class RunRequest:
    """What the user asked for (the CLI's options)."""

    benchmark: str = "digits"
    scenario: str = "Offline"
    modes: tuple[str, ...] = ("performance", "accuracy")
    backend: str = "onnxruntime"
    backend_options: dict[str, Any] = field(default_factory=dict)
    model_path: str | None = None
    data_dir: str | None = None
    mlperf_conf: str | None = None
    user_conf: str | None = None
    audit_config: str | None = None
    #: results root: each run gets its own folder in it (see ``podium.suite.run_folder``)
    output: str = "podium-results"
    #: the run folder's name under ``output`` (default: ``YYYYmmdd-HHMMSS-<benchmark>-<scenario>``)
    run_name: str | None = None
    #: replace the run folder ``run_name`` when it already holds a run
    force: bool = False
    duration_s: float | None = 5.0  # None = the settings files' durations (a full-length run)
    query_count: int | None = None
    target_qps: float | None = None
    expected_qps: float | None = None
    expected_latency_ms: float | None = None
    latency_bound_ms: float | None = None
    batch_size: int | None = None
    max_wait_us: int | None = None
    workers: int | None = None
    completion_timeout_s: float = 300.0
    find_peak: bool = False
    #: performance only with a random-weight model (unless model_path) and synthetic inputs (unless data_dir)
    synthetic: bool = False
    #: compliance tests to run after the performance and accuracy runs ("all" = those the checker requires)
    compliance: tuple[str, ...] = ()
    #: power meter spec (ptd://host:port, sim[:profile], nvml[:gpus], rapl[:path], auto, none)
    power: str | None = None
    #: network mode: KServe v2 endpoints (http(s):// or grpc(s)://) instead of a local backend
    sut_urls: tuple[str, ...] = ()
    sut_policy: str = "round_robin"
    sut_send: str = "preprocessed"
    sut_timeout_s: float = 30.0
    sut_token: str | None = None
    sut_model: str | None = None
    sut_outputs: tuple[str, ...] = ()
    sut_postprocess: str = "auto"
    sut_request_samples: int | None = None
    sut_concurrency: int = 8
    sut_ca_cert: str | None = None
    #: LLM endpoints (openai+http(s)://): the API, requests in flight at most (None: Offline 64 per endpoint,
    #: else no cap), the environment variable with the API key, extra request-body fields
    sut_api: str = "chat"
    sut_max_in_flight: int | None = None
    sut_api_key_env: str = "OPENAI_API_KEY"
    sut_extra_body: dict[str, Any] = field(default_factory=dict)
    #: SLOs for goodput, "ttft=MS,tpot=MS[,e2e=MS]" (LLM endpoints)
    sut_slo: str | None = None
    #: LLM endpoints: client processes issuing the requests under the one schedule
    sut_client_processes: int = 1
    #: the benchmark's own options (``Benchmark.configure``): the llm benchmark's prompts, lengths, tokenizer
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    #: extra top-level parts for every record of the run (a campaign's name and run id), as the caller gives them
    record_extra: dict[str, Any] = field(default_factory=dict)
    #: the MLPerf round whose LoadGen, mlperf.conf and rules the run follows (None: $PODIUM_ROUND, else the
    #: newest podium supports)
    round: str | None = None


@dataclass
class RunOutcome:
    """What ``run_benchmark`` produced."""

    request: RunRequest
    output: Path
    performance: TestResult | None = None
    accuracy: TestResult | None = None
    accuracy_result: Any = None
    peak: PeakResult | None = None
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    calibration: Calibration | None = None
    compliance: dict[str, Any] = field(default_factory=dict)
    #: test -> one line saying what was compared (scores, band) and how it came out
    compliance_explained: dict[str, str] = field(default_factory=dict)
    power: dict[str, Any] | None = None
    power_session: Any = None
    performance_dir: Path | None = None
    record_id: int | None = None
    #: the run folder's name (also ``"run_id"`` in every podium_result.json of the run)
    run_id: str = ""
    #: stopped by Ctrl-C (``run_benchmark`` then re-raises ``RunInterrupted`` with this outcome attached)
    interrupted: bool = False
    #: the first SUT/QSL failure that ended a test, e.g. "SUT issue_queries raised ValueError: ..."
    failure: str | None = None
    #: a meter was asked for and the power measurement failed (the run's exit code says so)
    power_failure: str | None = None
    #: each step of the run and its wall time in seconds, in order ("loading model", "performance", ...)
    steps: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class _Confs:
    """The run's settings files, parsed once (None: the built-in mlperf.conf / no user.conf)."""

    mlperf: lgconfig.ConfigEntries | None
    user: lgconfig.ConfigEntries | None

    @classmethod
    def read(cls, req: "RunRequest") -> "_Confs":
        return cls(lgconfig.parse_config_file(req.mlperf_conf) if req.mlperf_conf else None,
                   lgconfig.parse_config_file(req.user_conf) if req.user_conf else None)


class _Steps:
    """Times each stage of a run (for the step breakdown ``podium run`` prints) and forwards it to the caller."""

    def __init__(self, on_stage: Callable[[str], None] | None) -> None:
        self.on_stage = on_stage
        self.done: list[tuple[str, float]] = []
        self._current: tuple[str, float] | None = None

    def start(self, name: str) -> None:
        self.finish()
        self._current = (name, time.perf_counter())
        if self.on_stage is not None:
            self.on_stage(name)

    def finish(self) -> None:
        if self._current is not None:
            name, t0 = self._current
            self.done.append((name, time.perf_counter() - t0))
            self._current = None


def _user_conf_names(entries: lgconfig.ConfigEntries | None) -> set[str]:
    """The setting names a user.conf sets (whatever model/scenario its keys name)."""
    return {key.rsplit(".", 1)[-1] for key in entries or {}}


def build_settings(req: RunRequest, conf_model: str, calib: Calibration | None,
                   notes: list[str], confs: "_Confs | None" = None, base: TestSettings | None = None) -> TestSettings:
    """The benchmark's ``base``, then the settings files, then command-line values, then measured defaults for
    what is still unset."""
    scenario = Scenario.parse(req.scenario)
    confs = confs or _Confs.read(req)
    settings = lgconfig.load_settings(conf_model, scenario, mlperf_conf=confs.mlperf, user_conf=confs.user,
                                      round=req.round, base=base)
    in_user = _user_conf_names(confs.user)
    if req.duration_s is not None:
        if req.duration_s <= 0:
            raise PodiumError(f"--duration: expected a positive number of seconds, got {req.duration_s:g}")
        settings.min_duration_ms = int(round(req.duration_s * 1000))
        settings.min_query_count = req.query_count if req.query_count is not None else 1
    elif req.query_count is not None:
        settings.min_query_count = req.query_count
    if req.target_qps is not None:
        settings.server_target_qps = req.target_qps
    if req.expected_qps is not None:
        settings.offline_expected_qps = req.expected_qps
    if req.expected_latency_ms is not None:
        settings.single_stream_expected_latency_ns = req.expected_latency_ms * 1e6
        settings.multi_stream_expected_latency_ns = req.expected_latency_ms * 1e6
    if req.latency_bound_ms is not None:
        settings.server_target_latency_ns = int(req.latency_bound_ms * 1e6)
    if calib is not None:
        sps = calib.samples_per_second
        if scenario is Scenario.Offline and req.expected_qps is None and "target_qps" not in in_user:
            # Twice the measured rate: a run that lasts too long is valid, one that ends too soon is not, and a
            # sub-second calibration on a busy machine can be off by that much.
            settings.offline_expected_qps = round(sps * 2.0, 1)
            notes.append(f"offline_expected_qps = {settings.offline_expected_qps:g} (measured "
                         f"{sps:.0f} samples/s x 2; set --expected-qps to choose)")
        if scenario is Scenario.Server and req.target_qps is None and "target_qps" not in in_user:
            # Conservative: Server pays per-query costs that big Offline batches hide, so take the lower of
            # 30 % of the Offline rate and half the rate of unbatched single samples.
            unbatched = 0.5 / calib.batch1_latency_s if calib.batch1_latency_s > 0 else sps
            settings.server_target_qps = round(min(sps * 0.3, unbatched), 1)
            notes.append(f"server_target_qps = {settings.server_target_qps:g} (the lower of 30 % of the measured "
                         f"{sps:.0f} samples/s and half of {1 / max(calib.batch1_latency_s, 1e-9):.0f} unbatched "
                         "samples/s; set --target-qps or use --find-peak for the peak)")
        if (scenario in (Scenario.SingleStream, Scenario.MultiStream) and req.expected_latency_ms is None
                and "target_latency" not in in_user):
            per_query = calib.batch1_latency_s * (1 if scenario is Scenario.SingleStream
                                                  else settings.multi_stream_samples_per_query)
            ns = max(per_query * 1e9 / 2, 1000.0)  # half the measured time: pre-generate ample queries
            if scenario is Scenario.SingleStream:
                settings.single_stream_expected_latency_ns = ns
            else:
                settings.multi_stream_expected_latency_ns = ns
            notes.append(f"expected latency = {ns / 1e6:.3f} ms (half the measured {per_query * 1e3:.3f} ms, so "
                         "enough queries are pre-generated)")
    return settings


def _needs_calibration(req: RunRequest, scenario: Scenario) -> bool:
    """Short runs and peak searches size their schedule from a measurement, unless the user gave the figure."""
    if req.duration_s is None and not req.find_peak:
        return False
    given = {Scenario.Offline: req.expected_qps, Scenario.Server: req.target_qps,
             Scenario.SingleStream: req.expected_latency_ms, Scenario.MultiStream: req.expected_latency_ms}
    return given[scenario] is None or req.find_peak


def run_benchmark(req: RunRequest, on_stage: Callable[[str], None] | None = None, *,
                  provider: SutProvider | None = None, power: PowerPlan | None = None,
                  compliance: ComplianceRunner | None = None) -> RunOutcome:
    """Run what ``req`` asks in a new run folder under ``req.output`` and record it in the results store.

    ``provider`` makes the system under test (``podium.providers.provider_for(req)`` is what ``podium run``
    passes: a local backend, or ``req.sut_urls``' endpoints); the suite itself imports no backend, harness or
    network client. ``power`` measures the performance test (``podium.power.power_plan(req.power)``: a meter,
    or none, which records "power: not measured"); without one the records carry no power part. Its creator
    closes it. ``compliance`` runs the compliance tests ``req.compliance`` asks for
    (``podium.compliance.OfficialCompliance()``).

    Called from the main thread (Ctrl-C ends the run cleanly: see ``start_test``). On Ctrl-C the SUT is closed,
    what was measured is recorded, and ``RunInterrupted`` is re-raised with ``outcome`` set.

    Every test of the run (probes, find-peak, performance, accuracy, compliance) follows ``req.round``: its
    LoadGen behaviour, its built-in mlperf.conf and its benchmark list (a benchmark the round does not have is
    refused before anything loads).
    """
    rules = round_rules(req.round) if req.round else env_round()
    req = dataclasses.replace(req, round=rules.name)
    with active_round(rules):
        return _run_benchmark(req, on_stage, provider=provider, power=power, compliance=compliance)


def _run_benchmark(req: RunRequest, on_stage: Callable[[str], None] | None, *, provider: SutProvider | None,
                   power: PowerPlan | None, compliance: ComplianceRunner | None) -> RunOutcome:
    steps = _Steps(on_stage)
    stage = steps.start
    if provider is None:
        raise PodiumError("run_benchmark: no SUT provider given (pass provider=podium.providers.provider_for(req))")
    if req.power and power is None:
        raise PodiumError(f"run_benchmark: --power {req.power} without a power plan (pass "
                          "power=podium.power.power_plan(req.power))")
    if req.compliance and compliance is None:
        raise PodiumError("run_benchmark: --compliance without a compliance runner (pass "
                          "compliance=podium.compliance.OfficialCompliance())")
    if req.power and "submission" in req.modes:
        raise PodiumError("--power: needs --mode performance[,accuracy]; a submission-mode log's first power "
                          "window is the accuracy series'")
    for m in req.modes:
        if m not in MODES:
            raise PodiumError(f"--mode {m}: expected one of {', '.join(MODES)}")
    bench = get_benchmark(req.benchmark)
    check_benchmark_in_round(bench.name, str(req.round))
    bench = bench.configure(dict(req.benchmark_options))
    if bench.needs_remote_sut and provider.kind != "network":
        raise PodiumError(f"benchmark {bench.name}: the model is a server's; give --sut-url openai+http://HOST:PORT "
                          "(podium serve --llm sim starts a simulated one)")
    if bench.settings_defaults(req.scenario).get("use_token_latencies") and str(req.round) == "v2.1":
        raise PodiumError(f"benchmark {bench.name} measures token latencies (TTFT, TPOT), which round v2.1's "
                          "LoadGen does not have: use --round v6.0 or v6.1")
    if req.synthetic:
        bench = bench.synthetic_variant()
    scenario = Scenario.parse(req.scenario)
    if req.data_dir is not None and not bench.takes_data_dir:
        raise PodiumError(f"--data-dir {req.data_dir}: benchmark {bench.name} ships its own data and reads no "
                          "data folder; leave --data-dir out")
    if not bench.supports(scenario.value):
        raise PodiumError(f"--scenario {scenario.value}: benchmark {bench.name} runs "
                          f"{', '.join(bench.scenarios)}")
    if req.data_dir is None and not req.synthetic and bench.takes_data_dir:
        fetched = fetched_asset(bench.name, "data")
        if fetched is not None:  # what `podium fetch` put in the cache is the default data folder
            req = dataclasses.replace(req, data_dir=str(fetched))
    root = Path(req.output)
    check_run_folder(root, req.run_name, req.force)  # a taken --run-name is refused before anything loads
    confs = _Confs.read(req)  # each settings file read once; a malformed one fails before the model loads
    outcome = RunOutcome(request=req, output=root)
    outcome.steps = steps.done
    modes = tuple(req.modes)
    if req.synthetic and req.data_dir is None:
        if "submission" in modes:
            raise PodiumError("--synthetic with --mode submission: synthetic inputs have no ground truth; give "
                              "--data-dir or run --mode performance")
        if "accuracy" in modes:
            modes = tuple(m for m in modes if m != "accuracy")
            outcome.notes.append("accuracy skipped: synthetic inputs have no ground truth")
    if not bench.scores_accuracy and ("accuracy" in modes or "submission" in modes):
        modes = tuple(m for m in modes if m not in ("accuracy", "submission")) or ("performance",)
        outcome.notes.append(f"accuracy skipped: benchmark {bench.name} has no reference answers")
    if req.compliance and ("submission" in modes or not {"performance", "accuracy"} <= set(modes)):
        # refused before anything is measured: the tests are compared with this command's two runs
        why = " (synthetic inputs have no accuracy run)" if req.synthetic and "accuracy" in req.modes else ""
        raise PodiumError("--compliance: needs a performance run and an accuracy run in the same command "
                          f"(--mode performance,accuracy), which the compliance tests are compared with{why}")
    if req.compliance and req.compliance != ("all",) and compliance is not None:
        for test in req.compliance:
            compliance.check_test(test)  # a test the round does not have is refused before anything runs
    req = dataclasses.replace(req, modes=modes)
    outcome.request = req
    if req.duration_s is not None:
        outcome.labels.append(f"short run: min_duration {req.duration_s:g} s, min_query_count "
                              f"{req.query_count if req.query_count is not None else 1} - not a valid MLPerf "
                              f"duration (MLPerf {req.round} requires 600 s and the mlperf.conf query counts)")

    provider.load(bench, stage)
    stage("loading data")
    qsl = bench.create_qsl(req.data_dir)
    session = provider.open(bench, qsl, scenario, stage)
    try:
        outcome.labels.extend(session.labels)  # after the model and data are resolved: the flags are final
        calib = None
        if _needs_calibration(req, scenario):
            stage("calibrating")
            calib = session.calibrate(qsl, scenario)
            outcome.calibration = calib
        settings = build_settings(req, bench.conf_model, calib, outcome.notes, confs,
                                  base=TestSettings(**bench.settings_defaults(scenario.value)))
        extra: dict[str, Any] = {**req.record_extra, "benchmark": bench.info(), "system": brief_system_info(),
                                 "notes": outcome.notes,
                                 **session.record_info(stage)}
    except BaseException:
        session.close()
        raise
    sut = session.sut
    options = RunOptions(completion_timeout_s=req.completion_timeout_s, labels=list(outcome.labels))
    # The run folder is made once the model, data and settings are known good: bad input leaves no folder.
    try:
        out = new_run_folder(root, bench.name, scenario.value, req.run_name, req.force)
    except PodiumError:
        session.close()
        raise
    outcome.output, outcome.run_id = out, out.name
    extra["run_id"] = outcome.run_id
    point_latest(root, out)
    run_test = _with_contributors(session.contributors)
    interrupted: RunInterrupted | None = None
    scorer = _AccuracyScorer(req, bench, session, outcome)
    try:
        settings = _size_with_probes(req, scenario, sut, qsl, settings, calib, options, outcome, stage, run_test,
                                     confs)
        if req.find_peak:
            stage("find-peak")
            outcome.peak = find_peak(sut, qsl, dataclasses.replace(settings, mode=TestMode.PerformanceOnly),
                                     out / "find_peak", options=options)
            spoiled = session.unusable()
            if spoiled:
                outcome.notes.append(f"find-peak: {spoiled} during the probes")
            if scenario is Scenario.Server and outcome.peak.confirmed and outcome.peak.value > 0:
                settings = dataclasses.replace(settings, server_target_qps=outcome.peak.value)
                _replace_note(outcome.notes, "server_target_qps", f"server_target_qps = {outcome.peak.value:g} "
                              "(the peak find-peak confirmed)")
            elif scenario is Scenario.Server:
                outcome.notes.append(f"find-peak confirmed no rate: the runs use server_target_qps = "
                                     f"{settings.server_target_qps:g} (measured from the backend)")
        if "submission" in req.modes:
            stage("submission run")
            res = run_test(sut, qsl, dataclasses.replace(settings, mode=TestMode.SubmissionRun),
                           LogSettings(outdir=str(out / "submission")), options=options,
                           audit_config=req.audit_config, extra_result=extra, contributors=[scorer])
            outcome.performance = res
            outcome.accuracy = res
        else:
            if "performance" in req.modes:
                _run_performance(req, sut, qsl, settings, options, extra, power, outcome, stage, run_test)
                perf = outcome.performance
                if (outcome.peak is not None and outcome.peak.confirmed and perf is not None and not perf.valid
                        and perf.performance is not None and not perf.performance.perf_constraints_met):
                    # the confirmation passed once at this rate; this run did not: say so, never leave it silent
                    outcome.notes.append(
                        f"find-peak: the performance run at the confirmed peak ({settings.server_target_qps:g} "
                        "queries/s) missed its latency bound this time; the machine's noise is larger than the "
                        "search's margin here: rerun, or give --target-qps a little below the peak")
            if "accuracy" in req.modes:
                skip = _why_skip_accuracy(session, outcome)
                if skip:
                    outcome.notes.append(skip)
                else:
                    stage("accuracy")
                    outcome.accuracy = run_test(sut, qsl, dataclasses.replace(settings, mode=TestMode.AccuracyOnly),
                                                LogSettings(outdir=str(out / "accuracy")), options=options,
                                                audit_config=req.audit_config, extra_result=extra,
                                                contributors=[scorer])
        if req.compliance:
            skip = _why_skip_compliance(session, outcome)
            if skip:
                outcome.notes.append(skip)
            else:
                assert compliance is not None  # checked before anything ran
                _run_compliance(req, bench, sut, qsl, settings, options, outcome, stage, compliance)
    except RunInterrupted as exc:
        interrupted = exc
        outcome.interrupted = True
        stopped = exc.result
        if isinstance(stopped, TestResult):
            if stopped.mode is TestMode.AccuracyOnly:
                outcome.accuracy = stopped
            elif outcome.performance is None or stopped.mode is not TestMode.FindPeakPerformance:
                outcome.performance = outcome.performance or stopped
        outcome.notes.append("interrupted (Ctrl-C): the logs of what was measured are written, marked INVALID")
    finally:
        outcome.notes.extend(session.close())
    for done in (outcome.performance, outcome.accuracy):
        if done is not None and done.failure and outcome.failure is None:
            outcome.failure = done.failure
    try:
        from podium.report.store import record_run

        stage("recording")
        outcome.record_id = record_run(out)
    except PodiumError as exc:  # a store problem must not lose the run
        outcome.notes.append(f"results store: {exc}")
    steps.finish()
    if interrupted is not None:
        interrupted.outcome = outcome
        raise interrupted
    return outcome


def fetched_asset(benchmark: str, what: str) -> Path | None:
    """Where ``podium fetch`` put ``what`` (model, data) of ``benchmark``, verified; None when it did not."""
    from podium.fetch import asset_path

    try:
        return asset_path(benchmark, what)
    except PodiumError:  # a benchmark the catalogue does not know, or a damaged manifest: not fetched
        return None


def _replace_note(notes: list[str], prefix: str, text: str) -> None:
    for i, n in enumerate(notes):
        if n.startswith(prefix):
            notes[i] = text
            return
    notes.append(text)


def _size_with_probes(req: RunRequest, scenario: Scenario, sut: SystemUnderTest, qsl: QuerySampleLibrary,
                      settings: TestSettings, calib: Calibration | None, options: RunOptions, outcome: RunOutcome,
                      stage: Callable[[str], None], run_test: Callable[..., TestResult],
                      confs: _Confs) -> TestSettings:
    """A short run's measured Offline rate / Server target, re-checked through the real SUT (see ``probe``)."""
    from podium.suite.probe import confirm_server_target, measure_offline_rate

    if calib is None or req.find_peak:
        return settings
    in_user = _user_conf_names(confs.user)
    folder = outcome.output / "calibration"
    if scenario is Scenario.Offline and req.expected_qps is None and "target_qps" not in in_user:
        stage("calibrating (SUT)")  # a warmed probe through the real SUT: harness or network
        sz = measure_offline_rate(run_test, sut, qsl, settings, folder, options, calib.samples_per_second)
        settings = dataclasses.replace(settings, offline_expected_qps=round(sz.value * 1.5, 1))
        _replace_note(outcome.notes, "offline_expected_qps", f"offline_expected_qps = "
                      f"{settings.offline_expected_qps:g} ({sz.how}; x 1.5 so the query outlasts the minimum "
                      "duration; set --expected-qps to choose)")
    elif scenario is Scenario.Server and req.target_qps is None and "target_qps" not in in_user:
        stage("calibrating (Server)")
        chosen = float(settings.server_target_qps)
        sz = confirm_server_target(run_test, sut, qsl, settings, folder, options, chosen)
        settings = dataclasses.replace(settings, server_target_qps=sz.value)
        _replace_note(outcome.notes, "server_target_qps", f"server_target_qps = {sz.value:g} (started from "
                      f"{chosen:g}: the lower of 30 % of the measured Offline rate and half the unbatched rate; "
                      f"{sz.how}; set --target-qps or use --find-peak for the peak)")
    return settings


def _sut_failed(session: SutSession, outcome: RunOutcome) -> str | None:
    """Why the system under test cannot be trusted for more tests (a raised SUT, a failed network endpoint)."""
    perf = outcome.performance
    if perf is not None and perf.failure:
        return f"the performance run failed ({perf.failure})"
    why = session.unusable()
    return f"{why} during the performance run" if why else None


def _why_skip_accuracy(session: SutSession, outcome: RunOutcome) -> str | None:
    why = _sut_failed(session, outcome)
    return f"accuracy skipped: {why}" if why else None


def _why_skip_compliance(session: SutSession, outcome: RunOutcome) -> str | None:
    why = _sut_failed(session, outcome)
    if why is None and outcome.accuracy is not None and outcome.accuracy.failure:
        why = f"the accuracy run failed ({outcome.accuracy.failure})"
    return f"compliance skipped: {why}" if why else None


def _scored(bench: Any, log: Any, data_dir: str | None, notes: list[str]) -> Any:
    """``bench.score_accuracy`` with its duplicate-response warnings turned into run notes (one line each)."""
    from podium.benchmarks.accuracy import AccuracyDuplicatesWarning

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", AccuracyDuplicatesWarning)
        result = bench.score_accuracy(log, data_dir)
    for w in seen:
        if issubclass(w.category, AccuracyDuplicatesWarning):
            notes.append(f"accuracy: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


class _AccuracyScorer:
    """Record contributor for the accuracy (or submission) test: scores its accuracy log once the log is
    closed, writes ``accuracy.txt`` beside it, and adds the ``accuracy`` section to the test's record."""

    def __init__(self, req: RunRequest, bench: Any, session: SutSession, outcome: RunOutcome) -> None:
        self.req, self.bench, self.session, self.outcome = req, bench, session, outcome

    def test_starting(self, outdir: Path, settings: TestSettings) -> None:
        pass

    def test_ended(self, result: TestResult) -> RecordPart | None:
        if result.failure or result.interrupted:
            return None  # nothing complete to score
        req, outcome = self.req, self.outcome
        acc_dir = Path(result.log_paths["accuracy"]).parent
        try:
            scored = _scored(self.bench, result.log_paths["accuracy"], req.data_dir, outcome.notes)
        except Exception as exc:  # the record keeps the same note; the run still ends with its logs
            outcome.notes.append(f"accuracy not scored: {exc}")
            raise
        spoiled = self.session.accuracy_spoiled()
        if spoiled:
            outcome.notes.append(f"accuracy run: {spoiled}")
            scored = dataclasses.replace(scored, passed=False)
        outcome.accuracy_result = scored
        write_text_atomic(acc_dir / "accuracy.txt", scored.accuracy_txt)
        return RecordPart(values={"accuracy": {"metric": scored.metric, "value": scored.value,
                                               "target": scored.target, "passed": scored.passed,
                                               "line": scored.line}})


def _with_contributors(contributors: list[Any]) -> Callable[..., TestResult]:
    """``start_test`` with ``contributors`` (e.g. the network recorder) adding their parts to every test's
    record, besides those a call names itself."""

    def run(*args: Any, contributors: Sequence[Any] = (), **kwargs: Any) -> TestResult:
        kwargs["contributors"] = [*contributors_all, *contributors]
        return start_test(*args, **kwargs)

    contributors_all = list(contributors)
    return run


def _run_performance(req: RunRequest, sut: SystemUnderTest, qsl: QuerySampleLibrary, settings: TestSettings,
                     options: RunOptions, extra: dict[str, Any], power: PowerPlan | None, outcome: RunOutcome,
                     stage: Callable[[str], None], run_test: Callable[..., TestResult] = start_test) -> None:
    """The performance run, measured by ``power`` when given (PTDaemon: a ranging run first)."""
    perf_settings = dataclasses.replace(settings, mode=TestMode.PerformanceOnly)
    perf_dir = outcome.output / "performance"
    ranging = power is not None and power.needs_ranging

    def run_once(folder: Path, phase: str, contributors: Sequence[Any] = ()) -> Path:
        stage(f"performance ({phase})" if ranging else "performance")
        outcome.performance = run_test(sut, qsl, perf_settings, LogSettings(outdir=str(folder)), options=options,
                                       audit_config=req.audit_config, extra_result=extra,
                                       contributors=contributors)
        return folder

    if power is None:
        run_once(perf_dir, "testing")
    else:
        measured = power.measure(run_once, perf_dir)  # its block and verdict are in the records as written
        outcome.power_session = measured
        perf_dir = measured.performance_dir
        outcome.power = measured.power
        outcome.power_failure = measured.failure
    outcome.performance_dir = perf_dir
    if outcome.power_failure:
        outcome.notes.append(outcome.power_failure)


def _run_compliance(req: RunRequest, bench: Any, sut: SystemUnderTest, qsl: QuerySampleLibrary,
                    settings: TestSettings, options: RunOptions, outcome: RunOutcome, stage: Callable[[str], None],
                    compliance: ComplianceRunner) -> None:
    """TEST01/04/05 against this run's performance and accuracy logs, into ``<output>/compliance``."""
    if outcome.performance is None or outcome.accuracy is None or "submission" in req.modes:
        raise PodiumError("--compliance: needs a performance run and an accuracy run in the same command "
                          "(--mode performance,accuracy), which the compliance tests are compared with")
    tests = compliance.required_tests(bench.name) if req.compliance == ("all",) else req.compliance
    stage("compliance " + "/".join(tests))
    results = compliance.run(
        sut, qsl, dataclasses.replace(settings, mode=TestMode.PerformanceOnly), bench.name,
        outcome.output / "compliance", accuracy_run_dir=outcome.output / "accuracy",
        reference_run_dir=outcome.performance_dir or outcome.output / "performance", tests=tests, dtype=bench.response_dtype,
        scorer=lambda log: _scored(bench, log, req.data_dir, outcome.notes), options=options,
        sampling_target=bench.compliance_sampling_target)
    outcome.compliance = {t: r.passed for t, r in results.items()}
    outcome.compliance_explained = {t: r.explain() for t, r in results.items()}
