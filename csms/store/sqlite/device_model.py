"""The charger's device model as it reported it (OCPP 2.0.1 NotifyReport, GetVariables)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from csms.domain.clock import format_timestamp
from csms.domain.models import DeviceVariable
from csms.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteDeviceModel"]


class SqliteDeviceModel:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def upsert_device_variables(
        self, cp_id: str, variables: Sequence[DeviceVariable], at: datetime
    ) -> None:
        stamp = format_timestamp(at)
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
                None if v.persistent is None else int(v.persistent),
                None if v.constant is None else int(v.constant),
                v.data_type,
                v.unit,
                v.min_limit,
                v.max_limit,
                v.values_list,
                stamp,
            )
            for v in variables
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO device_variables (charge_point_id, component,"
                " component_instance, evse_id, connector_id, variable, variable_instance,"
                " attribute_type, value, mutability, persistent, constant, data_type, unit,"
                " min_limit, max_limit, values_list, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        await self._db.write(op)

    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]:
        def read(conn: sqlite3.Connection) -> list[DeviceVariable]:
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
                    persistent=None if r["persistent"] is None else bool(r["persistent"]),
                    constant=None if r["constant"] is None else bool(r["constant"]),
                    data_type=r["data_type"],
                    unit=r["unit"],
                    min_limit=r["min_limit"],
                    max_limit=r["max_limit"],
                    values_list=r["values_list"],
                )
                for r in conn.execute(
                    "SELECT * FROM device_variables WHERE charge_point_id = ? ORDER BY component,"
                    " component_instance, evse_id, connector_id, variable, variable_instance,"
                    " attribute_type",
                    (cp_id,),
                )
            ]

        return await self._db.read(read)
