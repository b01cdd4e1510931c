"""The KPI roll-up's rows and reads as the stores compute them, in plain Python, for the pure
differential tests: one row per charger and day with its hourly checkpoints
(csms.domain.kpi_hours.day_hours) and running totals, and what the store's read of a window
returns from them (csms.domain.kpi_window.EdgeRow, EdgeChanges, the downtime sums), written the
way the SQL of csms.store.*.kpi_rollup computes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from csms.domain.kpi_history import ChargerHistory, ConnectorKey
from csms.domain.kpi_hours import HOUR, DayHours, day_hours, split_for_hours, to_us
from csms.domain.kpi_rollup import day_of, day_start
from csms.domain.kpi_tally import Sockets, decode_sockets, encode_sockets
from csms.domain.kpi_window import (
    WEEK,
    WEEK_FIRST,
    WEEK_KNOWN,
    WEEK_OFFLINE,
    WEEK_OLD,
    WEEK_SAME,
    WEEK_USABLE,
    Codec,
    EdgeChanges,
    RowAt,
    Window,
    week_of,
)
from csms.store.kpi_rollup_rows import encode_anchors

__all__ = ["CODEC", "Row", "changes_of", "downtime_of", "edge_row", "rows_of", "week_row"]

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Row:
    """A stored row: its day, checkpoints (None: written before checkpoints existed) and the
    running totals over the charger's rows before it."""

    day: date
    hours: DayHours
    pointed: bool
    run_days: int
    run_deficit: int
    run_all_down: int  # over the days in a row before this one knowing its sockets

    @property
    def sockets(self) -> Sockets:
        [sockets] = self.hours.tally.all_down or [frozenset()]
        return sockets

    @property
    def own_deficit(self) -> int:
        return self.hours.tally.measured - self.hours.tally.connected

    @property
    def own_all_down(self) -> int:
        return sum(self.hours.tally.all_down.values())

    def deficit_at(self, hour: int) -> int:
        return sum(self.hours.deficits[:hour])


def rows_of(
    history: ChargerHistory,
    first: date,
    frontier: tuple[date, int],
    cut: date | None = None,
    unpointed: frozenset[date] = frozenset(),
) -> dict[date, Row]:
    """The charger's rows as rounds write them: from ``first`` (or its registration day) to the
    frontier's day (``frontier``: that day and the hours its row covers), the last ones missing
    from ``cut`` on (not rolled up yet, or deleted by a late change); ``unpointed``: rows written
    by a release before checkpoints."""
    own = max(first, day_of(history.registered_at))
    today, hours_today = frontier
    end = today + DAY if cut is None else min(cut, today + DAY)
    days = (end - own).days
    if days <= 0:
        return {}
    rows: dict[date, Row] = {}
    run_deficit = run_all_down = 0
    sockets: Sockets | None = None
    for n, piece in enumerate(split_for_hours(history, own, days)):
        day = own + n * DAY
        hours = hours_today if day == today else 24
        computed = day_hours(piece, day, hours, day_start(day) + hours * HOUR)
        row = Row(day, computed, day not in unpointed, n, run_deficit, 0)
        if row.sockets != sockets:
            run_all_down = 0
        row = Row(day, computed, day not in unpointed, n, run_deficit, run_all_down)
        rows[day] = row
        run_deficit += row.own_deficit
        run_all_down += row.own_all_down
        sockets = row.sockets
    return rows


def edge_row(history: ChargerHistory, rows: dict[date, Row], window: Window) -> tuple[Any, ...]:
    """What the store's read returns for the charger, as its SQL computes it (raw, as
    :data:`CODEC` reads it)."""
    first, last = window.first, window.last
    a = rows.get(first.day)
    b = rows.get(last.day)
    cp_id = history.charge_point_id
    registered: datetime | None = history.registered_at
    if (a is not None and a.run_days > 0) or history.registered_at < day_start(first.day) - DAY:
        registered = None
    if b is None:
        return (cp_id, registered, None, a is not None, *[None] * 14)
    usable = b.pointed and b.hours.hours >= last.hour and b.hours.set_from <= last.hour
    if a is not None:
        usable = usable and a.pointed and a.hours.hours >= first.hour
        usable = usable and b.run_days - a.run_days == (last.day - first.day).days
    same = a is not None and a.sockets == b.sockets
    every = b.run_all_down - (a.run_all_down if same and a is not None else 0)
    a_anchors = a.hours.anchors if a is not None else []
    b_anchors = b.hours.anchors
    return (
        cp_id,
        registered,
        usable,
        a is not None,
        b.day - b.run_days * DAY if a is None else None,
        b.run_deficit - (a.run_deficit if a is not None else 0),
        every,
        same,
        encode_sockets(b.sockets),
        None if same or a is None else encode_sockets(a.sockets),
        a is not None and a.hours.set_from <= first.hour,
        a.deficit_at(first.hour) if a is not None else 0,
        b.deficit_at(last.hour),
        a is not None and a.hours.offline >> first.hour & 1,
        b.hours.offline >> last.hour & 1,
        tuple(a_anchors) if a_anchors and a_anchors[0].hour <= first.hour else None,
        tuple(b_anchors) if b_anchors and b_anchors[0].hour <= last.hour else None,
        None,
    )


