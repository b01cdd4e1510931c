"""Throttles as plain arithmetic on a monotonic clock: a token bucket (a budget of events per
second with a burst) and a failure counter that locks a key out for a while.

No I/O and no asyncio: the gateway, the OCPP connection and the API feed them the time and act on
their answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FailureThrottle", "TokenBucket", "retry_after_seconds"]


class TokenBucket:
    """``rate`` events per second on average, up to ``burst`` at once after a quiet spell.

    A few float operations per event: cheap enough for the per-frame path.
    """

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one; False: over the budget."""
        tokens = self._tokens + (now - self._last) * self._rate
        self._last = now
        if tokens > self._burst:  # an if, not min(): a builtin call costs more on this path
            tokens = self._burst
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True


def retry_after_seconds(blocked: float) -> int:
    """A lock-out's remaining time as an HTTP Retry-After: whole seconds, rounded up so that a
    client that waits that long is let in, and at least 1 (0 would invite an immediate retry)."""
    return max(1, math.ceil(blocked))


@dataclass(slots=True)
class _Failures:
    window_start: float
    count: int = 0
    blocked_until: float = 0.0


class FailureThrottle:
    """After ``max_failures`` failures of one key within ``window`` seconds, the key is blocked
    for ``lockout`` seconds.

    Keys are what the caller chooses (an identity, an address). At most ``capacity`` keys are
    remembered: when more arrive (addresses are plentiful, e.g. IPv6), the idle ones are
    forgotten first, then the oldest, so memory stays bounded whoever sends.
    """

    def __init__(
        self,
        max_failures: int,
        window: float,
        lockout: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = 100_000,
    ) -> None:
        self._max_failures = max_failures
        self._window = window
        self._lockout = lockout
        self._clock = clock
        self._capacity = capacity
        self._keys: dict[str, _Failures] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def blocked_for(self, key: str) -> float:
        """Seconds ``key`` stays blocked; 0.0 when it is not."""
        record = self._keys.get(key)
        if record is None:
            return 0.0
        return max(0.0, record.blocked_until - self._clock())

    def failed(self, key: str) -> None:
        now = self._clock()
        record = self._keys.get(key)
        if record is None or now - record.window_start > self._window:
            if record is None and len(self._keys) >= self._capacity:
                self._make_room(now)
            record = self._keys[key] = _Failures(now, 0, record.blocked_until if record else 0.0)
        record.count += 1
        if record.count >= self._max_failures:
            # Blocked from now on; the count starts again, so a key that keeps failing right
            # after its lock-out is blocked again after as many failures, not at the first.
            record.blocked_until = now + self._lockout
            record.count = 0
            record.window_start = now

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)

    def _make_room(self, now: float) -> None:
        idle = [
            key
            for key, record in self._keys.items()
            if now - record.window_start > self._window and record.blocked_until <= now
        ]
        for key in idle:
            del self._keys[key]
        if len(self._keys) >= self._capacity:
            # Still full of recent keys: forget the older half (dicts keep insertion order).
            for key in list(self._keys)[: len(self._keys) // 2 + 1]:
                del self._keys[key]
