"""``podium``: the command-line entry point and its subcommands.

Every user-caused error is a ``PodiumError`` printed as one line (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from podium.errors import PodiumError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the bad option and what was expected, then where to find the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from podium import __version__
    from podium.cli import (cmd_fetch, cmd_list, cmd_power, cmd_report, cmd_results, cmd_run, cmd_serve, cmd_submission,
                            cmd_suite, cmd_sweep, cmd_sysinfo)

    ap = _Parser(prog="podium", description="MLPerf-Inference-compatible benchmarking: "
                                 "LoadGen, benchmarks, harness, submission tools.")
    ap.add_argument("--version", action="version", version=f"podium {__version__}")
    ap.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    cmd_run.add_parser(sub)
    cmd_list.add_parser(sub)
    cmd_list.add_build_model_parser(sub)
    cmd_power.add_parser(sub)
    cmd_submission.add_parser(sub)
    cmd_sysinfo.add_parser(sub)
    cmd_results.add_parser(sub)
    cmd_report.add_parser(sub)
    cmd_serve.add_parser(sub)
    cmd_suite.add_parser(sub)
    cmd_sweep.add_parser(sub)
    cmd_fetch.add_parser(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except PodiumError as exc:
        if args.debug:
            raise
        print(f"podium: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("podium: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
