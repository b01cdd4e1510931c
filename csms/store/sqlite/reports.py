"""What chargers report that has no table of its own (NotifyEvent, security events, charging
limits and profiles reported by the charger, EV charging needs): kept whole, by kind."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.models import ChargerReport
from csms.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteReports"]


class SqliteReports:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_charger_report(
        self, cp_id: str, kind: str, timestamp: datetime, data: dict[str, Any]
    ) -> None:
        row = (cp_id, kind, format_timestamp(timestamp), orjson.dumps(data).decode())

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO charger_reports (charge_point_id, kind, timestamp, data)"
                " VALUES (?, ?, ?, ?)",
                row,
            )

        await self._db.write(op)

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        def read(conn: sqlite3.Connection) -> list[ChargerReport]:
            rows = conn.execute(
                "SELECT * FROM charger_reports WHERE charge_point_id = ?"
                " AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?",
                (cp_id, kind, kind, limit),
            ).fetchall()
            return [
                ChargerReport(
                    r["id"],
                    r["charge_point_id"],
                    r["kind"],
                    parse_timestamp(r["timestamp"]),
                    orjson.loads(r["data"]),
                )
                for r in rows
            ]

        return await self._db.read(read)
