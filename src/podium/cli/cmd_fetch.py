"""`podium fetch`: the official models, data and calibration lists of a benchmark, downloaded and verified.

Exit status: 0 when everything selected is in place and verified, 3 when a gated or manual-only asset still
has to be put in place by hand (the instructions say how and where), 2 for errors (one line).
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

EXIT_MANUAL = 3
_KIND_SHORT = {"model": "model", "data": "data", "calibration": "calib"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `podium fetch`."""
    p = sub.add_parser(
        "fetch", help="download and verify a benchmark's official model, data and calibration files",
        description="Download the official MLPerf models, data sets and calibration lists (the URLs and "
                    "checksums of the reference implementation) into podium's cache, resumably and verified. "
                    "Gated or manual-only assets (ImageNet, Criteo, KiTS19, OpenImages) are never downloaded: "
                    "podium says where to get them and where to put them. Set PODIUM_FETCH_MIRROR=URL to "
                    "fetch from a mirror laid out as URL/<host>/<path>.")
    p.add_argument("benchmark", nargs="?", help="benchmark name (resnet, retinanet, bert-99, rnnt, 3d-unet-99, "
                                                "dlrm-99, ...); optional with --list")
    p.add_argument("--what", choices=("model", "data", "calibration"), help="only this kind (default: all)")
    p.add_argument("--asset", metavar="NAME", help="only the asset NAME (also optional alternatives; see --list)")
    p.add_argument("--list", action="store_true", help="list the catalogue (all benchmarks, or one) and exit")
    p.add_argument("--dest", metavar="DIR", help="put the files in DIR instead of the cache "
                                                 "(~/.cache/podium/assets/<benchmark>)")
    p.add_argument("--force", action="store_true", help="download again even when already fetched and verified")
    p.add_argument("--mirror", metavar="URL", help="fetch from URL/<host>/<path> (default: $PODIUM_FETCH_MIRROR)")
    p.add_argument("--catalogue", metavar="FILE", help="use this catalogue file (same format as podium's "
                                                       "src/podium/fetch/catalogue.json) instead of podium's own")
    p.set_defaults(func=run)


def catalogue_table(cat: object, benchmark: str | None = None) -> Table:
    """The catalogue as a table that fits 80 columns: benchmark, asset, kind, size, how it is checked or got."""
    from podium.cli.cmd_results import narrow_table
    from podium.fetch import Catalogue
    from podium.fetch.messages import human_size

    assert isinstance(cat, Catalogue)
    fams = [cat.get(benchmark)] if benchmark else list(cat.benchmarks.values())
    t = narrow_table("Official assets (podium fetch BENCHMARK)", caption_justify="left",
                     caption="gated: podium says where to get it and where to put it; * optional "
                             "(--asset NAME); sha256*: from the tagged reference file")
    for col, kw in (("benchmark", {"no_wrap": True}), ("asset", {"overflow": "fold", "max_width": 41}),
                    ("kind", {"no_wrap": True}), ("size", {"justify": "right", "no_wrap": True}),
                    ("check", {"no_wrap": True})):
        t.add_column(col, **kw)
    for fam in fams:
        if fam.ships:
            t.add_row(fam.key, "(ships with podium)", "", "", "")
        for i, a in enumerate(fam.assets):
            # the size note's first words are its short form ("about 98 MB (...)" -> "~98 MB")
            size = human_size(a.size) if a.size is not None else (a.size_note.split(" (")[0].split(";")[0] or "?")
            if a.gated:
                check = "gated"
            elif a.checksum is None:
                check = "none given"
            elif a.checksum.source.startswith("podium"):
                check = f"{a.checksum.algorithm}*"
            else:
                check = a.checksum.algorithm
            t.add_row(fam.key if i == 0 else "", a.name + (" *" if a.optional else ""), _KIND_SHORT[a.kind],
                      size.replace("about ", "~"), check)
    return t


def run(args: argparse.Namespace) -> int:
    from podium.errors import PodiumError
    from podium.fetch import fetch, load_catalogue
    from podium.fetch.progress import for_stream

    cat = load_catalogue(args.catalogue, mirror=args.mirror)
    console = Console(width=min(Console().width, 100))
    if args.list:
        console.print(catalogue_table(cat, args.benchmark))
        return 0
    if not args.benchmark:
        raise PodiumError("benchmark: missing (e.g. 'podium fetch resnet'; 'podium fetch --list' lists them)")
    report = fetch(args.benchmark, args.what, dest=args.dest, force=args.force, asset=args.asset, catalogue=cat,
                   progress=for_stream(sys.stderr))
    for o in report.outcomes:
        if o.status != "missing":
            print(o.message)
    if report.note:
        print(report.note)
    if not report.outcomes and not report.note:
        print(f"{args.benchmark}: no {args.what or ''} assets to fetch".replace("  ", " "))
    if report.missing:
        for o in report.missing:
            print(o.message, file=sys.stderr)
        print(f"podium: {len(report.missing)} asset(s) of {args.benchmark} must be put in place by hand "
              "(see above)", file=sys.stderr)
        return EXIT_MANUAL
    return 0
