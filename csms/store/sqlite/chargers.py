"""Charge points and their connectors: registration, boot, status, connection state."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import Conflict, Invalid, NotFound
from csms.domain.history import SERVER_STOPPED
from csms.domain.models import BootInfo, ChargePoint, ConnectorState, Credentials
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import ChargePointChanges, changed_fields
from csms.store.cluster_repositories import Holder, Recorded
from csms.store.outbox import DeclaredEvents
from csms.store.repositories import SocketReport
from csms.store.rows import CHARGE_POINT_COLUMNS, charge_point_from_row, like_pattern
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.history import (
    close_open_connections,
    record_connection_change,
    record_status_change,
)
from csms.store.sqlite.values import json_text

__all__ = ["SqliteChargers"]

_COLUMNS = CHARGE_POINT_COLUMNS


def charge_point(conn: sqlite3.Connection, row: sqlite3.Row) -> ChargePoint:
    connectors = [
        ConnectorState(
            evse_id=c["evse_id"],
            connector_id=c["connector_id"],
            status=c["status"],
            error_code=c["error_code"],
            updated_at=parse_timestamp(c["updated_at"]),
            info=c["info"],
            vendor_error_code=c["vendor_error_code"],
        )
        for c in conn.execute(
            "SELECT * FROM connectors WHERE charge_point_id = ? ORDER BY evse_id, connector_id",
            (row["id"],),
        )
    ]
    active = [
        r[0]
        for r in conn.execute(
            "SELECT transaction_id FROM transactions"
            " WHERE charge_point_id = ? AND status = 'active' ORDER BY pk",
            (row["id"],),
        )
    ]
    return charge_point_from_row(row, connectors, active, parse_timestamp)


def _read_one(conn: sqlite3.Connection, cp_id: str) -> ChargePoint | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM charge_points WHERE id = ?", (cp_id,)).fetchone()
    return None if row is None else charge_point(conn, row)


def _check_links(conn: sqlite3.Connection, site_id: object, model_id: object) -> None:
    """A charger may name only a site that exists and a live catalogue model."""
    site_query = "SELECT 1 FROM sites WHERE id = ?"
    if isinstance(site_id, str) and conn.execute(site_query, (site_id,)).fetchone() is None:
        raise Invalid("siteId", f"site {site_id!r} does not exist")
    if isinstance(model_id, str):
        row = conn.execute(
            "SELECT is_archived FROM charging_station_models WHERE id = ?", (model_id,)
        ).fetchone()
        if row is None:
            raise Invalid("modelId", f"charging-station model {model_id!r} does not exist")
        if row[0]:
            raise Invalid("modelId", f"charging-station model {model_id!r} is archived")


class SqliteChargers:
    def __init__(self, db: SqliteDatabase) -> None:
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
        if site_ids is not None:
            # A JSON array, so that a subtree of any size is one parameter.
            clauses.append("site_id IN (SELECT value FROM json_each(?))")
            params.append(json_text(sorted(site_ids)))
        if model_id is not None:
            clauses.append("model_id = ?")
            params.append(model_id)
        if page.starting_after is not None:
            clauses.append("id > ?")
            params.append(page.starting_after)
        if connected is not None:
            clauses.append("connected = ?")
            params.append(int(connected))
        if search:
            clauses.append(
                "(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR vendor LIKE ? ESCAPE '\\'"
                " OR model LIKE ? ESCAPE '\\' OR serial_number LIKE ? ESCAPE '\\')"
            )
            params.extend([like_pattern(search)] * 5)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM charge_points {where} ORDER BY id LIMIT ?"
        params.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[ChargePoint]:
            rows = conn.execute(sql, params).fetchall()
            return paged([charge_point(conn, row) for row in rows], page)

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
        row = (
            cp_id,
            name,
            password_hash,
            security_profile,
            site_id,
            model_id,
            external_id,
            format_timestamp(created_at),
            boot_answer,
            int(auto_registered),
        )

        def op(conn: sqlite3.Connection) -> ChargePoint:
            _check_links(conn, site_id, model_id)
            try:
                conn.execute(
                    "INSERT INTO charge_points (id, name, password_hash, security_profile, site_id,"
                    " model_id, external_id, created_at, boot_answer, auto_registered)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"charge point {cp_id!r} already exists", field="id") from exc
            added = _read_one(conn, cp_id)
            assert added is not None
            return added

        return await self._db.write(op)

    async def update_charge_point(self, cp_id: str, changes: ChargePointChanges) -> ChargePoint:
        assignments = changed_fields(changes)

        def op(conn: sqlite3.Connection) -> ChargePoint:
            _check_links(conn, assignments.get("site_id"), assignments.get("model_id"))
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE charge_points SET {sets} WHERE id = ?", (*assignments.values(), cp_id)
                )
            updated = _read_one(conn, cp_id)
            if updated is None:
                raise NotFound(f"charge point {cp_id!r} not found")
            return updated

        return await self._db.write(op)

    async def delete_charge_point(
        self, cp_id: str, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM charge_points WHERE id = ?", (cp_id,)).rowcount == 0:
                raise NotFound(f"charge point {cp_id!r} not found")

        await self._db.write(op, events=events)

    async def get_credentials(self, cp_id: str) -> Credentials | None:
        def read(conn: sqlite3.Connection) -> Credentials | None:
            row = conn.execute(
                "SELECT password_hash, security_profile, auto_registered FROM charge_points"
                " WHERE id = ?",
                (cp_id,),
            ).fetchone()
            return None if row is None else Credentials(row[0], row[1], bool(row[2]))

        return await self._db.read(read)

    async def count_auto_registered(self) -> int:
        def read(conn: sqlite3.Connection) -> int:
            query = "SELECT count(*) FROM charge_points WHERE auto_registered"
            return int(conn.execute(query).fetchone()[0])

        return await self._db.read(read)

    async def record_boot(
        self, cp_id: str, *, ocpp_version: str, boot_info: BootInfo, status: str, at: datetime
    ) -> None:
        stamp = format_timestamp(at)
        row = (
            ocpp_version,
            status,
            int(status == "Accepted"),
            boot_info.vendor,
            boot_info.model,
            boot_info.serial_number,
            boot_info.firmware_version,
            boot_info.iccid,
            boot_info.imsi,
            boot_info.meter_type,
            boot_info.meter_serial_number,
            stamp,
            stamp,
            boot_info.vendor,
            boot_info.model,
            cp_id,
        )

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET ocpp_version = ?, boot_status = ?, boot_accepted = ?,"
                " vendor = ?, model = ?, serial_number = ?, firmware_version = ?, iccid = ?,"
                " imsi = ?, meter_type = ?, meter_serial_number = ?, last_boot_at = ?,"
                " last_seen_at = ?, model_id = coalesce(model_id, (SELECT id FROM"
                " charging_station_models WHERE vendor = ? COLLATE NOCASE"
                " AND model = ? COLLATE NOCASE AND is_archived = 0)) WHERE id = ?",
                row,
            )

        await self._db.write(op)

    async def record_connector_status(
        self, cp_id: str, state: ConnectorState, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        row = (
            cp_id,
            state.evse_id,
            state.connector_id,
            state.status,
            state.error_code,
            state.info,
            state.vendor_error_code,
            format_timestamp(state.updated_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "INSERT INTO connectors (charge_point_id, evse_id, connector_id, status,"
                " error_code, info, vendor_error_code, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (charge_point_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, error_code = excluded.error_code, info = excluded.info,"
                " vendor_error_code = excluded.vendor_error_code, updated_at = excluded.updated_at"
                # A status queued offline can arrive after a newer one: keep the newest.
                " WHERE excluded.updated_at >= connectors.updated_at",
                row,
            ).rowcount
            if changed:
                record_status_change(
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
        if holder is not None:
            raise ValueError("SQLite is single-node: no cluster holds its chargers")
        stamp = format_timestamp(at)

        def op(conn: sqlite3.Connection) -> Recorded:
            record_connection_change(conn, cp_id, connected=connected, at=at, reason=reason)
            if connected:
                conn.execute(
                    "UPDATE charge_points SET connected = 1, connected_since = ?, last_seen_at = ?,"
                    " ocpp_version = ? WHERE id = ?",
                    (stamp, stamp, ocpp_version, cp_id),
                )
            else:
                conn.execute(
                    "UPDATE charge_points SET connected = 0, connected_since = NULL,"
                    " last_seen_at = ? WHERE id = ?",
                    (stamp, cp_id),
                )
            return Recorded()

        return await self._db.write(op, events=events)

    async def record_last_seen(self, seen: Sequence[tuple[str, datetime]]) -> None:
        rows = [(format_timestamp(at), cp_id) for cp_id, at in seen]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE charge_points SET last_seen_at = ? WHERE id = ?", rows)

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
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(f"UPDATE charge_points SET {column} = ? WHERE id = ?", (value, cp_id))

        await self._db.write(op, events=events)

    async def mark_all_disconnected(self) -> None:
        def op(conn: sqlite3.Connection) -> None:
            close_open_connections(conn, SERVER_STOPPED)
            conn.execute(
                "UPDATE charge_points SET connected = 0, connected_since = NULL WHERE connected = 1"
            )

        await self._db.write(op)

    async def chargers_by_site(self) -> dict[str | None, list[str]]:
        # One row per site with its chargers' ids as a JSON array (the covering index
        # charge_points_site serves it): far fewer Python objects than a row per charger, on
        # every tree read.
        def read(conn: sqlite3.Connection) -> dict[str | None, list[str]]:
            rows = conn.execute(
                "SELECT site_id, json_group_array(id) FROM charge_points GROUP BY site_id"
            )
            return {site_id: orjson.loads(ids) for site_id, ids in rows}

        return await self._db.read(read)

    async def list_socket_states(self) -> list[SocketReport]:
        def read(conn: sqlite3.Connection) -> list[SocketReport]:
            rows = conn.execute(
                "SELECT cp.id, cp.connected, c.evse_id, c.connector_id, c.status"
                " FROM connectors c JOIN charge_points cp ON cp.id = c.charge_point_id"
            )
            return [(r[0], bool(r[1]), r[2], r[3], r[4]) for r in rows]

        return await self._db.read(read)
