"""What chargers report that has no table of its own (NotifyEvent, security events, charging
limits and profiles reported by the charger, EV charging needs): kept whole, by kind."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.errors import Invalid
from csms.domain.models import ChargerReport
from csms.domain.paging import Page, Paged, paged
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresReports"]

_COLUMNS = "id, charge_point_id, kind, timestamp, data, received_at"
_INSERT = (
    "INSERT INTO charger_reports (charge_point_id, kind, timestamp, data, received_at)"
    " VALUES ($1, $2, $3, $4, $5)"
)


def _newest_first(report: ChargerReport) -> tuple[datetime, int]:
    return report.timestamp, report.id


class PostgresReports:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_charger_report(
        self,
        cp_id: str,
        kind: str,
        timestamp: datetime,
        data: dict[str, Any],
        *,
        received_at: datetime | None = None,
        events: DeclaredEvents[None] | None = None,
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(_INSERT, cp_id, kind, timestamp, data, received_at)

        await self._db.write(op, events=events)

    async def add_charger_reports(
        self,
        cp_id: str,
        kind: str,
        reports: Sequence[tuple[datetime, dict[str, Any]]],
        *,
        received_at: datetime,
        events: DeclaredEvents[None] | None = None,
    ) -> None:
        rows = [(cp_id, kind, at, data, received_at) for at, data in reports]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.executemany(_INSERT, rows)

        if rows or events is not None:  # the events are written even with nothing else
            await self._db.write(op, events=events)

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        async def read(conn: asyncpg.Connection) -> list[ChargerReport]:
            return [
                ChargerReport(*r)
                for r in await conn.fetch(
                    f"SELECT {_COLUMNS} FROM charger_reports"
                    " WHERE charge_point_id = $1 AND ($2::text IS NULL OR kind = $2)"
                    " ORDER BY id LIMIT $3",
                    cp_id,
                    kind,
                    limit,
                )
            ]

        return await self._db.read(read)

    async def page_charger_reports(
        self,
        cp_id: str,
        kinds: Collection[str],
        page: Page[int],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Paged[ChargerReport]:
        wanted = sorted(set(kinds))

        async def read(conn: asyncpg.Connection) -> Paged[ChargerReport]:
            args: list[Any] = []

            def arg(value: Any) -> str:
                """After $1 (the charger) and $2 (the kind)."""
                args.append(value)
                return f"${len(args) + 2}"

            # Only the bounds given, so that each is an index condition in every plan.
            where = "" if start is None else f" AND timestamp >= {arg(start)}"
            # Below the window's end and the cursor, as one bound: (timestamp, id) < (end, 0) is
            # timestamp < end.
            below = None if end is None else (end, 0)
            if page.starting_after is not None:
                cursor = await conn.fetchrow(
                    "SELECT timestamp, id FROM charger_reports WHERE id = $1"
                    " AND charge_point_id = $2 AND kind = ANY($3::text[])",
                    page.starting_after,
                    cp_id,
                    wanted,
                )
                if cursor is None:
                    raise Invalid("startingAfter", f"no report {page.starting_after} here")
                position = (cursor[0], cursor[1])
                below = position if below is None else min(below, position)
            if below is not None:
                where += f" AND (timestamp, id) < ({arg(below[0])}, {arg(below[1])})"
            where += f" ORDER BY timestamp DESC, id DESC LIMIT {arg(page.fetch)}"
            # One index range (charge_point_id, kind, timestamp, id) per kind, merged here: one
            # range over several kinds would have to be sorted whole.
            runs = [
                [
                    ChargerReport(*row)
                    for row in await conn.fetch(
                        f"SELECT {_COLUMNS} FROM charger_reports"
                        f" WHERE charge_point_id = $1 AND kind = $2{where}",
                        cp_id,
                        kind,
                        *args,
                    )
                ]
                for kind in wanted
            ]
            merged = heapq.merge(*runs, key=_newest_first, reverse=True)
            return paged(list(merged)[: page.fetch], page)

        return await self._db.read(read)