def week_row(
    history: ChargerHistory,
    rows: dict[date, Row],
    window: Window,
    downtime: dict[str, dict[ConnectorKey, int]],
) -> tuple[Any, ...]:
    """What the store's read of a week returns for the charger (csms.store.kpi_rollup_rows.
    week_columns over the row's Week, as the roll-up writes it: week_of)."""
    last = window.last
    b = rows.get(last.day)
    cp_id = history.charge_point_id
    if b is None:
        return (cp_id, history.registered_at, None, None, *[None] * 14)
    a = rows.get(last.day - WEEK)
    week = week_of(
        _at(b),
        None if a is None else _at(a),
        history.registered_at,
        downtime.get(cp_id.lower()),
    )
    flags = week.flags
    anchors = b.hours.anchors
    return (
        cp_id,
        None if flags & WEEK_OLD else history.registered_at,
        b.pointed
        and b.hours.hours == last.hour
        and b.hours.set_from <= last.hour
        and bool(flags & WEEK_USABLE),
        bool(flags & WEEK_FIRST),
        None if flags & WEEK_FIRST else b.day - b.run_days * DAY,
        week.deficit,
        week.all_down,
        bool(flags & WEEK_SAME),
        encode_sockets(b.sockets),
        week.first_sockets,
        bool(flags & WEEK_KNOWN),
        week.first_deficit,
        b.deficit_at(b.hours.hours),
        bool(flags & WEEK_OFFLINE),
        b.hours.offline >> last.hour & 1,
        None if week.first_anchors is None or a is None else tuple(a.hours.anchors),
        tuple(anchors) if anchors else None,
        week.lost,
    )


def _at(row: Row) -> RowAt:
    return RowAt(
        row.day,
        row.run_days,
        row.run_deficit,
        row.run_all_down,
        encode_sockets(row.sockets),
        row.hours.hours if row.pointed else None,
        row.hours.set_from,
        row.hours.offline,
        row.hours.deficits,
        encode_anchors(row.hours.anchors),
    )


def _same(value: Any) -> Any:
    return value


CODEC = Codec(_same, _same, decode_sockets, _same)
"""The rows of :func:`edge_row` hold decoded values already, the sockets as text."""


def changes_of(
    fleet: list[ChargerHistory],
    start: datetime,
    x: datetime,
    statuses_until: datetime | None = None,
) -> EdgeChanges:
    """The store's scans of a piece: connections beginning or ending in ``[start, x)``, status
    reports of sockets beginning in ``[start, statuses_until)`` (default ``x``)."""
    until = x if statuses_until is None else statuses_until
    return EdgeChanges(
        [
            (c.charge_point_id, to_us(c.connected_at), _us(c.disconnected_at))
            for h in fleet
            for c in h.connections
            if start <= c.connected_at < x
            or (c.disconnected_at is not None and start <= c.disconnected_at < x)
        ],
        [
            (
                s.charge_point_id,
                s.evse_id,
                s.connector_id,
                s.status,
                to_us(s.started_at),
                _us(s.ended_at),
            )
            for h in fleet
            for s in h.statuses
            if start <= s.started_at < until and s.evse_id > 0 and s.connector_id > 0
        ],
    )


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def downtime_of(
    fleet: list[ChargerHistory], rows: dict[str, dict[date, Row]], days: tuple[date, date]
) -> dict[str, dict[ConnectorKey, int]]:
    """The store's downtime sums over ``[first, end)`` days, per charger (lower-cased)."""
    out: dict[str, dict[ConnectorKey, int]] = {}
    for h in fleet:
        for day, row in rows[h.charge_point_id].items():
            if days[0] <= day < days[1]:
                for key, value in row.hours.tally.lost.items():
                    mine = out.setdefault(h.charge_point_id.lower(), {})
                    mine[key] = mine.get(key, 0) + value
    return out
