"""Charge points and their connectors: registration, boot, status, connection state."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.errors import Conflict, Invalid, NotFound
from csms.domain.history import SERVER_STOPPED
from csms.domain.models import BootInfo, ChargePoint, ConnectorState, Credentials
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import ChargePointChanges, changed_fields
from csms.store.cluster_repositories import Holder, Recorded
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.cluster import claim, release
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.history import (
    ROLLUP_LOCK,
    close_open_connections,
    record_connection_change,
    record_status_change,
)
from csms.store.repositories import SocketReport
from csms.store.rows import (
    CHARGE_POINT_COLUMNS,
    charge_point_from_row,
    like_pattern,
    unchanged,
)

__all__ = ["PostgresChargers"]

_COLUMNS = CHARGE_POINT_COLUMNS
# With each charge point, its connectors and active transactions, in the same statement.
_SELECT = (
    f"SELECT {_COLUMNS},"
    " ARRAY(SELECT ROW(c.evse_id, c.connector_id, c.status, c.error_code, c.updated_at, c.info,"
    "  c.vendor_error_code) FROM connectors c WHERE c.charge_point_id = cp.id"
    "  ORDER BY c.evse_id, c.connector_id) AS connectors,"
    " ARRAY(SELECT t.transaction_id FROM transactions t"
    "  WHERE t.charge_point_id = cp.id AND t.status = 'active' ORDER BY t.pk) AS active,"
    " (SELECT h.node_id FROM charger_holders h WHERE h.charge_point_id = cp.id) AS node_id"
    " FROM charge_points cp"
)


def _charge_point(row: asyncpg.Record) -> ChargePoint:
    connectors = [ConnectorState(*c) for c in row["connectors"]]
    charge_point = charge_point_from_row(row, connectors, row["active"], unchanged)
    node_id = row["node_id"]
    return charge_point if node_id is None else dataclasses.replace(charge_point, node_id=node_id)


async def _read_one(conn: asyncpg.Connection, cp_id: str) -> ChargePoint | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE cp.id = $1", cp_id)
    return None if row is None else _charge_point(row)


async def _check_links(conn: asyncpg.Connection, site_id: object, model_id: object) -> None:
    """A charger may name only a site that exists and a live catalogue model. The rows are held
    until the commit: the site's as its foreign key would (a delete_site waits, then counts this
    charger), the model's so that it is not archived in between."""
    if isinstance(site_id, str):
        found = await conn.fetchval("SELECT 1 FROM sites WHERE id = $1 FOR KEY SHARE", site_id)
        if found is None:
            raise Invalid("siteId", f"site {site_id!r} does not exist")
    if isinstance(model_id, str):
        archived = await conn.fetchrow(
            "SELECT is_archived FROM charging_station_models WHERE id = $1 FOR SHARE", model_id
        )
        if archived is None:
            raise Invalid("modelId", f"charging-station model {model_id!r} does not exist")
        if archived[0]:
            raise Invalid("modelId", f"charging-station model {model_id!r} is archived")


