"""Alerts (csms.store.monitoring_repositories.AlertStore) in PostgreSQL.

Raising and resolving run in transactions of their own on pooled connections, beside the writer
(``write_apart``), so they never add round trips to a commit chargers wait for. Raisers may run
at once (the pool, or later several nodes): the open alert is locked (FOR UPDATE) while it is
repeated, and a new one is inserted with ON CONFLICT on the partial unique index
(007_alerts.sql), so a race ends in a repeat, never in a second open alert or an error.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import asyncpg

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
from csms.store.postgres.database import CONVERSIONS, PostgresDatabase

__all__ = ["PostgresAlerts"]

# The partial unique index's own terms, so that it serves the lookup and the ON CONFLICT.
_OPEN_OF_TARGET = (
    f"SELECT {ALERT_COLUMNS} FROM alerts WHERE name = $1 AND charge_point_id = $2"
    " AND COALESCE(evse_id, -1) = $3 AND COALESCE(connector_id, -1) = $4"
    " AND status <> 'Resolved' FOR UPDATE"
)
_INSERT = (
    f"INSERT INTO alerts ({', '.join(ALERT_INSERT_COLUMNS)})"
    f" VALUES ({', '.join(f'${i + 1}' for i in range(len(ALERT_INSERT_COLUMNS)))})"
    " ON CONFLICT (name, charge_point_id, (COALESCE(evse_id, -1)), (COALESCE(connector_id, -1)))"
    f" WHERE status <> 'Resolved' DO NOTHING RETURNING {ALERT_COLUMNS}"
)
_UPDATE = (
    "UPDATE alerts SET "
    + ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(ALERT_UPDATE_COLUMNS))
    + " WHERE id = $1"
)
# Each round either finds the open alert or inserts one; a round can only fail when another
# node resolved the open alert between the two statements, which cannot repeat for long.
_RAISE_ROUNDS = 3


def _alert(row: asyncpg.Record) -> Alert:
    return alert_from_row(tuple(row), CONVERSIONS)


async def _open_of(conn: asyncpg.Connection, name: AlertName, target: Target) -> Alert | None:
    row = await conn.fetchrow(
        _OPEN_OF_TARGET,
        name.value,
        target.charge_point_id,
        -1 if target.evse_id is None else target.evse_id,
        -1 if target.connector_id is None else target.connector_id,
    )
    return None if row is None else _alert(row)


async def _save(conn: asyncpg.Connection, alert: Alert) -> None:
    await conn.execute(_UPDATE, alert.id, *alert_update_values(alert, CONVERSIONS))


class PostgresAlerts:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def raise_alert(
        self, occurrence: Occurrence, *, events: DeclaredEvents[Raised] | None = None
    ) -> Raised:
        async def op(conn: asyncpg.Connection) -> Raised:
            target = occurrence.target
            cp_id = await conn.fetchval(
                "SELECT id FROM charge_points WHERE id = $1", target.charge_point_id
            )
            if cp_id is None:
                raise NotFound(f"charge point {target.charge_point_id!r} not found")
            # The charger's id as registered, whatever the case the event used.
            seen = dataclasses.replace(
                occurrence, target=dataclasses.replace(target, charge_point_id=cp_id)
            )
            for _ in range(_RAISE_ROUNDS):
                current = await _open_of(conn, seen.name, seen.target)
                if current is not None:
                    alert = repeated(current, seen)
                    await _save(conn, alert)
                    return Raised(alert, created=False)
                row = await conn.fetchrow(_INSERT, *alert_insert_values(opened(seen), CONVERSIONS))
                if row is not None:
                    return Raised(_alert(row), created=True)
            raise RuntimeError(f"alert {seen.name} of {cp_id} kept changing while raised")

        return await self._db.write_apart(op, events=events)

    async def resolve_open(
        self,
        name: AlertName,
        target: Target,
        at: datetime,
        *,
        events: DeclaredEvents[Alert | None] | None = None,
    ) -> Alert | None:
        async def op(conn: asyncpg.Connection) -> Alert | None:
            current = await _open_of(conn, name, target)
            if current is None:
                return None
            alert = resolved_by_cause(current, at)
            await _save(conn, alert)
            return alert

        return await self._db.write_apart(op, events=events)

    async def change_alert(
        self,
        alert_id: int,
        change: OperatorChange,
        *,
        events: DeclaredEvents[tuple[Alert, Alert]] | None = None,
    ) -> tuple[Alert, Alert]:
        async def op(conn: asyncpg.Connection) -> tuple[Alert, Alert]:
            row = await conn.fetchrow(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1 FOR UPDATE", alert_id
            )
            if row is None:
                raise NotFound(f"alert {alert_id} not found")
            before = _alert(row)
            after = apply_operator_change(before, change)
            await _save(conn, after)
            return before, after

        return await self._db.write(op, events=events)

    async def get_alert(self, alert_id: int) -> Alert | None:
        async def read(conn: asyncpg.Connection) -> Alert | None:
            row = await conn.fetchrow(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1", alert_id)
            return None if row is None else _alert(row)

        return await self._db.read(read)

    async def list_alerts(self, page: Page[int], criteria: AlertFilter) -> Paged[Alert]:
        clauses: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if page.starting_after is not None:
            clauses.append(f"id < {param(page.starting_after)}")
        if criteria.charge_point_id is not None:
            clauses.append(f"charge_point_id = {param(criteria.charge_point_id)}")
        if criteria.site_ids is not None:
            clauses.append(
                "charge_point_id IN (SELECT id FROM charge_points"
                f" WHERE site_id = ANY({param(sorted(criteria.site_ids))}::text[]))"
            )
        for column, values in (
            ("name", criteria.names),
            ("status", criteria.statuses),
            ("urgency", criteria.urgencies),
        ):
            if values is not None:
                clauses.append(f"{column} = ANY({param(sorted(str(v) for v in values))}::text[])")
        if criteria.start is not None:
            # Active during the window: an alert still open, or resolved after it began, is
            # listed whenever it was raised.
            clauses.append(f"(resolved_at IS NULL OR resolved_at >= {param(criteria.start)})")
        if criteria.end is not None:
            clauses.append(f"triggered_at < {param(criteria.end)}")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = (
            f"SELECT {ALERT_COLUMNS} FROM alerts{where} ORDER BY id DESC LIMIT {param(page.fetch)}"
        )

        async def read(conn: asyncpg.Connection) -> Paged[Alert]:
            return paged([_alert(row) for row in await conn.fetch(query, *params)], page)

        return await self._db.read(read)

    async def open_alerts(self) -> list[Alert]:
        async def read(conn: asyncpg.Connection) -> list[Alert]:
            rows = await conn.fetch(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status <> 'Resolved' ORDER BY id"
            )
            return [_alert(row) for row in rows]

        return await self._db.read(read)

    async def last_triggered(self, name: AlertName) -> dict[str, datetime]:
        async def read(conn: asyncpg.Connection) -> dict[str, datetime]:
            rows = await conn.fetch(
                "SELECT charge_point_id, MAX(triggered_at) FROM alerts WHERE name = $1"
                " GROUP BY charge_point_id",
                name.value,
            )
            return {str(row[0]).lower(): row[1] for row in rows}

        return await self._db.read(read)
