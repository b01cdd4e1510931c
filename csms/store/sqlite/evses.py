"""EVSE records and their connectors' specs, as operators describe them."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from csms.domain.assets import EvseRecord
from csms.domain.errors import NotFound
from csms.domain.updates import ConnectorSpecChanges, EvseChanges, changed_fields
from csms.store.asset_rows import EVSE_COLUMNS, evse_from_row
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import CONVERSIONS, ts

__all__ = ["SqliteEvses"]

_C = CONVERSIONS


def _records(conn: sqlite3.Connection, cp_id: str, evse_id: int | None = None) -> list[EvseRecord]:
    where = "charge_point_id = ?" + ("" if evse_id is None else " AND evse_id = ?")
    params: tuple[object, ...] = (cp_id,) if evse_id is None else (cp_id, evse_id)
    specs: dict[int, list[tuple[int, str | None, str | None]]] = {}
    for row in conn.execute(
        f"SELECT evse_id, connector_id, type, format FROM connector_specs WHERE {where}"
        " ORDER BY evse_id, connector_id",
        params,
    ):
        specs.setdefault(row[0], []).append((row[1], row[2], row[3]))
    rows = conn.execute(
        f"SELECT {EVSE_COLUMNS} FROM evses WHERE {where} ORDER BY evse_id", params
    ).fetchall()
    return [evse_from_row(row, specs.get(row[1], []), _C) for row in rows]


def _ensure_evse(conn: sqlite3.Connection, cp_id: str, evse_id: int, stamp: str | None) -> None:
    """The EVSE's record, created empty on first use (its charger must exist)."""
    if conn.execute("SELECT 1 FROM charge_points WHERE id = ?", (cp_id,)).fetchone() is None:
        raise NotFound(f"charge point {cp_id!r} not found")
    conn.execute(
        "INSERT INTO evses (charge_point_id, evse_id, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (charge_point_id, evse_id) DO UPDATE SET updated_at = excluded.updated_at",
        (cp_id, evse_id, stamp),
    )


class SqliteEvses:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get_evse_record(self, cp_id: str, evse_id: int) -> EvseRecord | None:
        found = await self._db.read(lambda conn: _records(conn, cp_id, evse_id))
        return found[0] if found else None

    async def list_evse_records(self, cp_id: str) -> list[EvseRecord]:
        return await self._db.read(lambda conn: _records(conn, cp_id))

    async def update_evse(
        self, cp_id: str, evse_id: int, changes: EvseChanges, at: datetime
    ) -> EvseRecord:
        assignments = changed_fields(changes)
        stamp = ts(at)

        def op(conn: sqlite3.Connection) -> EvseRecord:
            _ensure_evse(conn, cp_id, evse_id, stamp)
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE evses SET {sets} WHERE charge_point_id = ? AND evse_id = ?",
                    (*assignments.values(), cp_id, evse_id),
                )
            return _records(conn, cp_id, evse_id)[0]

        return await self._db.write(op)

    async def update_connector_spec(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        changes: ConnectorSpecChanges,
        at: datetime,
    ) -> EvseRecord:
        assignments = changed_fields(changes)
        stamp = ts(at)

        def op(conn: sqlite3.Connection) -> EvseRecord:
            _ensure_evse(conn, cp_id, evse_id, stamp)
            conn.execute(
                "INSERT INTO connector_specs (charge_point_id, evse_id, connector_id)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (cp_id, evse_id, connector_id),
            )
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE connector_specs SET {sets}"
                    " WHERE charge_point_id = ? AND evse_id = ? AND connector_id = ?",
                    (*assignments.values(), cp_id, evse_id, connector_id),
                )
            return _records(conn, cp_id, evse_id)[0]

        return await self._db.write(op)
