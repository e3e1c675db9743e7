"""``podium power``: the PTDaemon simulator for dry runs, a meter probe, and a run's power figures.

- ``podium power simulate --port 8888 --profile steps:0=100,5=180`` serves PTDaemon's protocol with a
  configured watts profile (results measured against it are labelled SIMULATED);
- ``podium power probe ptd://host:8888 | nvml | rapl | sim:…`` reads a meter for a few seconds;
- ``podium power compute RUN_DIR [--spl spl.txt]`` computes the checker's power figures of a finished run
  from its detail log and a power log (e.g. one the MLCommons power client recorded);
- ``podium power export SESSION_DIR DEST`` copies a power session's official files into a submission.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("power", help="power: PTDaemon simulator, meter probe, power figures of a run",
                       description="Power measurement tools. `podium run --power ptd://host:port|nvml|rapl` "
                       "measures a run; these subcommands help set it up and check it.")
    psub = p.add_subparsers(dest="power_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])

    s = psub.add_parser("simulate", help="serve PTDaemon's TCP protocol with a simulated watts profile",
                        description="A PTDaemon stand-in for dry runs and tests. It measures nothing: sample k "
                        "is the profile at k x interval seconds after Go. Results measured against it are "
                        "labelled SIMULATED.")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8888, help="TCP port (default 8888, PTDaemon's)")
    s.add_argument("--profile", default="constant:100",
                   help="watts over time since Go: <w> | constant:<w> | steps:<t>=<w>,… | "
                        "sine:mean=<w>,amp=<w>,period=<s> | ramp:from=<w>,to=<w>,over=<s> (default constant:100)")
    s.add_argument("--noise", type=float, default=0.0, help="Gaussian noise, standard deviation in watts")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    s.add_argument("--volts", type=float, default=230.0, help="reported volts (default 230)")
    s.add_argument("--pf", type=float, default=0.95, help="reported power factor (default 0.95)")
    s.add_argument("--clock-offset-ms", type=float, default=0.0,
                   help="run the simulated meter's clock this far ahead of this host's")
    s.add_argument("--disconnect-after", type=float, metavar="SECONDS",
                   help="close connections this long after the --disconnect-at-go-th Go (fault test)")
    s.add_argument("--disconnect-at-go", type=int, default=1, metavar="N", help="which Go (default 1)")
    s.add_argument("--error-reply", action="append", default=[], metavar="PREFIX=REPLY",
                   help="answer commands starting with PREFIX with REPLY, e.g. 'SR,A=Error: range' (repeatable)")
    s.add_argument("--log", help="append a PTDaemon-style log and the sample lines to this file")
    s.set_defaults(func=simulate)

    pr = psub.add_parser("probe", help="read a meter for a few seconds and print what it measures")
    pr.add_argument("meter", help="ptd://host:port | sim[:profile] | nvml[:gpus] | rapl[:path] | auto")
    pr.add_argument("--seconds", type=float, default=3.0, help="how long to read (default 3)")
    pr.set_defaults(func=probe)

    c = psub.add_parser("compute", help="power figures of a finished run (detail log + spl.txt)",
                        description="Compute the v2.1 checker's power figures for a run folder: samples "
                        "strictly inside power_begin..power_end; W for Offline/Server, J/query for "
                        "SingleStream/MultiStream.")
    c.add_argument("run_dir", help="folder with mlperf_log_detail.txt")
    c.add_argument("--spl", help="power log (default: RUN_DIR/spl.txt)")
    c.add_argument("--write", action="store_true",
                   help="merge the result into RUN_DIR/podium/podium_result.json and write "
                        "RUN_DIR/podium/power_summary.txt")
    c.add_argument("--json", action="store_true", help="print the power block as JSON")
    c.set_defaults(func=compute)

    e = psub.add_parser("export", help="copy a power session's official files into a submission folder",
                        description="Copy power/, ranging/ and run_1/ of a `podium run --power ptd://…` session "
                        "with only the files the v2.1 checker accepts (podium's own files stay behind).")
    e.add_argument("session_dir", help="the session folder (holds power/, ranging/, run_1/)")
    e.add_argument("dest", help="destination, e.g. …/results/<system>/<benchmark>/<scenario>/performance")
    e.set_defaults(func=export)


def _simulator_from_args(args: argparse.Namespace) -> "object":
    from podium.errors import PodiumError
    from podium.power import PtdSimulator, SimulatorConfig, parse_profile

    errors = {}
    for item in args.error_reply:
        if "=" not in item:
            raise PodiumError(f"--error-reply {item!r}: expected PREFIX=REPLY")
        k, v = item.split("=", 1)
        errors[k] = v
    if args.disconnect_after is not None and args.disconnect_after < 0:
        raise PodiumError(f"--disconnect-after: expected seconds >= 0, got {args.disconnect_after:g}")
    config = SimulatorConfig(profile=parse_profile(args.profile), noise_w=args.noise, seed=args.seed,
                             volts=args.volts, pf=args.pf, clock_offset_s=args.clock_offset_ms / 1000.0,
                             disconnect_after_s=args.disconnect_after, disconnect_at_go=args.disconnect_at_go,
                             error_replies=errors, log_path=Path(args.log) if args.log else None)
    return PtdSimulator(config, host=args.host, port=args.port)


def simulate(args: argparse.Namespace) -> int:
    sim = _simulator_from_args(args)
    print(f"PTDaemon simulator listening on {sim.url} (SIMULATED power, profile {args.profile}); "  # type: ignore[attr-defined]
          f"use --power {sim.url}; Ctrl-C stops it", flush=True)  # type: ignore[attr-defined]
    try:
        sim.serve_forever()  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()  # type: ignore[attr-defined]
    return 0


def probe(args: argparse.Namespace) -> int:
    from podium.power import make_meter

    meter = make_meter(args.meter)
    if meter is None:
        print("power: not measured (no meter available here)")
        return 1
    try:
        meter.prepare("ranging" if meter.needs_ranging else "testing")
        meter.start("podium_probe")
        time.sleep(max(args.seconds, 0.0))
        samples = meter.stop()
        info = meter.info
    finally:
        meter.close()
    print(f"meter   : {info.name}{' (SIMULATED)' if info.simulated else ''}; {info.scope}")
    if not samples:
        print(f"samples : none in {args.seconds:g} s (interval {info.interval_ms} ms)")
        return 1
    watts = [s.watts for s in samples]
    print(f"samples : {len(watts)} in {args.seconds:g} s")
    print(f"watts   : average {sum(watts) / len(watts):.3f}, min {min(watts):.3f}, max {max(watts):.3f}")
    off = info.clock_offset or {}
    if off.get("offset_ms") is not None:
        print(f"clock   : meter - this host = {off['offset_ms']:+.3f} ms (+/- {off.get('uncertainty_ms', 0):.3f} ms; "
              f"{off.get('method')})")
    for lab in info.labels:
        print(f"note    : {lab}")
    return 0


def compute(args: argparse.Namespace) -> int:
    from podium.power import MeterInfo, compute_power_block, read_run_window, read_spl
    from podium.power.result import merge_into_result_json, summary_text, write_summary

    run_dir = Path(args.run_dir)
    spl = Path(args.spl) if args.spl else run_dir / "spl.txt"
    window = read_run_window(run_dir)
    lines = read_spl(spl)
    marks = sorted({m for _, m in lines if m})
    info = MeterInfo(kind="spl", name=f"power log {spl}", scope="as recorded in the power log")
    block = compute_power_block(window, [s for s, _ in lines], info, mark=", ".join(marks) or None)
    if args.write:
        write_summary(run_dir, block)  # podium/power_summary.txt: the log folder keeps only official files
        merge_into_result_json(run_dir, block)
    print(json.dumps(block, indent=2, default=str) if args.json else summary_text(block), end="")
    return 0 if block["measured"] else 1


def export(args: argparse.Namespace) -> int:
    from podium.power import export_power_tree

    dest = export_power_tree(Path(args.session_dir), Path(args.dest))
    print(f"wrote {dest}/power, {dest}/ranging, {dest}/run_1 (the files the v2.1 checker accepts)")
    return 0
