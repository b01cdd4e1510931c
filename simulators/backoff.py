"""Reconnect delays: exponential backoff with jitter.

Jitter matters for fleets: without it, N chargers dropped by a server restart
would all reconnect in the same instant and hammer it again.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 30.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._rng = rng or random.Random()
        self._attempt = 0

    def reset(self) -> None:
        self._attempt = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        # "Equal jitter": keeps at least half the delay so we still back off.
        return base / 2 + self._rng.uniform(0, base / 2)
