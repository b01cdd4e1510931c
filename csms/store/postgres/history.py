"""Connection and status history on PostgreSQL.

The intervals are written by the chargers repository (csms.store.postgres.chargers), in the
commit of the change that causes them; here they are read and purged. A change that may fall in
a day the KPI roll-up already holds (csms.store.kpi_rollup_horizon) deletes that charger's
roll-up rows from that day on, in the same commit; the roll-up task writes them again."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final

import asyncpg

from csms.domain.history import REPLACED, ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory
from csms.domain.kpi_rollup import day_of
from csms.domain.paging import Page, Paged, paged
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.postgres.database import PostgresDatabase

__all__ = [
    "ROLLUP_LOCK",
    "PostgresHistory",
    "charger_scope",
    "close_open_connections",
    "read_histories",
    "read_pieces",
    "record_connection_change",
    "record_status_change",
]

ROLLUP_LOCK: Final = 0x6B70_6972
"""The advisory lock a roll-up batch holds exclusively while it reads history and writes rows,
and a late change's invalidation shares: the invalidation then sees the batch's rows, or the
batch sees the change (ADR 009)."""


async def record_connection_change(
    conn: asyncpg.Connection, cp_id: str, *, connected: bool, at: datetime, reason: str | None
) -> None:
    """Inside the write that records the connection: open an interval, or close the open one."""
    await _invalidate_rollup(conn, cp_id, at)
    # Connecting, what is still open is the connection this one replaces (the newest wins, and
    # the replaced one's late close is not recorded).
    await conn.execute(
        "UPDATE connection_history SET disconnected_at = greatest(connected_at, $2), reason = $3"
        " WHERE charge_point_id = $1 AND disconnected_at IS NULL",
        cp_id,
        at,
        REPLACED if connected else reason,
    )
    if connected:
        # The charger's id as registered, whatever the case the connection used.
        await conn.execute(
            "INSERT INTO connection_history (charge_point_id, connected_at)"
            " SELECT id, $2 FROM charge_points WHERE id = $1",
            cp_id,
            at,
        )


async def close_open_connections(conn: asyncpg.Connection, reason: str) -> None:
    """At start, before any charger connects: what is still open was cut by a stop that wrote
    nothing; it ended when the charger was last heard (persisted once a minute)."""
    # A roll-up counted those as connected to the end of every day it wrote: from the day each
    # one now ends, its charger's rows go.
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", ROLLUP_LOCK)
    await conn.execute(
        "DELETE FROM kpi_days k USING connection_history h JOIN charge_points cp"
        " ON cp.id = h.charge_point_id WHERE h.disconnected_at IS NULL"
        " AND k.charge_point_id = h.charge_point_id AND k.day >= (greatest(h.connected_at,"
        " coalesce(cp.last_seen_at, h.connected_at)) AT TIME ZONE 'UTC')::date"
    )
    await conn.execute(
        "UPDATE connection_history h SET reason = $1, disconnected_at ="
        " greatest(h.connected_at, coalesce(cp.last_seen_at, h.connected_at))"
        " FROM charge_points cp WHERE cp.id = h.charge_point_id AND h.disconnected_at IS NULL",
        reason,
    )


async def record_status_change(
    conn: asyncpg.Connection,
    cp_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
) -> None:
    """Inside the write that made this the connector's status: close the open interval and open
    a new one, unless the status and error are the same (a repeat is not a new interval)."""
    # One round trip: both statements see the open interval as it was before either ran.
    opened = await conn.fetchval(
        "WITH closed AS (UPDATE status_history SET to_at = greatest(from_at, $6)"
        "  WHERE charge_point_id = $1 AND evse_id = $2 AND connector_id = $3 AND to_at IS NULL"
        "  AND (status, error_code) IS DISTINCT FROM ($4, $5))"
        " INSERT INTO status_history (charge_point_id, evse_id, connector_id, status, error_code,"
        " from_at) SELECT id, $2, $3, $4, $5, $6 FROM charge_points WHERE id = $1"
        " AND NOT EXISTS (SELECT 1 FROM status_history"
        "  WHERE charge_point_id = $1 AND evse_id = $2 AND connector_id = $3 AND to_at IS NULL"
        "  AND status = $4 AND error_code IS NOT DISTINCT FROM $5) RETURNING true",
        cp_id,
        evse_id,
        connector_id,
        status,
        error_code,
        at,
    )
    if opened:  # not a repeat
        await _invalidate_rollup(conn, cp_id, at)


async def _invalidate_rollup(conn: asyncpg.Connection, cp_id: str, at: datetime) -> None:
    """A change at ``at`` alters the history from that moment on: the charger's roll-up rows
    from its day on no longer hold (their downtime rows go by cascade). Nothing to do, and no
    statement, for a change after the horizon. The shared lock waits for a roll-up batch
    writing now, so the delete (a statement of its own, which sees what committed before it
    began) sees that batch's rows."""
    if HORIZON.covers(at):
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", ROLLUP_LOCK)
        await conn.execute(
            "DELETE FROM kpi_days WHERE charge_point_id = $1 AND day >= $2", cp_id, day_of(at)
        )


