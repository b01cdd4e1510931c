"""The charger's device model as it reported it (OCPP 2.0.1 NotifyReport, GetVariables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from csms.domain.models import DeviceVariable
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.database import PostgresDatabase
from csms.store.rows import (
    DEVICE_VARIABLE_COLUMNS,
    device_variable_from_row,
    device_variable_values,
)

__all__ = ["PostgresDeviceModel"]


class PostgresDeviceModel:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def upsert_device_variables(
        self,
        cp_id: str,
        variables: Sequence[DeviceVariable],
        at: datetime,
        *,
        events: DeclaredEvents[None] | None = None,
    ) -> None:
        rows = [device_variable_values(cp_id, v, at) for v in variables]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.executemany(
                f"INSERT INTO device_variables ({', '.join(DEVICE_VARIABLE_COLUMNS)}) VALUES"
                f" ({', '.join(f'${i}' for i in range(1, len(DEVICE_VARIABLE_COLUMNS) + 1))})"
                " ON CONFLICT (charge_point_id, component, component_instance, evse_id,"
                " connector_id, variable, variable_instance, attribute_type) DO UPDATE SET"
                " value = excluded.value, mutability = excluded.mutability,"
                " persistent = excluded.persistent, constant = excluded.constant,"
                " data_type = excluded.data_type, unit = excluded.unit,"
                " min_limit = excluded.min_limit, max_limit = excluded.max_limit,"
                " values_list = excluded.values_list, updated_at = excluded.updated_at",
                rows,
            )

        await self._db.write(op, events=events)

    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]:
        async def read(conn: asyncpg.Connection) -> list[DeviceVariable]:
            return [
                device_variable_from_row(r)
                for r in await conn.fetch(
                    "SELECT * FROM device_variables WHERE charge_point_id = $1 ORDER BY"
                    " component, component_instance, evse_id, connector_id, variable,"
                    " variable_instance, attribute_type",
                    cp_id,
                )
            ]

        return await self._db.read(read)
