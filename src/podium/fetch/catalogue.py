"""The catalogue of official assets: which models, data sets and calibration lists each benchmark uses.

The facts live in ``catalogue.json`` beside this module (data, not code): for every asset its name, kind
(``model``, ``data``, ``calibration``), the URL(s) the MLPerf reference downloads it from, the checksum the
reference gives (or a note saying it gives none), its size, licence terms and whether it is gated or
manual-only. This module reads that file into typed records, resolves benchmark names (``bert-99`` and
``bert-99.9`` share the ``bert`` files) and rewrites URLs for a mirror (``PODIUM_FETCH_MIRROR``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from podium.errors import PodiumError

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
KINDS = ("model", "data", "calibration")
#: environment variable naming a mirror whose layout is ``<mirror>/<host>/<path>`` of each official URL
MIRROR_ENV = "PODIUM_FETCH_MIRROR"
ALGORITHMS = ("md5", "sha256")


@dataclass(frozen=True)
class Checksum:
    """A checksum as a source gives it: ``algorithm`` (md5 or sha256), hex ``value`` and where it comes from."""

    algorithm: str
    value: str
    source: str = ""


@dataclass(frozen=True)
class Manual:
    """How a gated or manual-only asset is obtained: the steps and the file whose presence means it is in place."""

    steps: str
    expect: str


@dataclass(frozen=True)
class Asset:
    """One official file (or folder, for a gated data set) of a benchmark."""

    name: str
    kind: str
    file: str
    urls: tuple[str, ...]
    checksum: Checksum | None = None
    checksum_note: str = ""
    size: int | None = None
    size_note: str = ""
    licence: str = ""
    gated: bool = False
    manual: Manual | None = None
    optional: bool = False
    unpack: str | None = None
    unpack_to: str | None = None
    provides: str | None = None
    after: str = ""
    reference: str = ""

    @property
    def result(self) -> str:
        """The path (relative to the benchmark's folder) a user of this asset reads: the unpacked folder or file."""
        return self.provides or self.file


@dataclass(frozen=True)
class BenchmarkAssets:
    """The assets of one benchmark family and where, inside its cache folder, each kind is read from."""

    key: str
    aliases: tuple[str, ...]
    title: str
    paths: dict[str, str | None]
    assets: tuple[Asset, ...]
    ships: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str | None, include_optional: bool = False) -> list[Asset]:
        """The assets of ``kind`` (all kinds when None), without the optional alternatives unless asked."""
        return [a for a in self.assets if (kind is None or a.kind == kind) and (include_optional or not a.optional)]

    def asset(self, name: str) -> Asset:
        """The asset called ``name``; a one-line error lists the names when there is none."""
        for a in self.assets:
            if a.name == name:
                return a
        raise PodiumError(f"--asset {name}: not an asset of {self.key} (expected one of "
                          f"{', '.join(a.name for a in self.assets) or 'none'})")


@dataclass(frozen=True)
class Catalogue:
    """All benchmark families, looked up by any of their names."""

    benchmarks: dict[str, BenchmarkAssets]

    def get(self, benchmark: str) -> BenchmarkAssets:
        """The family that ``benchmark`` (e.g. ``bert-99.9``) belongs to; a one-line error names the choices."""
        for b in self.benchmarks.values():
            if benchmark in b.aliases or benchmark == b.key:
                return b
        names = sorted({a for b in self.benchmarks.values() for a in b.aliases})
        raise PodiumError(f"benchmark {benchmark!r}: not in the fetch catalogue (expected one of {', '.join(names)})")

    def with_mirror(self, mirror: str | None) -> Catalogue:
        """The catalogue with every URL rewritten to ``<mirror>/<host>/<path>`` (unchanged when ``mirror`` is empty)."""
        if not mirror:
            return self
        return Catalogue({k: replace(b, assets=tuple(replace(a, urls=tuple(mirror_url(u, mirror) for u in a.urls))
                                                        for a in b.assets))
                          for k, b in self.benchmarks.items()})


def mirror_url(url: str, mirror: str) -> str:
    """``url`` as served by ``mirror``: ``https://zenodo.org/record/1/files/x`` -> ``<mirror>/zenodo.org/record/1/files/x``."""
    parts = urlsplit(url)
    tail = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return mirror.rstrip("/") + "/" + tail


def _need(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise PodiumError(f"{where}: field {key!r} missing")
    return d[key]


def _asset(d: dict[str, Any], where: str) -> Asset:
    name = _need(d, "name", where)
    where = f"{where} {name}"
    kind = _need(d, "kind", where)
    if kind not in KINDS:
        raise PodiumError(f"{where}: kind {kind!r} (expected one of {', '.join(KINDS)})")
    ck = d.get("checksum")
    checksum = None
    if ck is not None:
        algo = str(_need(ck, "algorithm", where)).lower()
        if algo not in ALGORITHMS:
            raise PodiumError(f"{where}: checksum algorithm {algo!r} (expected one of {', '.join(ALGORITHMS)})")
        checksum = Checksum(algo, str(_need(ck, "value", where)).lower(), str(ck.get("source", "")))
    man = d.get("manual")
    manual = Manual(str(_need(man, "steps", where)), str(_need(man, "expect", where))) if man else None
    gated = bool(d.get("gated", False))
    if gated and manual is None:
        raise PodiumError(f"{where}: a gated asset needs field 'manual' (steps and expect)")
    urls = d.get("urls") or []
    if not gated and not urls:
        raise PodiumError(f"{where}: field 'urls' is empty")
    unpack = d.get("unpack")
    if unpack not in (None, "tar", "tar.gz", "zip"):
        raise PodiumError(f"{where}: unpack {unpack!r} (expected tar, tar.gz or zip)")
    return Asset(name=name, kind=kind, file=str(_need(d, "file", where)), urls=tuple(urls), checksum=checksum,
                 checksum_note=str(d.get("checksum_note", "")), size=d.get("size"),
                 size_note=str(d.get("size_note", "")), licence=str(d.get("licence", "")), gated=gated,
                 manual=manual, optional=bool(d.get("optional", False)), unpack=unpack,
                 unpack_to=d.get("unpack_to"), provides=d.get("provides"), after=str(d.get("after", "")),
                 reference=str(d.get("reference", "")))


def parse_catalogue(data: dict[str, Any], where: str = "catalogue") -> Catalogue:
    """A ``Catalogue`` from the parsed JSON; malformed entries raise one line naming the entry and field."""
    out: dict[str, BenchmarkAssets] = {}
    for key, b in _need(data, "benchmarks", where).items():
        w = f"{where}: benchmark {key}"
        assets = tuple(_asset(a, f"{w}: asset") for a in b.get("assets", []))
        notes = {k.removesuffix("_note"): str(v) for k, v in b.items() if k.endswith("_note")}
        out[key] = BenchmarkAssets(key=key, aliases=tuple(b.get("aliases", [key])), title=str(b.get("title", "")),
                                   paths=dict(b.get("paths", {})), assets=assets, ships=str(b.get("ships", "")),
                                   notes=notes)
    return Catalogue(out)


def load_catalogue(path: str | os.PathLike[str] | None = None, mirror: str | None = None) -> Catalogue:
    """The catalogue (podium's own unless ``path``), with URLs rewritten for ``mirror`` or ``$PODIUM_FETCH_MIRROR``."""
    p = Path(path) if path is not None else CATALOGUE_FILE
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PodiumError(f"{p}: not a readable fetch catalogue ({exc})") from exc
    cat = parse_catalogue(data, str(p))
    return cat.with_mirror(mirror if mirror is not None else os.environ.get(MIRROR_ENV))