class PostgresChargers:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def get_charge_point(self, cp_id: str) -> ChargePoint | None:
        return await self._db.read(lambda conn: _read_one(conn, cp_id))

    async def list_charge_points(
        self,
        page: Page[str],
        *,
        search: str | None = None,
        connected: bool | None = None,
        site_ids: Collection[str] | None = None,
        model_id: str | None = None,
    ) -> Paged[ChargePoint]:
        clauses: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if site_ids is not None:
            # An array, so that a subtree of any size is one parameter (empty: no charger).
            clauses.append(f"cp.site_id = ANY({param(sorted(site_ids))}::text[])")
        if model_id is not None:
            clauses.append(f"cp.model_id = {param(model_id)}")
        if page.starting_after is not None:
            clauses.append(f"cp.id > {param(page.starting_after)}::citext")
        if connected is not None:
            clauses.append(f"cp.connected = {param(connected)}")
        if search:
            pattern = param(like_pattern(search))
            clauses.append(
                f"(cp.id::text ILIKE {pattern} OR cp.name ILIKE {pattern}"
                f" OR cp.vendor ILIKE {pattern} OR cp.model ILIKE {pattern}"
                f" OR cp.serial_number ILIKE {pattern})"
            )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{_SELECT} {where} ORDER BY cp.id LIMIT {param(page.fetch)}"

        async def read(conn: asyncpg.Connection) -> Paged[ChargePoint]:
            return paged([_charge_point(row) for row in await conn.fetch(sql, *params)], page)

        return await self._db.read(read)

    async def add_charge_point(
        self,
        cp_id: str,
        *,
        name: str | None,
        password_hash: str | None,
        security_profile: int,
        site_id: str | None,
        created_at: datetime,
        model_id: str | None = None,
        external_id: str | None = None,
        boot_answer: str | None = None,
        auto_registered: bool = False,
    ) -> ChargePoint:
        async def op(conn: asyncpg.Connection) -> ChargePoint:
            await _check_links(conn, site_id, model_id)
            try:
                await conn.execute(
                    "INSERT INTO charge_points (id, name, password_hash, security_profile,"
                    " site_id, model_id, external_id, created_at, boot_answer, auto_registered)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    cp_id,
                    name,
                    password_hash,
                    security_profile,
                    site_id,
                    model_id,
                    external_id,
                    created_at,
                    boot_answer,
                    auto_registered,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"charge point {cp_id!r} already exists", field="id") from exc
            added = await _read_one(conn, cp_id)
            assert added is not None
            return added

        return await self._db.write(op)

    async def update_charge_point(self, cp_id: str, changes: ChargePointChanges) -> ChargePoint:
        assignments = changed_fields(changes)

        async def op(conn: asyncpg.Connection) -> ChargePoint:
            await _check_links(conn, assignments.get("site_id"), assignments.get("model_id"))
            if assignments:
                sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(assignments, 2))
                await conn.execute(
                    f"UPDATE charge_points SET {sets} WHERE id = $1", cp_id, *assignments.values()
                )
            updated = await _read_one(conn, cp_id)
            if updated is None:
                raise NotFound(f"charge point {cp_id!r} not found")
            return updated

        return await self._db.write(op)

    async def delete_charge_point(
        self, cp_id: str, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # A roll-up batch first: it holds the charger's rows of kpi_days and then the
            # charger itself for its new rows' foreign key, which the delete, holding the
            # charger while its rows go by cascade, would deadlock against.
            await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", ROLLUP_LOCK)
            if await conn.execute("DELETE FROM charge_points WHERE id = $1", cp_id) == "DELETE 0":
                raise NotFound(f"charge point {cp_id!r} not found")

        await self._db.write(op, events=events)

    async def get_credentials(self, cp_id: str) -> Credentials | None:
        async def read(conn: asyncpg.Connection) -> Credentials | None:
            row = await conn.fetchrow(
                "SELECT password_hash, security_profile, auto_registered FROM charge_points"
                " WHERE id = $1",
                cp_id,
            )
            return None if row is None else Credentials(row[0], row[1], row[2])

        return await self._db.read(read)

    async def count_auto_registered(self) -> int:
        async def read(conn: asyncpg.Connection) -> int:
            query = "SELECT count(*) FROM charge_points WHERE auto_registered"
            return int(await conn.fetchval(query))

        return await self._db.read(read)

    async def record_boot(
        self, cp_id: str, *, ocpp_version: str, boot_info: BootInfo, status: str, at: datetime
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # The live model of this vendor and model (at most one: charging_station_models_live).
            await conn.execute(
                "UPDATE charge_points SET ocpp_version = $2, boot_status = $3,"
                " boot_accepted = ($3 = 'Accepted'), vendor = $4, model = $5, serial_number = $6,"
                " firmware_version = $7, iccid = $8, imsi = $9, meter_type = $10,"
                " meter_serial_number = $11, last_boot_at = $12, last_seen_at = $12,"
                " model_id = coalesce(model_id, (SELECT m.id FROM charging_station_models m"
                " WHERE lower(m.vendor) = lower($4) AND lower(m.model) = lower($5)"
                " AND NOT m.is_archived)) WHERE id = $1",
                cp_id,
                ocpp_version,
                status,
                boot_info.vendor,
                boot_info.model,
                boot_info.serial_number,
                boot_info.firmware_version,
                boot_info.iccid,
                boot_info.imsi,
                boot_info.meter_type,
                boot_info.meter_serial_number,
                at,
            )

        await self._db.write(op)

    async def record_connector_status(
        self, cp_id: str, state: ConnectorState, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            changed = await conn.fetchval(
                "INSERT INTO connectors AS c (charge_point_id, evse_id, connector_id, status,"
                " error_code, info, vendor_error_code, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (charge_point_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, error_code = excluded.error_code, info = excluded.info,"
                " vendor_error_code = excluded.vendor_error_code, updated_at = excluded.updated_at"
                # A status queued offline can arrive after a newer one: keep the newest.
                " WHERE excluded.updated_at >= c.updated_at RETURNING true",
                cp_id,
                state.evse_id,
                state.connector_id,
                state.status,
                state.error_code,
                state.info,
                state.vendor_error_code,
                state.updated_at,
            )
            if changed:
                await record_status_change(
                    conn,
                    cp_id,
                    state.evse_id,
                    state.connector_id,
                    state.status,
                    state.error_code,
                    state.updated_at,
                )

        await self._db.write(op, events=events)

    async def record_connection(
        self,
        cp_id: str,
        *,
        ocpp_version: str,
        connected: bool,
        at: datetime,
        reason: str | None = None,
        events: DeclaredEvents[Recorded] | None = None,
        holder: Holder | None = None,
    ) -> Recorded:
        async def op(conn: asyncpg.Connection) -> Recorded:
            recorded = Recorded()
            if holder is not None:
                recorded = await (claim if connected else release)(conn, cp_id, holder, at)
                if not recorded.changed:
                    return recorded
            await record_connection_change(conn, cp_id, connected=connected, at=at, reason=reason)
            if connected:
                await conn.execute(
                    "UPDATE charge_points SET connected = true, connected_since = $2,"
                    " last_seen_at = $2, ocpp_version = $3 WHERE id = $1",
                    cp_id,
                    at,
                    ocpp_version,
                )
            else:
                await conn.execute(
                    "UPDATE charge_points SET connected = false, connected_since = NULL,"
                    " last_seen_at = $2 WHERE id = $1",
                    cp_id,
                    at,
                )
            return recorded

        return await self._db.write(op, events=events)

    async def record_last_seen(self, seen: Sequence[tuple[str, datetime]]) -> None:
        ids = [cp_id for cp_id, _ in seen]
        moments = [at for _, at in seen]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "UPDATE charge_points cp SET last_seen_at = s.at"
                " FROM unnest($1::citext[], $2::timestamptz[]) AS s (id, at) WHERE cp.id = s.id",
                ids,
                moments,
            )

        await self._db.write(op)

    async def record_firmware_status(
        self, cp_id: str, status: str, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        await self._set_column(cp_id, "firmware_status", status, events)

    async def record_diagnostics_status(self, cp_id: str, status: str) -> None:
        await self._set_column(cp_id, "diagnostics_status", status, None)

    async def _set_column(
        self, cp_id: str, column: str, value: object, events: DeclaredEvents[None] | None
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                f"UPDATE charge_points SET {column} = $2 WHERE id = $1", cp_id, value
            )

        await self._db.write(op, events=events)

    async def mark_all_disconnected(self) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await close_open_connections(conn, SERVER_STOPPED)
            await conn.execute(
                "UPDATE charge_points SET connected = false, connected_since = NULL WHERE connected"
            )

        await self._db.write(op)

    async def chargers_by_site(self) -> dict[str | None, list[str]]:
        # One row per site with its chargers' ids as one JSON array (an index-only scan of
        # charge_points_site): far fewer values to decode than a row per charger, on every
        # tree read.
        async def read(conn: asyncpg.Connection) -> dict[str | None, list[str]]:
            rows = await conn.fetch(
                "SELECT site_id, json_agg(id::text) FROM charge_points GROUP BY site_id"
            )
            return {row[0]: row[1] for row in rows}

        return await self._db.read(read)

    async def list_socket_states(self) -> list[SocketReport]:
        async def read(conn: asyncpg.Connection) -> list[SocketReport]:
            rows = await conn.fetch(
                "SELECT cp.id, cp.connected, c.evse_id, c.connector_id, c.status"
                " FROM connectors c JOIN charge_points cp ON cp.id = c.charge_point_id"
                " ORDER BY cp.id, c.evse_id, c.connector_id"
            )
            return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

        return await self._db.read(read)
