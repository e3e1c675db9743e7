"""The error type every user-caused failure in podium raises.

A ``PodiumError`` carries a one-line message that names the file, field or sample at fault and what was
expected; the CLI prints it without a traceback.
"""


class PodiumError(Exception):
    """A failure the user can fix: bad input, a missing file, an impossible setting."""


class ConfigError(PodiumError):
    """A settings file (mlperf.conf, user.conf, audit.config) or setting value is malformed."""


class CompletionTimeoutError(PodiumError):
    """The system under test stopped completing samples for longer than the completion timeout."""


class SettingError(PodiumError, ValueError):
    """A setting value that is not one of the allowed ones (a scenario name, a mode code)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a run, raised after the logs of what was measured were written, marked INVALID.

    ``result`` is the interrupted test's ``TestResult`` (None when no test had started); the suite runner sets
    ``outcome`` to the run's outcome so far before re-raising, so the CLI can show and record it.
    """

    def __init__(self, message: str = "interrupted", result: object | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.outcome: object | None = None
