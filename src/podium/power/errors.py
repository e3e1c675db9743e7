"""Errors of the power package: each a ``PodiumError`` with a one-line message naming the meter and the fault."""

from __future__ import annotations

from podium.errors import PodiumError


class PowerError(PodiumError):
    """A power measurement could not be made or read."""


class MeterUnavailableError(PowerError):
    """The meter asked for is not present or not readable here (no driver, no powercap, no permission)."""


class MeterDisconnectedError(PowerError):
    """The meter's connection closed or stopped answering while it was measuring."""


class PtdReplyError(PowerError):
    """PTDaemon (or the simulator) answered a command with an error or an unexpected reply."""
