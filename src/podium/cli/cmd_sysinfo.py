"""``podium sysinfo``: the v2.1 system description JSON of this machine, and the fields left for you to fill."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from podium.errors import PodiumError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sysinfo", help="the MLPerf v2.1 system description of this machine (JSON)",
                       description="Write the system description JSON with every field MLPerf v2.1 requires, "
                       "filled from this machine (CPU, caches, memory, storage, OS, NVIDIA GPUs via NVML when "
                       "nvidia-ml-py is installed, frameworks). Fields podium cannot know are left empty and "
                       "listed on stderr for you to fill.")
    p.add_argument("--out", metavar="FILE", help="write the JSON here (default: stdout)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--division", choices=("closed", "open", "network"))
    p.add_argument("--submitter", metavar="ORG")
    p.add_argument("--system-name", metavar="NAME")
    p.add_argument("--status", choices=("available", "preview", "rdi"))
    p.add_argument("--system-type", choices=("datacenter", "edge", "datacenter,edge"))
    p.add_argument("--explain", action="store_true", help="also list where each value came from (stderr)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from podium.submission.sysdesc import describe_system

    desc = describe_system(division=args.division, submitter=args.submitter, system_name=args.system_name,
                           status=args.status, system_type=args.system_type, network=args.division == "network")
    text = desc.to_json()
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise PodiumError(f"--out {out}: already exists; pass --force to replace it")
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.explain:
        for key, source in desc.sources.items():
            print(f"  {key}: {source}", file=sys.stderr)
    if desc.to_fill:
        print(f"fill in ({len(desc.to_fill)} fields podium cannot read from this machine): "
              + ", ".join(desc.to_fill), file=sys.stderr)
    return 0
