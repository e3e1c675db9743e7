"""Reading ``mlperf_log_detail.txt`` the way the v2.1 submission checker does, without stopping at the first
bad line: every ``:::MLLOG`` line must be JSON; for a repeated key the first record wins; records whose
``metadata.is_error`` is true are the log's errors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = ":::MLLOG"


@dataclass
class MlLog:
    """A parsed detail log."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    #: (line number, text) of each ``:::MLLOG`` line that is not valid JSON.
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)
    first: dict[str, Any] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.first

    def get(self, key: str, default: Any = None) -> Any:
        return self.first.get(key, default)

    def errors(self) -> list[str]:
        """The values of the error records (the messages the checker prints)."""
        out = []
        for r in self.records:
            meta = r.get("metadata")
            if isinstance(meta, dict) and meta.get("is_error"):
                out.append(str(r.get("value")))
        return out


def read_mllog(path: str | os.PathLike[str]) -> MlLog:
    """Parse a detail log; raises OSError when it cannot be read."""
    p = Path(path)
    log = MlLog(p)
    with open(p, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip()
            if not line.startswith(MARKER):
                continue
            try:
                rec = json.loads(line[len(MARKER):])
            except json.JSONDecodeError:
                log.invalid_lines.append((n, line[:120]))
                continue
            if not isinstance(rec, dict) or "key" not in rec:
                log.invalid_lines.append((n, line[:120]))
                continue
            log.records.append(rec)
            log.first.setdefault(str(rec["key"]), rec.get("value"))
    return log
