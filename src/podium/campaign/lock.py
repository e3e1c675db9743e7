"""One ``podium suite run`` per campaign at a time: a lock file in the campaign's folder holding the owner's pid.

A second run of the same campaign while the first is alive stops at once with a one-line error naming the pid;
a lock left by a process that died (killed, machine restarted) is taken over.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from podium.errors import PodiumError

LOCK_FILE = "campaign.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class CampaignLock:
    """Held for the duration of ``with CampaignLock(folder):``."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.held = False

    def __enter__(self) -> "CampaignLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise PodiumError(f"{self.path.parent}: this campaign is already running (pid {pid}); wait for "
                                      f"it or stop it, then run again") from None
                self.path.unlink(missing_ok=True)  # left by a process that died: take it over
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise PodiumError(f"{self.path}: cannot take the campaign lock")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
