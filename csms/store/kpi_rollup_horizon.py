"""Which history changes may fall in a rolled-up day: the guard that keeps the roll-up off the
write path of the frames.

A status or connection change at a moment before the horizon may fall in a UTC day that is
already rolled up (a status queued offline and delivered days later): its write deletes that
charger's roll-up rows from that day on, in its own commit. A change at or after the horizon
cannot, and costs no statement more (the common case: a change at today's time).

The horizon is the start of the day after the latest day any roll-up of this process may write
or has found stored. It only moves forward. The roll-up task moves it to the start of the
current day before it rolls up the day that just ended, and waits a little before reading that
day, so a change already past the guard has committed by then (ADR 009). Until something sets
it, it is unknown and every change checks. It is one per process, shared by every store the
process opens: a horizon ahead of what a store holds only costs that store a few needless
deletes; one behind would miss an invalidation, which is why a store's roll-up moves it past
every day it writes before writing it.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["HORIZON", "RollupHorizon"]


class RollupHorizon:
    def __init__(self) -> None:
        self._before: datetime | None = None  # None: unknown

    def covers(self, moment: datetime) -> bool:
        """Whether a change at ``moment`` may fall in a rolled-up day."""
        before = self._before
        return before is None or moment < before

    def extend(self, before: datetime) -> bool:
        """Move the horizon to ``before`` unless it is already there or later; whether it moved."""
        if self._before is not None and self._before >= before:
            return False
        self._before = before
        return True


HORIZON = RollupHorizon()
