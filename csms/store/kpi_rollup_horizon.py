"""Which history changes may fall in a rolled-up piece of a day: the guard that keeps the roll-up
off the write path of the frames.

A status or connection change at a moment before the horizon may fall in the hours a roll-up
row already covers (a status queued offline and delivered days later, or stamped by a charger
whose clock is a little behind, just before the hour): its write deletes that charger's roll-up
rows from that day on, in its own commit (today's row included). A change at or after the
horizon cannot, and costs no statement more (the common case: a change stamped now).

The horizon is the end of the latest piece any roll-up of this process may write or has found
stored: the start of the current hour, once the round of the hour has run (today's row covers
the day up to there). It only moves forward. The roll-up task moves it to the start of the hour
before it rolls up the hour that just ended, and waits a little before reading that hour, so a
change already past the guard has committed by then (ADR 009). Until something sets it, it is
unknown and every change checks. It is one per process, shared by every store the process
opens: a horizon ahead of what a store holds only costs that store a few needless deletes; one
behind would miss an invalidation, which is why a store's roll-up moves it past every hour it
writes before writing it.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["HORIZON", "RollupHorizon"]


class RollupHorizon:
    def __init__(self) -> None:
        self._before: datetime | None = None  # None: unknown

    def covers(self, moment: datetime) -> bool:
        """Whether a change at ``moment`` may fall in a rolled-up piece."""
        before = self._before
        return before is None or moment < before

    def extend(self, before: datetime) -> bool:
        """Move the horizon to ``before`` unless it is already there or later; whether it moved."""
        if self._before is not None and self._before >= before:
            return False
        self._before = before
        return True


HORIZON = RollupHorizon()
