"""``fetch``: bring one benchmark's assets into its folder, verified, and say what happened to each.

Per downloadable asset: skip it when the manifest shows it verified and unchanged (no network at all);
else download into ``<file>.part`` (resumed), check size and checksum, rename into place (atomic), unpack
archives safely, record it in the manifest. A checksum that does not match moves the bytes to
``<file>.bad`` and raises a one-line error naming the asset, the expected and the obtained value.
Gated or manual-only assets are never downloaded: when the expected file is in place it is checked (when
the reference gives a checksum) and recorded; otherwise the outcome carries the instructions.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import PodiumError
from podium.fetch import cache
from podium.fetch.archive import unpack
from podium.fetch.catalogue import KINDS, Asset, BenchmarkAssets, Catalogue, load_catalogue
from podium.fetch.download import Policy, Progress, download
from podium.fetch.hashing import file_digests
from podium.fetch.messages import ChecksumMismatch, ManualAssetsNeeded, manual_message, mismatch_message

#: outcome statuses
FETCHED, ALREADY, PLACED, MISSING = "fetched", "already", "placed", "missing"


@dataclass(frozen=True)
class Outcome:
    """What happened to one asset: ``status`` (fetched, already, placed, missing), where it is, a message."""

    asset: Asset
    status: str
    path: Path
    message: str = ""


@dataclass
class FetchReport:
    """The outcomes of one ``fetch`` call; ``ok`` is False when a gated or manual asset is still missing."""

    benchmark: str
    root: Path
    outcomes: list[Outcome] = field(default_factory=list)
    note: str = ""

    @property
    def missing(self) -> list[Outcome]:
        """The gated or manual assets that are not in place."""
        return [o for o in self.outcomes if o.status == MISSING]

    @property
    def ok(self) -> bool:
        """True when every selected asset is in place and verified."""
        return not self.missing

    def raise_for_missing(self) -> None:
        """Raise ``ManualAssetsNeeded`` with the instructions when something is still missing."""
        if self.missing:
            raise ManualAssetsNeeded("\n".join(o.message for o in self.missing))


def _verification(asset: Asset) -> str:
    if asset.checksum is None:
        return "none given by the reference: sha256 recorded at first download"
    return f"{asset.checksum.algorithm} ({asset.checksum.source or 'catalogue'})"


def _check(asset: Asset, path: Path, bad: Path | None) -> dict[str, str]:
    """The digests of ``path``, after checking size and checksum; a mismatch keeps the file as ``bad``."""
    algos = ("sha256",) if asset.checksum is None or asset.checksum.algorithm == "sha256" else (
        asset.checksum.algorithm, "sha256")
    size = path.stat().st_size
    if asset.size is not None and size != asset.size:
        kept = _keep_bad(path, bad)
        raise ChecksumMismatch(mismatch_message(asset.name, "size", f"{asset.size} bytes", f"{size} bytes", kept))
    digests = file_digests(path, algos)
    if asset.checksum is not None and digests[asset.checksum.algorithm] != asset.checksum.value:
        kept = _keep_bad(path, bad)
        raise ChecksumMismatch(mismatch_message(asset.name, asset.checksum.algorithm, asset.checksum.value,
                                                digests[asset.checksum.algorithm], kept))
    return digests


def _keep_bad(path: Path, bad: Path | None) -> Path | None:
    if bad is None:  # a file the user placed stays where it is
        return path
    try:
        os.replace(path, bad)
        return bad
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _entry(asset: Asset, url: str | None, result: Path, root: Path, digests: dict[str, str],
           how: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": asset.kind, "file": asset.file, "result": str(result.relative_to(root)),
                             "verified": how, "url": url, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                      time.gmtime())}
    entry.update(digests)
    if result.is_file():
        entry.update(cache.stat_fields(result))
    return entry


def _fetch_download(fam: BenchmarkAssets, asset: Asset, root: Path, force: bool, policy: Policy,
                    progress: Progress | None) -> Outcome:
    final = root / asset.file
    result = root / asset.result
    manifest = cache.read_manifest(root)
    if not force and cache.is_current(root, asset, manifest):
        return Outcome(asset, ALREADY, result, f"{asset.name}: already fetched and verified at {result}")
    part = final.with_name(final.name + ".part")
    bad = final.with_name(final.name + ".bad")
    if force:
        with contextlib.suppress(OSError):
            part.unlink()
        cache.record(root, fam.key, asset.name, None)
    url = download(asset.urls, part, asset.name, policy=policy, progress=progress)
    digests = _check(asset, part, bad)
    try:
        os.replace(part, final)  # only verified bytes ever carry the final name
    except OSError as exc:
        raise PodiumError(f"asset {asset.name}: cannot move it to {final} ({exc.strerror or exc})") from None
    if asset.unpack:
        unpack(final, root / (asset.unpack_to or "."), asset.unpack)
        with contextlib.suppress(OSError):
            final.unlink()  # the archive's checksum is in the manifest; its contents are what is read
    cache.record(root, fam.key, asset.name, _entry(asset, url, result, root, digests, _verification(asset)))
    msg = f"{asset.name}: fetched and verified ({_verification(asset)}) at {result}"
    if asset.after:
        msg += f"\n  next: {asset.after}"
    return Outcome(asset, FETCHED, result, msg)


def _fetch_manual(fam: BenchmarkAssets, asset: Asset, root: Path, benchmark: str) -> Outcome:
    assert asset.manual is not None
    place = root / asset.file
    expect = root / asset.manual.expect
    manifest = cache.read_manifest(root)
    if cache.is_current(root, asset, manifest):
        return Outcome(asset, ALREADY, place, f"{asset.name}: in place and recorded at {place}")
    if not expect.exists():
        where = asset.urls[0] if asset.urls else "see docs/fetch.md"
        return Outcome(asset, MISSING, place, manual_message(benchmark, asset.name, where, asset.manual.steps,
                                                             place, expect, asset.licence))
    digests: dict[str, str] = {}
    how = "placed by you; the reference gives no checksum to check it against"
    if asset.checksum is not None and expect.is_file():
        digests = _check(asset, expect, None)
        how = f"placed by you; {asset.checksum.algorithm} checked ({asset.checksum.source})"
    cache.record(root, fam.key, asset.name, _entry(asset, None, place, root, digests, how))
    return Outcome(asset, PLACED, place, f"{asset.name}: found at {place} ({how})")


def select(fam: BenchmarkAssets, what: str | None = None, asset: str | None = None) -> list[Asset]:
    """The assets a call fetches: one by name, else those of ``what`` (every kind when None), optional ones left out."""
    if what is not None and what not in KINDS:
        raise PodiumError(f"--what {what}: expected one of {', '.join(KINDS)}")
    if asset is not None:
        return [fam.asset(asset)]
    return fam.of_kind(what)


def fetch(benchmark: str, what: str | None = None, *, dest: str | Path | None = None, force: bool = False,
          asset: str | None = None, catalogue: Catalogue | None = None, policy: Policy = Policy(),
          progress: Progress | None = None) -> FetchReport:
    """Fetch ``benchmark``'s assets of kind ``what`` (all kinds when None) into its cache folder or ``dest``.

    Returns the report (gated assets still missing are in ``report.missing`` with their instructions);
    raises ``PodiumError`` subclasses, one line each, for failed downloads, mismatching checksums and
    unsafe archives.
    """
    cat = catalogue or load_catalogue()
    fam = cat.get(benchmark)
    root = cache.benchmark_root(fam.key, dest)
    report = FetchReport(benchmark, root, note=fam.ships)
    for a in select(fam, what, asset):
        if a.gated:
            report.outcomes.append(_fetch_manual(fam, a, root, benchmark))
        else:
            report.outcomes.append(_fetch_download(fam, a, root, force, policy, progress))
    if what == "calibration" and not fam.of_kind("calibration") and "calibration" in fam.notes:
        report.note = fam.notes["calibration"]
    return report
