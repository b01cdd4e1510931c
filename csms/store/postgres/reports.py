"""What chargers report that has no table of its own (NotifyEvent, security events, charging
limits and profiles reported by the charger, EV charging needs): kept whole, by kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.models import ChargerReport
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresReports"]


class PostgresReports:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_charger_report(
        self, cp_id: str, kind: str, timestamp: datetime, data: dict[str, Any]
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO charger_reports (charge_point_id, kind, timestamp, data)"
                " VALUES ($1, $2, $3, $4)",
                cp_id,
                kind,
                timestamp,
                data,
            )

        await self._db.write(op)

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        async def read(conn: asyncpg.Connection) -> list[ChargerReport]:
            return [
                ChargerReport(*r)
                for r in await conn.fetch(
                    "SELECT id, charge_point_id, kind, timestamp, data FROM charger_reports"
                    " WHERE charge_point_id = $1 AND ($2::text IS NULL OR kind = $2)"
                    " ORDER BY id LIMIT $3",
                    cp_id,
                    kind,
                    limit,
                )
            ]

        return await self._db.read(read)
