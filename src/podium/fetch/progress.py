"""Download progress for people: a rich bar on a terminal, a plain line every 10 % (or 10 s) when piped."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from podium.fetch.messages import human_size


class PlainProgress:
    """Plain lines, for logs and pipes: start, every tenth (or every 10 s when the length is unknown), end."""

    def __init__(self, stream: IO[str] | None = None, every_s: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.name = ""
        self.total: int | None = None
        self.done = 0
        self._next_tenth = 1
        self._last = 0.0

    def start(self, name: str, total: int | None, done: int) -> None:
        """A line naming the download, its length and where it resumes."""
        self.name, self.total, self.done = name, total, done
        self._next_tenth = int(10 * done / total) + 1 if total else 1
        self._last = time.monotonic()
        resume = f", resuming at {human_size(done)}" if done else ""
        print(f"{name}: downloading {human_size(total)}{resume}", file=self.stream, flush=True)

    def update(self, done: int) -> None:
        """A line at each further tenth of the file (or every ``every_s`` seconds)."""
        self.done = done
        now = time.monotonic()
        if self.total:
            if done * 10 >= self._next_tenth * self.total and done < self.total:
                print(f"{self.name}: {100 * done // self.total}% ({human_size(done)} of {human_size(self.total)})",
                      file=self.stream, flush=True)
                self._next_tenth = int(10 * done / self.total) + 1
        elif now - self._last >= self.every_s:
            print(f"{self.name}: {human_size(done)}", file=self.stream, flush=True)
            self._last = now

    def finish(self) -> None:
        """Nothing more: the caller says whether the file verified."""


class RichProgress:
    """A rich progress bar (size, speed, time left) on the terminal's standard error, one per download."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    def start(self, name: str, total: int | None, done: int) -> None:
        """Show a bar for this download (the same bar again on a retry)."""
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                                       TransferSpeedColumn)

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                      TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
            self._progress.start()
            self._task = self._progress.add_task(name, total=total, completed=done)
        else:
            self._progress.update(self._task, total=total, completed=done)

    def update(self, done: int) -> None:
        """Move the bar."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done)

    def finish(self) -> None:
        """Stop drawing (the finished bar stays on screen)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = self._task = None


def for_stream(stream: IO[str] | None = None) -> PlainProgress | RichProgress:
    """A rich bar when ``stream`` (standard error) is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    return RichProgress() if getattr(stream, "isatty", lambda: False)() else PlainProgress(stream)
