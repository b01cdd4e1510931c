"""The charger's device model as it reported it (OCPP 2.0.1 NotifyReport, GetVariables)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from csms.domain.clock import format_timestamp
from csms.domain.models import DeviceVariable
from csms.store.outbox import DeclaredEvents
from csms.store.rows import (
    DEVICE_VARIABLE_COLUMNS,
    device_variable_from_row,
    device_variable_values,
)
from csms.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteDeviceModel"]


class SqliteDeviceModel:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def upsert_device_variables(
        self,
        cp_id: str,
        variables: Sequence[DeviceVariable],
        at: datetime,
        *,
        events: DeclaredEvents[None] | None = None,
    ) -> None:
        stamp = format_timestamp(at)
        rows = [device_variable_values(cp_id, v, stamp) for v in variables]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                f"INSERT OR REPLACE INTO device_variables ({', '.join(DEVICE_VARIABLE_COLUMNS)})"
                f" VALUES ({', '.join('?' * len(DEVICE_VARIABLE_COLUMNS))})",
                rows,
            )

        await self._db.write(op, events=events)

    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]:
        def read(conn: sqlite3.Connection) -> list[DeviceVariable]:
            return [
                device_variable_from_row(r)
                for r in conn.execute(
                    "SELECT * FROM device_variables WHERE charge_point_id = ? ORDER BY component,"
                    " component_instance, evse_id, connector_id, variable, variable_instance,"
                    " attribute_type",
                    (cp_id,),
                )
            ]

        return await self._db.read(read)