def _connection(row: asyncpg.Record) -> ConnectionInterval:
    return ConnectionInterval(
        row["charge_point_id"], row["connected_at"], row["disconnected_at"], row["reason"]
    )


def _status(row: asyncpg.Record) -> StatusInterval:
    return StatusInterval(
        row["charge_point_id"],
        row["evse_id"],
        row["connector_id"],
        row["status"],
        row["error_code"],
        row["from_at"],
        row["to_at"],
    )


_CONNECTIONS = (
    "SELECT id, charge_point_id, connected_at, disconnected_at, reason FROM connection_history"
)
_STATUSES = (
    "SELECT id, charge_point_id, evse_id, connector_id, status, error_code, from_at, to_at"
    " FROM status_history"
)


class PostgresHistory:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def list_connections(
        self, cp_id: str, page: Page[int], *, start: datetime, end: datetime
    ) -> Paged[tuple[int, ConnectionInterval]]:
        async def read(conn: asyncpg.Connection) -> Paged[tuple[int, ConnectionInterval]]:
            rows = await conn.fetch(
                f"{_CONNECTIONS} WHERE charge_point_id = $1 AND connected_at < $2"
                " AND (disconnected_at IS NULL OR disconnected_at > $3) AND id > $4"
                " ORDER BY id LIMIT $5",
                cp_id,
                end,
                start,
                page.starting_after or 0,
                page.fetch,
            )
            return paged([(r["id"], _connection(r)) for r in rows], page)

        return await self._db.read(read)

    async def list_statuses(
        self,
        cp_id: str,
        page: Page[int],
        *,
        start: datetime,
        end: datetime,
        evse_id: int | None = None,
    ) -> Paged[tuple[int, StatusInterval]]:
        async def read(conn: asyncpg.Connection) -> Paged[tuple[int, StatusInterval]]:
            rows = await conn.fetch(
                f"{_STATUSES} WHERE charge_point_id = $1 AND from_at < $2"
                " AND (to_at IS NULL OR to_at > $3) AND id > $4"
                " AND ($5::integer IS NULL OR evse_id = $5) ORDER BY id LIMIT $6",
                cp_id,
                end,
                start,
                page.starting_after or 0,
                evse_id,
                page.fetch,
            )
            return paged([(r["id"], _status(r)) for r in rows], page)

        return await self._db.read(read)

    async def histories(
        self,
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        cp_ids: Collection[str] | None = None,
    ) -> list[ChargerHistory]:
        scope, scope_arg = charger_scope(cp_id, site_ids, cp_ids)

        async def read(conn: asyncpg.Connection) -> list[ChargerHistory]:
            return await read_histories(conn, scope, scope_arg, start=start, end=end)

        return await self._db.read(read)

    async def purge_history(self, before: datetime) -> int:
        async def op(conn: asyncpg.Connection) -> int:
            gone = await conn.fetchval(
                "WITH a AS (DELETE FROM connection_history WHERE disconnected_at < $1 RETURNING 1),"
                " b AS (DELETE FROM status_history WHERE to_at < $1 RETURNING 1)"
                " SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
                before,
            )
            # The roll-up's days that ended by then go too (their downtime rows by cascade).
            await conn.execute("DELETE FROM kpi_days WHERE day < $1", day_of(before))
            # A week whose first row went is no more read from its last.
            await conn.execute(
                "UPDATE kpi_days SET week_flags = NULL WHERE day < $1::date + 7"
                " AND week_flags IS NOT NULL",
                day_of(before),
            )
            return int(gone)

        result: int = await self._db.write(op)
        return result


def charger_scope(
    cp_id: str | None = None,
    site_ids: Collection[str] | None = None,
    cp_ids: Collection[str] | None = None,
) -> tuple[str, object]:
    """A condition on ``charge_points`` for a KPI scope, with its one argument at ``${n}``: one
    charger, the chargers on some sites, some chargers by id, or (none given) all."""
    if cp_id is not None:
        return "id = ${n}::citext", cp_id
    if site_ids is not None:
        return "site_id = ANY(${n}::text[])", sorted(site_ids)
    if cp_ids is not None:
        return "id = ANY(${n}::citext[])", sorted(cp_ids)
    return "${n}::text IS NULL", None


