"""Run the ``podium`` command line in-process, with this issue's subcommands registered if ``main`` does not
register them yet."""

from __future__ import annotations

import argparse

from podium.cli import cmd_report, cmd_results, cmd_submission, cmd_sysinfo
from podium.cli import main as cli_main
from podium.errors import PodiumError

_COMMANDS = {"submission": cmd_submission, "sysinfo": cmd_sysinfo, "results": cmd_results, "report": cmd_report}


def build_parser() -> argparse.ArgumentParser:
    parser = cli_main.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, mod in _COMMANDS.items():
        if name not in sub.choices:
            mod.add_parser(sub)
    return parser


def run_cli(argv: list[str]) -> int:
    """Like ``podium.cli.main.main``: the exit status, user errors printed as one line (status 2)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PodiumError as exc:
        print(f"podium: error: {exc}")
        return 2
