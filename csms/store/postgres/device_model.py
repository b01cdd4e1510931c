"""The charger's device model as it reported it (OCPP 2.0.1 NotifyReport, GetVariables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from csms.domain.models import DeviceVariable
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresDeviceModel"]


class PostgresDeviceModel:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def upsert_device_variables(
        self, cp_id: str, variables: Sequence[DeviceVariable], at: datetime
    ) -> None:
        rows = [
            (
                cp_id,
                v.component,
                v.component_instance or "",
                -1 if v.evse_id is None else v.evse_id,
                -1 if v.connector_id is None else v.connector_id,
                v.variable,
                v.variable_instance or "",
                v.attribute_type,
                v.value,
                v.mutability,
                v.persistent,
                v.constant,
                v.data_type,
                v.unit,
                v.min_limit,
                v.max_limit,
                v.values_list,
                at,
            )
            for v in variables
        ]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.executemany(
                "INSERT INTO device_variables (charge_point_id, component, component_instance,"
                " evse_id, connector_id, variable, variable_instance, attribute_type, value,"
                " mutability, persistent, constant, data_type, unit, min_limit, max_limit,"
                " values_list, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                " $11, $12, $13, $14, $15, $16, $17, $18)"
                " ON CONFLICT (charge_point_id, component, component_instance, evse_id,"
                " connector_id, variable, variable_instance, attribute_type) DO UPDATE SET"
                " value = excluded.value, mutability = excluded.mutability,"
                " persistent = excluded.persistent, constant = excluded.constant,"
                " data_type = excluded.data_type, unit = excluded.unit,"
                " min_limit = excluded.min_limit, max_limit = excluded.max_limit,"
                " values_list = excluded.values_list, updated_at = excluded.updated_at",
                rows,
            )

        await self._db.write(op)

    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]:
        async def read(conn: asyncpg.Connection) -> list[DeviceVariable]:
            return [
                DeviceVariable(
                    component=r["component"],
                    variable=r["variable"],
                    attribute_type=r["attribute_type"],
                    value=r["value"],
                    component_instance=r["component_instance"] or None,
                    evse_id=None if r["evse_id"] < 0 else r["evse_id"],
                    connector_id=None if r["connector_id"] < 0 else r["connector_id"],
                    variable_instance=r["variable_instance"] or None,
                    mutability=r["mutability"],
                    persistent=r["persistent"],
                    constant=r["constant"],
                    data_type=r["data_type"],
                    unit=r["unit"],
                    min_limit=r["min_limit"],
                    max_limit=r["max_limit"],
                    values_list=r["values_list"],
                )
                for r in await conn.fetch(
                    "SELECT * FROM device_variables WHERE charge_point_id = $1 ORDER BY"
                    " component, component_instance, evse_id, connector_id, variable,"
                    " variable_instance, attribute_type",
                    cp_id,
                )
            ]

        return await self._db.read(read)
