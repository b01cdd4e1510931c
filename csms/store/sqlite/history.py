"""Connection and status history on SQLite (moments as milliseconds since the epoch).

The intervals are written by the chargers repository (csms.store.sqlite.chargers), in the
commit of the change that causes them; here they are read and purged. A change that may fall in
a day the KPI roll-up already holds (csms.store.kpi_rollup_horizon) deletes that charger's
roll-up rows from that day on, in the same commit; the roll-up task writes them again."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import date, datetime
from typing import Final

from csms.domain.clock import parse_timestamp
from csms.domain.history import REPLACED, ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory
from csms.domain.kpi_rollup import day_of
from csms.domain.paging import Page, Paged, paged
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import epoch_ms, from_epoch_ms, json_text

__all__ = [
    "SqliteHistory",
    "charger_scope",
    "close_open_connections",
    "day_number",
    "from_day_number",
    "read_histories",
    "read_pieces",
    "record_connection_change",
    "record_status_change",
]

_EPOCH_DAY: Final = date(1970, 1, 1)
_DAY_MS: Final = 86_400_000

_LAST_SEEN_MS = (
    "(SELECT strftime('%s', cp.last_seen_at) * 1000 + CAST(substr(cp.last_seen_at, 21, 3)"
    " AS INTEGER) FROM charge_points cp WHERE cp.id = connection_history.charge_point_id)"
)


def record_connection_change(
    conn: sqlite3.Connection, cp_id: str, *, connected: bool, at: datetime, reason: str | None
) -> None:
    """Inside the write that records the connection: open an interval, or close the open one."""
    moment = epoch_ms(at)
    _invalidate_rollup(conn, cp_id, at)
    if connected:
        # Still open: the connection this one replaces (the newest wins, and the replaced one's
        # late close is not recorded).
        conn.execute(
            "UPDATE connection_history SET disconnected_at = max(connected_at, ?), reason = ?"
            " WHERE charge_point_id = ? AND disconnected_at IS NULL",
            (moment, REPLACED, cp_id),
        )
        # The charger's id as registered, whatever the case the connection used.
        conn.execute(
            "INSERT INTO connection_history (charge_point_id, connected_at)"
            " SELECT id, ? FROM charge_points WHERE id = ?",
            (moment, cp_id),
        )
    else:
        conn.execute(
            "UPDATE connection_history SET disconnected_at = max(connected_at, ?), reason = ?"
            " WHERE charge_point_id = ? AND disconnected_at IS NULL",
            (moment, reason, cp_id),
        )


def close_open_connections(conn: sqlite3.Connection, reason: str) -> None:
    """At start, before any charger connects: what is still open was cut by a stop that wrote
    nothing; it ended when the charger was last heard (persisted once a minute)."""
    # A roll-up counted those as connected to the end of every day it wrote: from the day each
    # one now ends, its charger's rows go.
    ends = conn.execute(
        f"SELECT charge_point_id, max(connected_at, coalesce({_LAST_SEEN_MS}, connected_at)) / ?"
        " FROM connection_history WHERE disconnected_at IS NULL",
        (_DAY_MS,),
    ).fetchall()
    conn.executemany("DELETE FROM kpi_days WHERE charge_point_id = ? AND day >= ?", ends)
    conn.execute(
        f"UPDATE connection_history SET reason = ?, disconnected_at = max(connected_at,"
        f" coalesce({_LAST_SEEN_MS}, connected_at)) WHERE disconnected_at IS NULL",
        (reason,),
    )


def record_status_change(
    conn: sqlite3.Connection,
    cp_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
) -> None:
    """Inside the write that made this the connector's status: close the open interval and open
    a new one, unless the status and error are the same (a repeat is not a new interval)."""
    key = (cp_id, evse_id, connector_id)
    current = conn.execute(
        "SELECT id, status, error_code FROM status_history WHERE charge_point_id = ?"
        " AND evse_id = ? AND connector_id = ? AND to_at IS NULL",
        key,
    ).fetchone()
    if current is not None and (current[1], current[2]) == (status, error_code):
        return
    moment = epoch_ms(at)
    _invalidate_rollup(conn, cp_id, at)
    if current is not None:
        conn.execute(
            "UPDATE status_history SET to_at = max(from_at, ?) WHERE id = ?", (moment, current[0])
        )
    conn.execute(
        "INSERT INTO status_history (charge_point_id, evse_id, connector_id, status, error_code,"
        " from_at) SELECT id, ?, ?, ?, ?, ? FROM charge_points WHERE id = ?",
        (evse_id, connector_id, status, error_code, moment, cp_id),
    )


def _invalidate_rollup(conn: sqlite3.Connection, cp_id: str, at: datetime) -> None:
    """A change at ``at`` alters the history from that moment on: the charger's roll-up rows
    from its day on no longer hold (their downtime rows go by cascade). Nothing to do, and no
    statement, for a change after the horizon."""
    if HORIZON.covers(at):
        conn.execute(
            "DELETE FROM kpi_days WHERE charge_point_id = ? AND day >= ?",
            (cp_id, day_number(day_of(at))),
        )


def day_number(day: date) -> int:
    """A day as the roll-up's tables store it: days since 1970-01-01."""
    return (day - _EPOCH_DAY).days