async def read_histories(
    conn: asyncpg.Connection, scope: str, scope_arg: object, *, start: datetime, end: datetime
) -> list[ChargerHistory]:
    """Each charger in ``scope`` with its registration and its intervals overlapping
    [start, end), open ones included."""
    within = f"charge_point_id IN (SELECT id FROM charge_points WHERE {scope.format(n=3)})"
    chargers = await conn.fetch(
        f"SELECT id, created_at FROM charge_points WHERE {scope.format(n=1)} ORDER BY id",
        scope_arg,
    )
    connections: dict[str, list[ConnectionInterval]] = {}
    for row in await conn.fetch(
        f"{_CONNECTIONS} WHERE connected_at < $1"
        f" AND (disconnected_at IS NULL OR disconnected_at > $2) AND {within}"
        # Ties in time (an interval of no length, then the next) in the order they were written.
        " ORDER BY connected_at, id",
        end,
        start,
        scope_arg,
    ):
        connections.setdefault(row["charge_point_id"].lower(), []).append(_connection(row))
    statuses: dict[str, list[StatusInterval]] = {}
    for row in await conn.fetch(
        f"{_STATUSES} WHERE from_at < $1 AND (to_at IS NULL OR to_at > $2) AND {within}"
        " ORDER BY from_at, id",
        end,
        start,
        scope_arg,
    ):
        statuses.setdefault(row["charge_point_id"].lower(), []).append(_status(row))
    return [
        ChargerHistory(
            row["id"],
            row["created_at"],
            tuple(connections.get(row["id"].lower(), ())),
            tuple(statuses.get(row["id"].lower(), ())),
        )
        for row in chargers
    ]


async def read_pieces(
    conn: asyncpg.Connection, cp_ids: list[str], *, start: datetime, end: datetime
) -> list[ChargerHistory]:
    """These chargers with their registration and the intervals overlapping [start, end) or
    ending at ``start`` (the state just before it, csms.domain.kpi_hours): those beginning
    inside, and for each socket (from its open interval) and for the connections the one begun
    last before ``start``, if it reaches ``start``. Under the store's shape that is all of them,
    each found through an index whatever the age of the history, where :func:`read_histories`
    walks a charger's whole history before ``end``."""
    chargers = await conn.fetch(
        "SELECT id, created_at FROM charge_points WHERE id = ANY($1::citext[])", cp_ids
    )
    connections: dict[str, list[ConnectionInterval]] = {}
    for row in await conn.fetch(
        f"{_CONNECTIONS} WHERE charge_point_id = ANY($1::citext[])"
        " AND connected_at >= $2 AND connected_at < $3"
        " UNION ALL SELECT h.id, h.charge_point_id, h.connected_at, h.disconnected_at, h.reason"
        " FROM charge_points cp JOIN connection_history h ON h.charge_point_id = cp.id"
        " AND h.connected_at = (SELECT max(p.connected_at) FROM connection_history p"
        "  WHERE p.charge_point_id = cp.id AND p.connected_at < $2)"
        " WHERE cp.id = ANY($1::citext[])"
        " AND (h.disconnected_at IS NULL OR h.disconnected_at >= $2) ORDER BY connected_at, id",
        cp_ids,
        start,
        end,
    ):
        connections.setdefault(row["charge_point_id"].lower(), []).append(_connection(row))
    statuses: dict[str, list[StatusInterval]] = {}
    for row in await conn.fetch(
        f"{_STATUSES} WHERE charge_point_id = ANY($1::citext[]) AND from_at >= $2 AND from_at < $3"
        " UNION ALL SELECT h.id, h.charge_point_id, h.evse_id, h.connector_id, h.status,"
        " h.error_code, h.from_at, h.to_at FROM status_history o JOIN status_history h"
        " ON h.charge_point_id = o.charge_point_id AND h.evse_id = o.evse_id"
        " AND h.connector_id = o.connector_id AND h.from_at = (SELECT max(p.from_at)"
        "  FROM status_history p WHERE p.charge_point_id = o.charge_point_id"
        "  AND p.evse_id = o.evse_id AND p.connector_id = o.connector_id AND p.from_at < $2)"
        " WHERE o.to_at IS NULL AND o.charge_point_id = ANY($1::citext[])"
        " AND (h.to_at IS NULL OR h.to_at >= $2) ORDER BY from_at, id",
        cp_ids,
        start,
        end,
    ):
        statuses.setdefault(row["charge_point_id"].lower(), []).append(_status(row))
    return [
        ChargerHistory(
            row["id"],
            row["created_at"],
            tuple(connections.get(row["id"].lower(), ())),
            tuple(statuses.get(row["id"].lower(), ())),
        )
        for row in chargers
    ]
