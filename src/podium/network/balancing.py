"""Balancing policies: which endpoint gets the next request.

``round_robin`` cycles through the endpoints in order. ``least_outstanding`` picks the endpoint with the fewest
requests sent and not yet answered (ties go round robin), which steers load away from a slower node.
"""

from __future__ import annotations

import threading

from podium.errors import PodiumError

POLICIES = ("round_robin", "least_outstanding")


class Balancer:
    """Picks an endpoint index per request and tracks requests outstanding per endpoint (thread-safe)."""

    def __init__(self, count: int, policy: str = "round_robin") -> None:
        key = policy.replace("-", "_").lower()
        if key not in POLICIES:
            raise PodiumError(f"--sut-policy {policy!r}: expected one of {', '.join(POLICIES)}")
        if count < 1:
            raise PodiumError("--sut-url: at least one endpoint is needed")
        self.policy = key
        self.outstanding = [0] * count
        self.sent = [0] * count
        self._next = 0
        self._lock = threading.Lock()

    def acquire(self) -> int:
        """The endpoint for the next request; counts it as outstanding until ``release``."""
        with self._lock:
            n = len(self.outstanding)
            start = self._next
            if self.policy == "round_robin" or n == 1:
                pick = start
            else:
                pick = min(range(start, start + n), key=lambda i: self.outstanding[i % n]) % n
            self._next = (pick + 1) % n
            self.outstanding[pick] += 1
            self.sent[pick] += 1
            return pick

    def release(self, index: int) -> None:
        """The request to endpoint ``index`` is answered (or failed)."""
        with self._lock:
            self.outstanding[index] -= 1
