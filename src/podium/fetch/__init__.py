"""``podium fetch``: the official MLPerf models, data sets and calibration lists, fetched and verified.

The catalogue (``catalogue.json``, read by ``catalogue``) says where each asset comes from and how to check
it, as the MLPerf reference implementation gives it; ``download`` moves the bytes (resumable, bounded),
``hashing`` checks them, ``archive`` unpacks safely, ``cache`` keeps them and the manifest, ``messages``
holds the words. Only ``podium fetch`` downloads anything; a run reads the cache through ``asset_path``.
This layer imports only ``podium.errors`` and ``podium.files``.
"""

from __future__ import annotations

from podium.fetch.cache import asset_path, benchmark_root, read_manifest
from podium.fetch.catalogue import (KINDS, MIRROR_ENV, Asset, BenchmarkAssets, Catalogue, Checksum,
                                    load_catalogue, mirror_url, parse_catalogue)
from podium.fetch.download import Policy
from podium.fetch.fetcher import FetchReport, Outcome, fetch
from podium.fetch.messages import ChecksumMismatch, FetchError, ManualAssetsNeeded

__all__ = [
    "KINDS", "MIRROR_ENV", "Asset", "BenchmarkAssets", "Catalogue", "Checksum", "ChecksumMismatch", "FetchError",
    "FetchReport", "ManualAssetsNeeded", "Outcome", "Policy", "asset_path", "benchmark_root", "fetch",
    "load_catalogue", "mirror_url", "parse_catalogue", "read_manifest",
]
