"""A KPI window's read on SQLite (csms.domain.kpi_window): per charger its rows at the window's
two checkpoints, summed as far as SQL goes; what begins or ends inside the two pieces after
them; the sockets' downtime over the days between. One read, so one consistent state, and for
a network about two row lookups per charger and a few thousand rows of history."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import date, datetime

from csms.domain.clock import parse_timestamp
from csms.domain.kpi_window import NO_CHANGES, Codec, EdgeChanges, Window, WindowRows
from csms.store.kpi_rollup_rows import (
    decode_anchors,
    decode_sockets,
    read_downtime,
    week_columns,
    window_columns,
)
from csms.store.kpi_window_cache import CachedRead, WindowCache, read_key
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.history import charger_scope, day_number, from_day_number
from csms.store.sqlite.values import epoch_ms, json_text

__all__ = ["CODEC", "read_frontier", "read_window"]

CODEC = Codec(parse_timestamp, from_day_number, decode_sockets, decode_anchors)
_JULIAN_EPOCH = 2440587.5  # 1970-01-01 as a Julian day


def read_frontier(conn: sqlite3.Connection) -> list[tuple[date, int, int, int]]:
    """The two latest days with rows: each with how many, and the fewest and most hours one
    covers."""
    return [
        (from_day_number(day), rows, hours, most)
        for day, rows, hours, most in conn.execute(
            "SELECT day, count(*), min(coalesce(hours, 24)),"
            " max(coalesce(hours, 24)) FROM kpi_days"
            " WHERE day >= (SELECT max(day) FROM kpi_days) - 1 GROUP BY day"
        )
    ]


async def read_window(
    db: SqliteDatabase,
    window: Window,
    cp_id: str | None,
    site_ids: Collection[str] | None,
    statuses: bool,
    downtime: bool,
    reads: WindowCache,
) -> WindowRows:
    """The window's rows, from ``reads`` while they have not changed since they were read."""
    scope, scope_args = charger_scope(cp_id, site_ids)
    first, last = window.first, window.last
    days = [day_number(first.day), day_number(last.day)]
    if window.week:
        # The week the newest rows end: one row per charger.
        main = (
            f"SELECT cp.id, {week_columns(last.hour)} FROM charge_points cp"
            " LEFT JOIN kpi_days b ON b.charge_point_id = cp.id AND b.day = ?"
            f" WHERE {scope} ORDER BY cp.id"
        )
        main_args = [days[1], *scope_args]
    else:
        # Registered a day or more before the first checkpoint's day, whatever the text's form
        # (a Julian day is a float: the margin keeps it exact).
        before = f"julianday(cp.created_at) < {_JULIAN_EPOCH + days[0] - 1}"
        columns = window_columns(
            first.hour,
            last.hour,
            days[1] - days[0],
            statuses,
            "CAST({} AS INTEGER)",
            before,
            nulls=False,
        )
        # The chargers in the order the interval reads list them (by id), each with its rows
        # of the two checkpoints' days, looked up directly.
        main = (
            f"SELECT cp.id, {columns} FROM charge_points cp"
            " LEFT JOIN kpi_days a ON a.charge_point_id = cp.id AND a.day = ?"
            " LEFT JOIN kpi_days b ON b.charge_point_id = cp.id AND b.day = ?"
            f" WHERE {scope} ORDER BY cp.id"
        )
        main_args = [*days, *scope_args]

    key = read_key(window, statuses, downtime, cp_id, site_ids)
    kept = reads.get(key)

    def read(conn: sqlite3.Connection) -> tuple[CachedRead | None, EdgeChanges, EdgeChanges]:
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: ten thousand rows
        version = cursor.execute("SELECT version FROM kpi_rows_version").fetchone()[0]
        fresh = None
        if kept is not None and kept.version == version:
            rows = kept.rows
        else:
            rows = cursor.execute(main, main_args).fetchall()
            downs = None
            if key.downtime and days[0] < days[1] and not window.week:
                downs = cursor.execute(
                    "SELECT charge_point_id, evse_id, connector_id, sum(down_us)"
                    " FROM charge_points cp JOIN kpi_day_downtime d ON d.charge_point_id = cp.id"
                    f" AND d.day >= ? AND d.day < ? WHERE {scope}"
                    " GROUP BY charge_point_id, evse_id, connector_id",
                    [*days, *scope_args],
                ).fetchall()
            lost = read_downtime(window.week, rows, downs) if key.downtime else None
            fresh = CachedRead(version, rows, lost)
        # The pieces' few rows through the time indexes, a network's whole; the rows of
        # chargers out of scope are not looked at. A scope of a few chargers: theirs, through
        # the charger index.
        within = "1"
        within_args: list[object] = []
        if len(rows) < _FEW:
            within = "charge_point_id IN (SELECT value FROM json_each(?))"
            within_args = [json_text([row[0] for row in rows])]
        a = _changes(cursor, within, within_args, first.at, window.start, window.start, statuses)
        b = _changes(cursor, within, within_args, last.at, window.b, window.end, statuses)
        return fresh, a, b

    fresh, a, b = await db.read(read)
    found = reads.settled(key, kept, fresh)
    return WindowRows(found.rows, CODEC, a, b, found.downtime if downtime else None)


_FEW = 1000
"""Below this many chargers in scope, a piece's changes are looked up charger by charger."""


def _changes(
    cursor: sqlite3.Cursor,
    within: str,
    scope_args: list[object],
    start: datetime,
    x: datetime,
    reported_until: datetime,
    statuses: bool,
) -> EdgeChanges:
    """Connections beginning or ending in ``[start, x)``, sockets' reports beginning in
    ``[start, reported_until)``; ties in time in the order they were written (an interval of no
    length before the next)."""
    if x <= start and reported_until <= start:
        return NO_CHANGES
    s, e, r = epoch_ms(start), epoch_ms(x), epoch_ms(reported_until)
    # Moments as microseconds: plain integers, a datetime only for the few that need one.
    connections = cursor.execute(
        "SELECT charge_point_id, connected_at * 1000, disconnected_at * 1000"
        " FROM connection_history WHERE ((connected_at >= ? AND connected_at < ?)"
        f" OR (disconnected_at >= ? AND disconnected_at < ?)) AND {within}"
        " ORDER BY connected_at, id",
        [s, e, s, e, *scope_args],
    ).fetchall()
    reports = []
    if statuses:
        reports = cursor.execute(
            "SELECT charge_point_id, evse_id, connector_id, status, from_at * 1000, to_at * 1000"
            " FROM status_history WHERE from_at >= ? AND from_at < ? AND evse_id > 0"
            f" AND connector_id > 0 AND {within} ORDER BY from_at, id",
            [s, r, *scope_args],
        ).fetchall()
    return EdgeChanges(connections, reports)
