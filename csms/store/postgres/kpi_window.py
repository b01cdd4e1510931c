"""A KPI window's read on PostgreSQL (csms.domain.kpi_window): per charger its rows at the
window's two checkpoints, summed as far as SQL goes; what begins or ends inside the two pieces
after them; the sockets' downtime over the days between. One read-only transaction at one
snapshot."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import asyncpg

from csms.domain.kpi_rollup import day_start
from csms.domain.kpi_window import NO_CHANGES, Codec, EdgeChanges, Window, WindowRows
from csms.store.kpi_rollup_rows import (
    decode_anchors,
    decode_sockets,
    read_downtime,
    week_columns,
    window_columns,
)
from csms.store.kpi_window_cache import CachedRead, WindowCache, read_key
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.history import charger_scope

__all__ = ["CODEC", "prune_changes", "read_frontier", "read_version", "read_window"]


async def read_frontier(conn: asyncpg.Connection) -> list[tuple[date, int, int, int]]:
    """The two latest days with rows: each with how many, and the fewest and most hours one
    covers."""
    return [
        (row[0], row[1], row[2], row[3])
        for row in await conn.fetch(
            "SELECT day, count(*)::integer, min(coalesce(hours, 24)),"
            " max(coalesce(hours, 24)) FROM kpi_days"
            " WHERE day >= (SELECT max(day) FROM kpi_days) - 1 GROUP BY day"
        )
    ]


def _same(value: Any) -> Any:
    """asyncpg returns dates and aware datetimes as they are."""
    return value


CODEC = Codec(_same, _same, decode_sockets, decode_anchors)


async def read_window(
    db: PostgresDatabase,
    window: Window,
    cp_id: str | None,
    site_ids: Collection[str] | None,
    statuses: bool,
    downtime: bool,
    reads: WindowCache,
) -> WindowRows:
    """The window's rows, from ``reads`` while they have not changed since they were read."""
    scope, scope_arg = charger_scope(cp_id, site_ids)
    first, last = window.first, window.last
    if window.week:
        # The week the newest rows end: one row per charger.
        main = (
            f"SELECT cp.id, {week_columns(last.hour)} FROM charge_points cp"
            " LEFT JOIN kpi_days b ON b.charge_point_id = cp.id AND b.day = $2"
            f" WHERE $1::date IS NOT NULL AND {scope.format(n=3)} ORDER BY cp.id"
        )
    else:
        columns = window_columns(
            first.hour,
            last.hour,
            (last.day - first.day).days,
            statuses,
            "split_part({}, ':', 1)::integer",
            f"cp.created_at < '{day_start(first.day).isoformat()}'::timestamptz",
            nulls=True,
        )
        # The chargers in the order the interval reads list them (by id), each with its rows
        # of the two checkpoints' days, looked up directly.
        main = (
            f"SELECT cp.id, {columns} FROM charge_points cp"
            " LEFT JOIN kpi_days a ON a.charge_point_id = cp.id AND a.day = $1"
            " LEFT JOIN kpi_days b ON b.charge_point_id = cp.id AND b.day = $2"
            f" WHERE {scope.format(n=3)} ORDER BY cp.id"
        )

    key = read_key(window, statuses, downtime, cp_id, site_ids)
    kept = reads.get(key)

    async def read(conn: asyncpg.Connection) -> tuple[CachedRead | None, EdgeChanges, EdgeChanges]:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            version = await read_version(conn)
            fresh = None
            if kept is None or kept.version != version:
                found = await conn.fetch(main, first.day, last.day, scope_arg)
                rows = [tuple(row) for row in found]
                downs = None
                if key.downtime and first.day < last.day and not window.week:
                    downs = await conn.fetch(
                        "SELECT charge_point_id, evse_id, connector_id, sum(down_us)::bigint"
                        " FROM kpi_day_downtime WHERE day >= $1 AND day < $2 AND charge_point_id"
                        f" IN (SELECT id FROM charge_points WHERE {scope.format(n=3)})"
                        " GROUP BY charge_point_id, evse_id, connector_id",
                        first.day,
                        last.day,
                        scope_arg,
                    )
                lost = read_downtime(window.week, rows, downs) if key.downtime else None
                fresh = CachedRead(version, rows, lost)
            a = await _changes(
                conn, scope, scope_arg, first.at, window.start, window.start, statuses
            )
            b = await _changes(conn, scope, scope_arg, last.at, window.b, window.end, statuses)
        return fresh, a, b

    fresh, a, b = await db.read(read)
    found = reads.settled(key, kept, fresh)
    return WindowRows(found.rows, CODEC, a, b, found.downtime if downtime else None)


async def read_version(conn: asyncpg.Connection) -> int:
    """A number that grows with every committed change to what a window's read finds (migration
    016): the change entries' newest id and their count (a change committed after one with a
    higher id leaves the id as it is and adds to the count)."""
    newest, count = await conn.fetchrow("SELECT max(id), count(*) FROM kpi_rows_changes")
    return int(((newest or 0) << 32) + count)


async def prune_changes(conn: asyncpg.Connection) -> None:
    """The change entries but a newer one (in a transaction of its own). Every writer that
    could add one waits meanwhile, and none is half-way, so the new one is the newest there
    is, and :func:`read_version` still only grows."""
    await conn.execute("LOCK TABLE kpi_rows_changes IN EXCLUSIVE MODE")
    newest = await conn.fetchval("INSERT INTO kpi_rows_changes DEFAULT VALUES RETURNING id")
    await conn.execute("DELETE FROM kpi_rows_changes WHERE id < $1", newest)


async def _changes(
    conn: asyncpg.Connection,
    scope: str,
    scope_arg: object,
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
    within = f"charge_point_id IN (SELECT id FROM charge_points WHERE {scope.format(n=3)})"
    # Moments as microseconds since the epoch (exact: extract gives a numeric).
    connections = [
        tuple(row)
        for row in await conn.fetch(
            f"SELECT charge_point_id, {_US.format('connected_at')}, {_US.format('disconnected_at')}"
            " FROM connection_history WHERE ((connected_at >= $1 AND connected_at < $2)"
            f" OR (disconnected_at >= $1 AND disconnected_at < $2)) AND {within}"
            " ORDER BY connected_at, id",
            start,
            x,
            scope_arg,
        )
    ]
    reports = []
    if statuses:
        reports = [
            tuple(row)
            for row in await conn.fetch(
                "SELECT charge_point_id, evse_id, connector_id, status,"
                f" {_US.format('from_at')}, {_US.format('to_at')} FROM status_history"
                " WHERE from_at >= $1 AND from_at < $2 AND evse_id > 0"
                f" AND connector_id > 0 AND {within} ORDER BY from_at, id",
                start,
                reported_until,
                scope_arg,
            )
        ]
    return EdgeChanges(connections, reports)


_US = "(extract(epoch FROM {}) * 1000000)::bigint"
