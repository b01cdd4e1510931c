"""A KPI report's window on the roll-up's checkpoints, pure: where its start and end fall on
them, and what the store reads there for each charger (ADR 009; the sums:
csms.domain.kpi_window_sums).

Let ``G(x)`` be a charger's durations from its first roll-up row up to a moment ``x``. A window
``[a, b)`` (``b`` the end or now, whichever is first) is ``G(b) - G(a)``, and the store reads
each ``G`` at the latest checkpoint before the moment (csms.domain.kpi_hours): the running
totals of the checkpoint's row, plus the row's figures at the checkpoint's hour; what is left,
the piece from the checkpoint to the moment, comes from the state just before the checkpoint
and the few intervals that begin or end inside the piece.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, NamedTuple

from csms.domain.kpi_history import ConnectorKey
from csms.domain.kpi_hours import (
    HOUR,
    Anchor,
    ConnectionRow,
    StatusRow,
)
from csms.domain.kpi_rollup import day_of, day_start
from csms.domain.kpi_tally import Sockets

__all__ = [
    "NO_CHANGES",
    "WEEK",
    "WEEK_FIRST",
    "WEEK_KNOWN",
    "WEEK_OFFLINE",
    "WEEK_OLD",
    "WEEK_SAME",
    "WEEK_USABLE",
    "Checkpoint",
    "Codec",
    "EdgeChanges",
    "EdgeRow",
    "Frontier",
    "RowAt",
    "Week",
    "Window",
    "WindowRows",
    "checkpoint_before",
    "frontier_of",
    "week_of",
]

_DAY: Final = timedelta(days=1)
WEEK: Final = timedelta(days=7)
_NONE: Final[Sockets] = frozenset()


class Checkpoint(NamedTuple):
    """An hour boundary of a roll-up row: ``hour`` 0 to 24 of ``day``."""

    day: date
    hour: int

    @property
    def at(self) -> datetime:
        return day_start(self.day) + self.hour * HOUR


class Frontier(NamedTuple):
    """The latest checkpoint every row of the latest day has, and whether they all reach it and
    no further (not in the middle of a round: the newest rows then all keep the same week)."""

    checkpoint: Checkpoint
    settled: bool


def frontier_of(latest: Sequence[tuple[date, int, int, int]]) -> Frontier | None:
    """The frontier of the rows, from the two latest days with rows: ``(day, rows, fewest
    hours, most hours)``. A round writes a new day's rows charger by charger: until it has
    written as many as the day before has, the day before is the one every charger has."""
    if not latest:
        return None
    ordered = sorted(latest, reverse=True)
    day, rows, hours, most = ordered[0]
    if len(ordered) > 1 and ordered[1][0] == day - _DAY and rows < ordered[1][1]:
        day, _, hours, most = ordered[1]
        return Frontier(Checkpoint(day, hours), False)
    return Frontier(Checkpoint(day, hours), hours == most)


def checkpoint_before(moment: datetime, frontier: Checkpoint | None) -> Checkpoint:
    """The latest checkpoint at or before ``moment`` that the rows have."""
    day = day_of(moment)
    mine = Checkpoint(day, (moment - day_start(day)) // HOUR)
    if frontier is not None and frontier.at <= mine.at:
        return frontier  # the same moment as (day + 1, 0) when at hour 24: the row that exists
    return mine


@dataclass(frozen=True, slots=True)
class Window:
    """A report's window ``[start, end)`` at ``now`` on the checkpoints: ``b`` is where measured
    time ends, ``first`` and ``last`` the checkpoints at or before ``start`` and ``b``."""

    start: datetime
    end: datetime
    now: datetime
    b: datetime
    first: Checkpoint
    last: Checkpoint
    week: bool = False  # a week ending at the frontier: read from the newest rows (Week)

    @classmethod
    def of(cls, start: datetime, end: datetime, now: datetime, frontier: Frontier | None) -> Window:
        b = min(end, now)
        at = None if frontier is None else frontier.checkpoint
        last = checkpoint_before(b, at)
        first = checkpoint_before(start, at)
        week = Checkpoint(last.day - WEEK, last.hour)
        if (
            frontier is not None
            and frontier.settled
            and last == at
            and end - start == WEEK
            and b == end
            and week.at <= start
        ):
            # A week ending at the rows' frontier, as the default window: its first checkpoint
            # a week before the last, the pair the newest rows keep the sums of (:class:`Week`),
            # maybe more than an hour before its start when the rows lag.
            return cls(start, end, now, b, week, last, True)
        return cls(start, end, now, b, first, last, False)

    @property
    def empty(self) -> bool:
        return self.b <= self.start

    @property
    def downtime_days(self) -> tuple[date, date]:
        """``[first, end)``: the days whose whole downtime rows the sums take: from the first
        checkpoint's day to the last one's, excluded (its part comes from its anchors)."""
        return self.first.day, self.last.day


class EdgeRow(NamedTuple):
    """One charger as the store reads it at a window's two checkpoints (rows A and B: its rows
    of the first and last checkpoint's days), decoded. Durations in microseconds.

    The store hands the rows over undecoded, as plain tuples in this order with the values as
    it reads them (:class:`Codec` decodes them): ten thousand named tuples per report would
    cost more than the arithmetic."""

    charge_point_id: str
    registered_at: datetime | None  # None: registered before the first checkpoint's day
    usable: bool  # B has the checkpoint; A too, in the same run of rows; or A is missing
    has_first: bool  # A found
    first_row: date | None  # the day of the charger's first row (B's run)
    deficit: int  # B's running deficit (not connected while measured), less A's
    all_down: int  # B's running all-down total, less A's when A knows B's sockets
    same_sockets: bool  # A knows B's sockets
    sockets: Sockets  # B's
    first_sockets: Sockets  # A's
    first_known: bool  # A had been told of all its sockets by the first checkpoint
    first_deficit: int  # A's deficit at the first checkpoint
    last_deficit: int
    first_offline: bool  # just before the checkpoint
    last_offline: bool
    first_anchors: tuple[Anchor, ...]  # A's anchors, when one is at or before the checkpoint
    last_anchors: tuple[Anchor, ...]
    week_lost: str | None  # read from a Week: the sockets' downtime between (the store's)


class Codec(NamedTuple):
    """How a store's raw row values read: the registration moment, a day, a set of sockets,
    anchors (csms.store.kpi_rollup_rows)."""

    registered: Callable[[Any], datetime]
    day: Callable[[Any], date]
    sockets: Callable[[Any], Sockets]
    anchors: Callable[[Any], tuple[Anchor, ...]]

    def decode(self, row: Sequence[Any]) -> EdgeRow:
        """A raw row (:class:`EdgeRow`'s fields in order, as the store reads them)."""
        (cp_id, created, usable, has_first, first_row, deficit, every, same, sockets) = row[:9]
        first_sockets, known, ca, cb, a_off, b_off, a_text, b_text, week_lost = row[9:]
        mine = self.sockets(sockets) if sockets is not None else _NONE
        return EdgeRow(
            cp_id,
            None if created is None else self.registered(created),
            bool(usable),
            bool(has_first),
            None if first_row is None else self.day(first_row),
            deficit or 0,
            every or 0,
            bool(same),
            mine,
            mine if first_sockets is None else self.sockets(first_sockets),
            bool(known),
            ca or 0,
            cb or 0,
            bool(a_off),
            bool(b_off),
            self.anchors(a_text) if a_text else (),
            self.anchors(b_text) if b_text else (),
            week_lost,
        )


class Week(NamedTuple):
    """What a day's newest row keeps of the week ending at its last checkpoint, so that a report
    over the last 7 days (the default window) reads that row only: the start row's part of
    :class:`EdgeRow` (the row of the same hour 7 days before: A), and the sockets' downtime
    over the days from A's to this one's, excluded. The end row's part is its own."""

    flags: int  # WEEK_USABLE | WEEK_FIRST | WEEK_SAME | WEEK_KNOWN | WEEK_OFFLINE | WEEK_OLD
    deficit: int  # this row's running deficit less A's
    all_down: int  # this row's running all-down total, less A's when A knows its sockets
    first_sockets: str | None  # A's, when not this row's
    first_deficit: int  # A's deficit at the checkpoint
    first_anchors: str | None  # A's anchors, when one is at or before the checkpoint
    lost: str | None  # per socket, "evse/connector=us" (" " between); None: none


WEEK_USABLE, WEEK_FIRST, WEEK_SAME, WEEK_KNOWN, WEEK_OFFLINE, WEEK_OLD = (1, 2, 4, 8, 16, 32)
"""Week.flags: A has the checkpoint and is in the same run of rows (or is missing); A found; A
knows the row's sockets; A had been told of all its sockets by the checkpoint; not connected
just before A's checkpoint; the charger registered a day or more before A's day, or has rows
before A (so before the window)."""


class RowAt(NamedTuple):
    """A stored row as :func:`week_of` reads it."""

    day: date
    run_days: int
    run_deficit: int  # run_measured_us - run_connected_us
    run_all_down: int
    sockets: str
    hours: int | None
    set_from: int
    offline: int
    deficits: Sequence[int]  # per hour
    anchors: str | None  # as stored; the first anchor's hour before the first ":"


def week_of(
    row: RowAt,
    first: RowAt | None,
    registered: datetime,
    downtime: dict[ConnectorKey, int] | None,
) -> Week:
    """The :class:`Week` of ``row`` (at its last checkpoint): ``first`` is the charger's row of
    the same day a week before (A), if any; ``downtime`` the sockets' downtime over A's day to
    the row's, excluded. What the read of a window over that week would find in A, as the
    stores' SQL reads it (csms.store.kpi_rollup_rows.window_columns)."""
    hour = row.hours if row.hours is not None else 24
    lost = (
        " ".join(f"{e}/{c}={v}" for (e, c), v in sorted(downtime.items()) if v)
        if downtime
        else None
    )
    a_day = row.day - WEEK
    old = registered < day_start(a_day) - _DAY
    if first is None:
        flags = WEEK_USABLE | (WEEK_OLD if old else 0)
        return Week(flags, row.run_deficit, row.run_all_down, None, 0, None, lost or None)
    same = first.sockets == row.sockets
    usable = (
        first.hours is not None
        and first.hours >= hour
        and row.run_days - first.run_days == WEEK.days
    )
    anchors = first.anchors
    flags = (
        (WEEK_USABLE if usable else 0)
        | WEEK_FIRST
        | (WEEK_SAME if same else 0)
        | (WEEK_KNOWN if first.set_from <= hour else 0)
        | (WEEK_OFFLINE if first.offline >> hour & 1 else 0)
        | (WEEK_OLD if old or first.run_days > 0 else 0)
    )
    return Week(
        flags,
        row.run_deficit - first.run_deficit,
        row.run_all_down - (first.run_all_down if same else 0),
        None if same else first.sockets,
        sum(first.deficits[:hour]),
        anchors if anchors and int(anchors.split(":", 1)[0]) <= hour else None,
        lost or None,
    )


class EdgeChanges(NamedTuple):
    """What begins or ends inside a window's piece after a checkpoint, for every charger, as
    plain rows (moments in microseconds since the epoch): connections beginning or ending in
    ``[checkpoint, x)``, status reports of sockets beginning in ``[checkpoint, x)`` (``x``: the
    end of the window for the last piece, the sockets the window knows reach that far); ties in
    time in the order they were written."""

    connections: Sequence[ConnectionRow]
    statuses: Sequence[StatusRow]


class WindowRows(NamedTuple):
    """What the store reads for a window: each charger in scope (in the order the interval reads
    list them; raw :class:`EdgeRow` tuples, as ``codec`` reads them), the changes inside the two
    pieces, and per charger (id lower-cased) the sockets' downtime over
    :attr:`Window.downtime_days` (None when not asked for)."""

    rows: Sequence[Sequence[Any]]
    codec: Codec
    first: EdgeChanges
    last: EdgeChanges
    downtime: dict[str, dict[ConnectorKey, int]] | None


NO_CHANGES: Final = EdgeChanges((), ())
