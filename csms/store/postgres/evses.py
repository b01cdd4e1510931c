"""EVSE records and their connectors' specs, as operators describe them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from csms.domain.assets import EvseRecord
from csms.domain.errors import NotFound
from csms.domain.updates import ConnectorSpecChanges, EvseChanges, changed_fields
from csms.store.asset_rows import EVSE_COLUMNS, evse_from_row
from csms.store.postgres.database import CONVERSIONS, PostgresDatabase

__all__ = ["PostgresEvses"]

_C = CONVERSIONS


async def _records(
    conn: asyncpg.Connection, cp_id: str, evse_id: int | None = None
) -> list[EvseRecord]:
    where = "charge_point_id = $1" + ("" if evse_id is None else " AND evse_id = $2")
    params: tuple[object, ...] = (cp_id,) if evse_id is None else (cp_id, evse_id)
    specs: dict[int, list[tuple[int, str | None, str | None]]] = {}
    for row in await conn.fetch(
        f"SELECT evse_id, connector_id, type, format FROM connector_specs WHERE {where}"
        " ORDER BY evse_id, connector_id",
        *params,
    ):
        specs.setdefault(row[0], []).append((row[1], row[2], row[3]))
    rows = await conn.fetch(
        f"SELECT {EVSE_COLUMNS} FROM evses WHERE {where} ORDER BY evse_id", *params
    )
    return [evse_from_row(row, specs.get(row[1], []), _C) for row in rows]


async def _ensure_evse(conn: asyncpg.Connection, cp_id: str, evse_id: int, at: datetime) -> None:
    """The EVSE's record, created empty on first use (its charger must exist). The charger's
    row is held (FOR KEY SHARE, as the foreign key would) so it cannot go between the check and
    the insert."""
    found = await conn.fetchval("SELECT 1 FROM charge_points WHERE id = $1 FOR KEY SHARE", cp_id)
    if found is None:
        raise NotFound(f"charge point {cp_id!r} not found")
    await conn.execute(
        "INSERT INTO evses (charge_point_id, evse_id, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (charge_point_id, evse_id) DO UPDATE SET updated_at = excluded.updated_at",
        cp_id,
        evse_id,
        at,
    )


class PostgresEvses:
    def __init__(self, db: PostgresDatabase) -> None:
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

        async def op(conn: asyncpg.Connection) -> EvseRecord:
            await _ensure_evse(conn, cp_id, evse_id, at)
            if assignments:
                sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(assignments, 3))
                await conn.execute(
                    f"UPDATE evses SET {sets} WHERE charge_point_id = $1 AND evse_id = $2",
                    cp_id,
                    evse_id,
                    *assignments.values(),
                )
            return (await _records(conn, cp_id, evse_id))[0]

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

        async def op(conn: asyncpg.Connection) -> EvseRecord:
            await _ensure_evse(conn, cp_id, evse_id, at)
            await conn.execute(
                "INSERT INTO connector_specs (charge_point_id, evse_id, connector_id)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                cp_id,
                evse_id,
                connector_id,
            )
            if assignments:
                sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(assignments, 4))
                await conn.execute(
                    f"UPDATE connector_specs SET {sets}"
                    " WHERE charge_point_id = $1 AND evse_id = $2 AND connector_id = $3",
                    cp_id,
                    evse_id,
                    connector_id,
                    *assignments.values(),
                )
            return (await _records(conn, cp_id, evse_id))[0]

        return await self._db.write(op)
