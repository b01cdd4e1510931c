"""The KPI roll-up's days: which whole UTC days of a window the roll-up answers for a charger,
what is left for its intervals, and which days a roll-up round still has to write. Pure.

A roll-up row holds one charger's :class:`~csms.domain.kpi_tally.Tally` over one UTC day,
computed from the history overlapping that day, with its hourly checkpoints
(csms.domain.kpi_hours): a day that has ended whole, today up to the hour the last round began
(its *hours*). Rows exist for the days from the one the charger was registered in (earlier days
measure nothing), and a charger's rows are always one unbroken run of days: rounds write days
oldest first and never a day whose previous day is missing or partial, a late change deletes a
suffix, the retention a prefix. So a count, the first and the last day say exactly which days a
sum covers (:class:`Planner`, which the reports use for chargers the checkpoints cannot answer
for: csms.domain.kpi_window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, NamedTuple

from csms.domain.kpi_history import Span
from csms.domain.kpi_tally import Tally

__all__ = [
    "Plan",
    "Planner",
    "RolledUp",
    "RollupProgress",
    "RollupRun",
    "day_of",
    "day_start",
    "hours_of",
    "missing_runs",
    "plan",
    "stale_runs",
    "whole_days",
]

_DAY: Final = timedelta(days=1)
_HOUR: Final = timedelta(hours=1)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_of(moment: datetime) -> date:
    """The UTC day ``moment`` lies in."""
    return moment.astimezone(UTC).date()


def hours_of(day: date, now: datetime) -> int:
    """How many hours of ``day`` a round at ``now`` rolls up: all 24 of a day that has ended,
    today's up to the hour now is in, none of a day to come."""
    return max(0, min(24, (now - day_start(day)) // _HOUR))


def whole_days(start: datetime, end: datetime, now: datetime) -> tuple[date, date]:
    """``[first, last)``: the UTC days wholly inside ``[start, end)`` that have ended by ``now``
    (``first >= last`` when there is none)."""
    first = day_of(start)
    if day_start(first) < start:
        first += _DAY
    return first, day_of(min(end, now))


class RolledUp(NamedTuple):
    """One charger's roll-up rows over a range of days, summed (what the store reads). A named
    tuple, as :class:`Plan`: a network's report builds one per charger."""

    charge_point_id: str
    registered_at: datetime
    days: int = 0  # rows summed
    first: date | None = None
    last: date | None = None
    tally: Tally = Tally()  # never mutated: a charger without rows shares it


class Plan(NamedTuple):
    """How one charger's report is made: its rows' sum, plus its intervals over ``pieces``."""

    charge_point_id: str
    registered_at: datetime
    rolled: Tally
    pieces: tuple[Span, ...]


class Planner:
    """Plans the chargers of one report over ``[start, end)``, whose whole days are
    ``[first, last)``: a charger's rows are used when they are one run of days from its first
    day in the window (``first``, or the day it was registered in) on, up to ``last`` or less;
    its intervals cover the rest of the window. Rows of any other shape (a charger not rolled up
    yet; a gap, which the store never leaves) are not used at all."""

    def __init__(self, start: datetime, end: datetime, first: date, last: date) -> None:
        self._start = start
        self._end = end
        self._first = first
        self._last = last
        self._first_start = day_start(first)
        self._last_start = day_start(last)

    def plan(self, rolled: RolledUp) -> Plan:
        first = self._first
        if rolled.registered_at <= self._first_start:
            own, a = first, self._first_start
        else:
            own = max(first, day_of(rolled.registered_at))
            a = day_start(own)
        last = rolled.last
        if rolled.days == 0 or rolled.first != own or last is None:
            return self._everything(rolled)
        after = last + _DAY
        if (after - own).days != rolled.days:
            return self._everything(rolled)
        b = self._last_start if after == self._last else day_start(after)
        if a <= self._start:
            pieces: tuple[Span, ...] = () if self._end <= b else ((b, self._end),)
        elif self._end <= b:
            pieces = ((self._start, a),)
        else:
            pieces = ((self._start, a), (b, self._end))
        return Plan(rolled.charge_point_id, rolled.registered_at, rolled.tally, pieces)

    def _everything(self, rolled: RolledUp) -> Plan:
        return Plan(
            rolled.charge_point_id, rolled.registered_at, Tally(), ((self._start, self._end),)
        )


def plan(rolled: RolledUp, start: datetime, end: datetime, first: date, last: date) -> Plan:
    """:meth:`Planner.plan` for one charger."""
    return Planner(start, end, first, last).plan(rolled)


# ---------------------------------------------------------------- what a round writes


@dataclass(frozen=True, slots=True)
class RollupProgress:
    """One charger's rows from the retention's first day on: the first and the last day, the
    hours the last one covers (24: a whole day, also for a row written before checkpoints), and
    the first and last of its rows without checkpoints (written before them), if any."""

    charge_point_id: str
    registered_at: datetime
    first: date | None
    last: date | None
    hours: int = 24
    unpointed: tuple[date, date] | None = None


@dataclass(frozen=True, slots=True)
class RollupRun:
    """Days ``first`` to ``first + days`` (excluded) of one charger, to roll up in one go (the
    last one maybe partly: :func:`hours_of`)."""

    charge_point_id: str
    first: date
    days: int


def missing_runs(
    progress: Iterable[RollupProgress],
    first: date,
    end: date,
    longest: int,
    partial: int | None = None,
) -> list[RollupRun]:
    """The days of ``[first, end)`` not rolled up yet, from each charger's registration day on,
    and with ``partial`` the day ``end`` too, up to that hour (today's row, rewritten as the day
    goes on): as runs of at most ``longest`` days, oldest first. A partial last row is written
    again, whole or further."""
    runs: list[RollupRun] = []
    stop = end if partial is None else end + _DAY
    for charger in progress:
        own = max(first, day_of(charger.registered_at))
        if charger.first is None or charger.last is None:
            gaps = [(own, stop)]
        else:
            target = partial if partial is not None and charger.last == end else 24
            after = charger.last if charger.hours < target else charger.last + _DAY
            gaps = [(own, charger.first), (after, stop)]
        for a, b in gaps:
            while a < b:
                days = min(longest, (b - a).days)
                runs.append(RollupRun(charger.charge_point_id, a, days))
                a += days * _DAY
    runs.sort(key=lambda run: (run.first, run.days, run.charge_point_id))
    return runs


def stale_runs(progress: Iterable[RollupProgress], longest: int) -> list[RollupRun]:
    """The rows written before checkpoints existed, to write again with them: newest first
    (the default window's edges are recent), in runs of at most ``longest`` days. Writing a row
    again changes none of its figures (a late change would have deleted it), so the run totals
    of the rows after it still hold."""
    runs: list[RollupRun] = []
    for charger in progress:
        if charger.unpointed is None:
            continue
        lo, hi = charger.unpointed
        b = hi + _DAY
        while b > lo:
            a = max(lo, b - longest * _DAY)
            runs.append(RollupRun(charger.charge_point_id, a, (b - a).days))
            b = a
    runs.sort(key=lambda run: (-run.first.toordinal(), run.days, run.charge_point_id))
    return runs
