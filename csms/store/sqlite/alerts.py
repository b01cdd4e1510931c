"""Alerts (csms.store.monitoring_repositories.AlertStore) in SQLite.

Raising and resolving are background writes: each a commit of its own between two batches of
the writes chargers wait for, never inside one.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

from csms.domain.alerts import (
    Alert,
    AlertFilter,
    AlertName,
    Occurrence,
    OperatorChange,
    Target,
    apply_operator_change,
    opened,
    repeated,
    resolved_by_cause,
)
from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import NotFound
from csms.domain.paging import Page, Paged, paged
from csms.store.alert_rows import (
    ALERT_COLUMNS,
    ALERT_INSERT_COLUMNS,
    ALERT_UPDATE_COLUMNS,
    alert_from_row,
    alert_insert_values,
    alert_update_values,
)
from csms.store.monitoring_repositories import Raised
from csms.store.outbox import DeclaredEvents
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import CONVERSIONS, json_text

__all__ = ["SqliteAlerts"]

# The partial unique index's own terms (010_alerts.sql), so that it serves the lookup.
_OPEN_OF_TARGET = (
    f"SELECT {ALERT_COLUMNS} FROM alerts WHERE name = ? AND charge_point_id = ?"
    " AND COALESCE(evse_id, -1) = ? AND COALESCE(connector_id, -1) = ? AND status <> 'Resolved'"
)
_INSERT = (
    f"INSERT INTO alerts ({', '.join(ALERT_INSERT_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in ALERT_INSERT_COLUMNS)})"
)
_UPDATE = f"UPDATE alerts SET {', '.join(f'{c} = ?' for c in ALERT_UPDATE_COLUMNS)} WHERE id = ?"


def _alert(row: sqlite3.Row) -> Alert:
    return alert_from_row(tuple(row), CONVERSIONS)


def _open_of(conn: sqlite3.Connection, name: AlertName, target: Target) -> Alert | None:
    evse = -1 if target.evse_id is None else target.evse_id
    connector = -1 if target.connector_id is None else target.connector_id
    row = conn.execute(
        _OPEN_OF_TARGET, (name.value, target.charge_point_id, evse, connector)
    ).fetchone()
    return None if row is None else _alert(row)


def _save(conn: sqlite3.Connection, alert: Alert) -> None:
    conn.execute(_UPDATE, (*alert_update_values(alert, CONVERSIONS), alert.id))


class SqliteAlerts:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def raise_alert(
        self, occurrence: Occurrence, *, events: DeclaredEvents[Raised] | None = None
    ) -> Raised:
        def op(conn: sqlite3.Connection) -> Raised:
            target = occurrence.target
            found = conn.execute(
                "SELECT id FROM charge_points WHERE id = ?", (target.charge_point_id,)
            ).fetchone()
            if found is None:
                raise NotFound(f"charge point {target.charge_point_id!r} not found")
            # The charger's id as registered, whatever the case the event used.
            seen = dataclasses.replace(
                occurrence, target=dataclasses.replace(target, charge_point_id=found[0])
            )
            current = _open_of(conn, seen.name, seen.target)
            if current is not None:
                alert = repeated(current, seen)
                _save(conn, alert)
                return Raised(alert, created=False)
            alert = opened(seen)
            cursor = conn.execute(_INSERT, alert_insert_values(alert, CONVERSIONS))
            assert cursor.lastrowid is not None
            return Raised(dataclasses.replace(alert, id=cursor.lastrowid), created=True)

        return await self._db.write_background(op, events=events)

    async def resolve_open(
        self,
        name: AlertName,
        target: Target,
        at: datetime,
        *,
        events: DeclaredEvents[Alert | None] | None = None,
    ) -> Alert | None:
        def op(conn: sqlite3.Connection) -> Alert | None:
            current = _open_of(conn, name, target)
            if current is None:
                return None
            alert = resolved_by_cause(current, at)
            _save(conn, alert)
            return alert

        return await self._db.write_background(op, events=events)

    async def change_alert(
        self,
        alert_id: int,
        change: OperatorChange,
        *,
        events: DeclaredEvents[tuple[Alert, Alert]] | None = None,
    ) -> tuple[Alert, Alert]:
        def op(conn: sqlite3.Connection) -> tuple[Alert, Alert]:
            row = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"alert {alert_id} not found")
            before = _alert(row)
            after = apply_operator_change(before, change)
            _save(conn, after)
            return before, after

        return await self._db.write(op, events=events)

    async def get_alert(self, alert_id: int) -> Alert | None:
        def read(conn: sqlite3.Connection) -> Alert | None:
            row = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
            ).fetchone()
            return None if row is None else _alert(row)

        return await self._db.read(read)

    async def list_alerts(self, page: Page[int], criteria: AlertFilter) -> Paged[Alert]:
        clauses: list[str] = []
        params: list[Any] = []
        if page.starting_after is not None:
            clauses.append("id < ?")
            params.append(page.starting_after)
        if criteria.charge_point_id is not None:
            clauses.append("charge_point_id = ?")
            params.append(criteria.charge_point_id)
        if criteria.site_ids is not None:
            clauses.append(
                "charge_point_id IN (SELECT id FROM charge_points"
                " WHERE site_id IN (SELECT value FROM json_each(?)))"
            )
            params.append(json_text(sorted(criteria.site_ids)))
        for column, values in (
            ("name", criteria.names),
            ("status", criteria.statuses),
            ("urgency", criteria.urgencies),
        ):
            if values is not None:
                clauses.append(f"{column} IN (SELECT value FROM json_each(?))")
                params.append(json_text(sorted(str(v) for v in values)))
        if criteria.start is not None:
            # Active during the window: an alert still open, or resolved after it began, is
            # listed whenever it was raised.
            clauses.append("(resolved_at IS NULL OR resolved_at >= ?)")
            params.append(format_timestamp(criteria.start))
        if criteria.end is not None:
            clauses.append("triggered_at < ?")
            params.append(format_timestamp(criteria.end))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT {ALERT_COLUMNS} FROM alerts{where} ORDER BY id DESC LIMIT ?"
        params.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[Alert]:
            return paged([_alert(row) for row in conn.execute(query, params)], page)

        return await self._db.read(read)

    async def open_alerts(self) -> list[Alert]:
        def read(conn: sqlite3.Connection) -> list[Alert]:
            rows = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status <> 'Resolved' ORDER BY id"
            )
            return [_alert(row) for row in rows]

        return await self._db.read(read)

    async def last_triggered(self, name: AlertName) -> dict[str, datetime]:
        def read(conn: sqlite3.Connection) -> dict[str, datetime]:
            rows = conn.execute(
                "SELECT charge_point_id, MAX(triggered_at) FROM alerts WHERE name = ?"
                " GROUP BY charge_point_id",
                (name.value,),
            )
            return {cp_id.lower(): parse_timestamp(at) for cp_id, at in rows}

        return await self._db.read(read)