def from_day_number(number: int) -> date:
    return date.fromordinal(_EPOCH_DAY.toordinal() + number)


def _ms(moment: int | None) -> datetime | None:
    return None if moment is None else from_epoch_ms(moment)


class SqliteHistory:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def list_connections(
        self, cp_id: str, page: Page[int], *, start: datetime, end: datetime
    ) -> Paged[tuple[int, ConnectionInterval]]:
        after = page.starting_after or 0
        args = (cp_id, epoch_ms(end), epoch_ms(start), after, page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[tuple[int, ConnectionInterval]]:
            rows = conn.execute(
                "SELECT id, charge_point_id, connected_at, disconnected_at, reason"
                " FROM connection_history WHERE charge_point_id = ? AND connected_at < ?"
                " AND (disconnected_at IS NULL OR disconnected_at > ?) AND id > ?"
                " ORDER BY id LIMIT ?",
                args,
            ).fetchall()
            return paged(
                [
                    (r[0], ConnectionInterval(r[1], from_epoch_ms(r[2]), _ms(r[3]), r[4]))
                    for r in rows
                ],
                page,
            )

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
        after = page.starting_after or 0
        sql = (
            "SELECT id, charge_point_id, evse_id, connector_id, status, error_code, from_at, to_at"
            " FROM status_history WHERE charge_point_id = ? AND from_at < ?"
            " AND (to_at IS NULL OR to_at > ?) AND id > ?"
        )
        args: list[object] = [cp_id, epoch_ms(end), epoch_ms(start), after]
        if evse_id is not None:
            sql += " AND evse_id = ?"
            args.append(evse_id)
        args.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[tuple[int, StatusInterval]]:
            rows = conn.execute(sql + " ORDER BY id LIMIT ?", args).fetchall()
            return paged([(r[0], _status(r, 1)) for r in rows], page)

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
        scope, scope_args = charger_scope(cp_id, site_ids, cp_ids)
        return await self._db.read(
            lambda conn: read_histories(conn, scope, scope_args, start=start, end=end)
        )

    async def purge_history(self, before: datetime) -> int:
        moment = epoch_ms(before)
        # The roll-up's days that ended by then go too (their downtime rows by cascade).
        days = day_number(day_of(before))

        def op(conn: sqlite3.Connection) -> int:
            gone = conn.execute(
                "DELETE FROM connection_history WHERE disconnected_at < ?", (moment,)
            ).rowcount
            gone += conn.execute("DELETE FROM status_history WHERE to_at < ?", (moment,)).rowcount
            conn.execute("DELETE FROM kpi_days WHERE day < ?", (days,))
            # A week whose first row went is no more read from its last.
            conn.execute(
                "UPDATE kpi_days SET week_flags = NULL WHERE day < ? AND week_flags IS NOT NULL",
                (days + 7,),
            )
            return int(gone)

        result: int = await self._db.write(op)
        return result


def charger_scope(
    cp_id: str | None = None,
    site_ids: Collection[str] | None = None,
    cp_ids: Collection[str] | None = None,
) -> tuple[str, list[object]]:
    """A condition on ``charge_points`` for a KPI scope, and its arguments: one charger, the
    chargers on some sites, some chargers by id, or (none given) all."""
    if cp_id is not None:
        return "id = ?", [cp_id]
    if site_ids is not None:
        return "site_id IN (SELECT value FROM json_each(?))", [json_text(sorted(site_ids))]
    if cp_ids is not None:
        return "id IN (SELECT value FROM json_each(?))", [json_text(sorted(cp_ids))]
    return "1", []


def read_histories(
    conn: sqlite3.Connection,
    scope: str,
    scope_args: list[object],
    *,
    start: datetime,
    end: datetime,
) -> list[ChargerHistory]:
    """Each charger in ``scope`` with its registration and its intervals overlapping
    [start, end), open ones included."""
    within = f"charge_point_id IN (SELECT id FROM charge_points WHERE {scope})"
    window: list[object] = [epoch_ms(end), epoch_ms(start)]
    chargers = conn.execute(
        f"SELECT id, created_at FROM charge_points WHERE {scope} ORDER BY id", scope_args
    ).fetchall()
    connections: dict[str, list[ConnectionInterval]] = {}
    for cp, a, b, reason in conn.execute(
        "SELECT charge_point_id, connected_at, disconnected_at, reason"
        " FROM connection_history"
        f" WHERE connected_at < ? AND (disconnected_at IS NULL OR disconnected_at > ?)"
        # Ties in time (an interval of no length, then the next) in the order they were written.
        f" AND {within} ORDER BY connected_at, id",
        window + scope_args,
    ):
        connections.setdefault(cp.lower(), []).append(
            ConnectionInterval(cp, from_epoch_ms(a), _ms(b), reason)
        )
    statuses: dict[str, list[StatusInterval]] = {}
    for row in conn.execute(
        "SELECT charge_point_id, evse_id, connector_id, status, error_code, from_at, to_at"
        " FROM status_history WHERE from_at < ? AND (to_at IS NULL OR to_at > ?)"
        f" AND {within} ORDER BY from_at, id",
        window + scope_args,
    ):
        statuses.setdefault(row[0].lower(), []).append(_status(row))
    return [
        ChargerHistory(
            cp,
            parse_timestamp(created),
            tuple(connections.get(cp.lower(), ())),
            tuple(statuses.get(cp.lower(), ())),
        )
        for cp, created in chargers
    ]


def read_pieces(
    conn: sqlite3.Connection, cp_ids: list[str], *, start: datetime, end: datetime
) -> list[ChargerHistory]:
    """These chargers with their registration and the intervals overlapping [start, end) or
    ending at ``start`` (the state just before it, csms.domain.kpi_hours): those beginning
    inside, and for each socket (from its open interval) and for the connections the one begun
    last before ``start``, if it reaches ``start``. Under the store's shape that is all of them,
    each found through an index whatever the age of the history, where :func:`read_histories`
    walks a charger's whole history before ``end``."""
    ids = json_text(cp_ids)
    args = (ids, epoch_ms(start), epoch_ms(end))
    chargers = conn.execute(
        "SELECT id, created_at FROM charge_points WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    ).fetchall()
    connections: dict[str, list[ConnectionInterval]] = {}
    for cp, a, b, reason, _ in conn.execute(
        "SELECT charge_point_id, connected_at, disconnected_at, reason, id"
        " FROM connection_history WHERE charge_point_id IN (SELECT value FROM json_each(?1))"
        " AND connected_at >= ?2 AND connected_at < ?3"
        " UNION ALL SELECT h.charge_point_id, h.connected_at, h.disconnected_at, h.reason, h.id"
        " FROM charge_points cp JOIN connection_history h ON h.charge_point_id = cp.id"
        " AND h.connected_at = (SELECT max(p.connected_at) FROM connection_history p"
        "  WHERE p.charge_point_id = cp.id AND p.connected_at < ?2)"
        " WHERE cp.id IN (SELECT value FROM json_each(?1))"
        " AND (h.disconnected_at IS NULL OR h.disconnected_at >= ?2) ORDER BY 2, 5",
        args,
    ):
        connections.setdefault(cp.lower(), []).append(
            ConnectionInterval(cp, from_epoch_ms(a), _ms(b), reason)
        )
    statuses: dict[str, list[StatusInterval]] = {}
    for row in conn.execute(
        "SELECT charge_point_id, evse_id, connector_id, status, error_code, from_at, to_at, id"
        " FROM status_history WHERE charge_point_id IN (SELECT value FROM json_each(?1))"
        " AND from_at >= ?2 AND from_at < ?3 UNION ALL SELECT h.charge_point_id, h.evse_id,"
        # From each socket's open interval (the planner would rather walk every interval).
        " h.connector_id, h.status, h.error_code, h.from_at, h.to_at, h.id"
        " FROM status_history o INDEXED BY status_history_open"
        " CROSS JOIN status_history h ON h.charge_point_id = o.charge_point_id"
        " AND h.evse_id = o.evse_id AND h.connector_id = o.connector_id"
        " AND h.from_at = (SELECT p.from_at FROM status_history p"
        "  WHERE p.charge_point_id = o.charge_point_id AND p.evse_id = o.evse_id"
        "  AND p.connector_id = o.connector_id AND p.from_at < ?2 ORDER BY p.from_at DESC LIMIT 1)"
        " WHERE o.to_at IS NULL AND o.charge_point_id IN (SELECT value FROM json_each(?1))"
        " AND (h.to_at IS NULL OR h.to_at >= ?2) ORDER BY 6, 8",
        args,
    ):
        statuses.setdefault(row[0].lower(), []).append(_status(row))
    return [
        ChargerHistory(
            cp,
            parse_timestamp(created),
            tuple(connections.get(cp.lower(), ())),
            tuple(statuses.get(cp.lower(), ())),
        )
        for cp, created in chargers
    ]


def _status(row: sqlite3.Row, at: int = 0) -> StatusInterval:
    """The interval in ``row``'s columns from ``at`` on: charger, EVSE, connector, status, error,
    from, to."""
    return StatusInterval(
        row[at],
        row[at + 1],
        row[at + 2],
        row[at + 3],
        row[at + 4],
        from_epoch_ms(row[at + 5]),
        _ms(row[at + 6]),
    )
