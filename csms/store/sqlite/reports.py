"""What chargers report that has no table of its own (NotifyEvent, security events, charging
limits and profiles reported by the charger, EV charging needs): kept whole, by kind."""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import Invalid
from csms.domain.models import ChargerReport
from csms.domain.paging import Page, Paged, paged
from csms.store.outbox import DeclaredEvents
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt, ts

__all__ = ["SqliteReports"]

_COLUMNS = "id, charge_point_id, kind, timestamp, data, received_at"
_INSERT = (
    "INSERT INTO charger_reports (charge_point_id, kind, timestamp, data, received_at)"
    " VALUES (?, ?, ?, ?, ?)"
)


def _report(row: sqlite3.Row) -> ChargerReport:
    return ChargerReport(
        row[0], row[1], row[2], parse_timestamp(row[3]), orjson.loads(row[4]), dt(row[5])
    )


def _newest_first(report: ChargerReport) -> tuple[datetime, int]:
    return report.timestamp, report.id


class SqliteReports:
    def __init__(self, db: SqliteDatabase) -> None:
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
        row = (
            cp_id,
            kind,
            format_timestamp(timestamp),
            orjson.dumps(data).decode(),
            ts(received_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(_INSERT, row)

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
        received = format_timestamp(received_at)
        rows = [
            (cp_id, kind, format_timestamp(at), orjson.dumps(data).decode(), received)
            for at, data in reports
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(_INSERT, rows)

        if rows or events is not None:  # the events are written even with nothing else
            await self._db.write(op, events=events)

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        def read(conn: sqlite3.Connection) -> list[ChargerReport]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM charger_reports WHERE charge_point_id = ?"
                " AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?",
                (cp_id, kind, kind, limit),
            ).fetchall()
            return [_report(r) for r in rows]

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

        def read(conn: sqlite3.Connection) -> Paged[ChargerReport]:
            where, args = "", list[Any]()
            if start is not None:
                where, args = " AND timestamp >= ?", [format_timestamp(start)]
            # Below the window's end and the cursor, as one bound: (timestamp, id) < (end, 0) is
            # timestamp < end, and the lower of the two is an index range even with a start.
            below = None if end is None else (format_timestamp(end), 0)
            if page.starting_after is not None:
                cursor = conn.execute(
                    "SELECT timestamp, id FROM charger_reports WHERE id = ?"
                    " AND charge_point_id = ? AND kind IN (SELECT value FROM json_each(?))",
                    (page.starting_after, cp_id, orjson.dumps(wanted).decode()),
                ).fetchone()
                if cursor is None:
                    raise Invalid("startingAfter", f"no report {page.starting_after} here")
                below = tuple(cursor) if below is None else min(below, tuple(cursor))
            if below is not None:
                where += " AND (timestamp, id) < (?, ?)"
                args += below
            # One index range (charge_point_id, kind, timestamp) per kind, merged here: one
            # range over several kinds would have to be sorted whole.
            runs = [
                [
                    _report(row)
                    for row in conn.execute(
                        f"SELECT {_COLUMNS} FROM charger_reports"
                        f" WHERE charge_point_id = ? AND kind = ?{where}"
                        " ORDER BY timestamp DESC, id DESC LIMIT ?",
                        (cp_id, kind, *args, page.fetch),
                    )
                ]
                for kind in wanted
            ]
            merged = heapq.merge(*runs, key=_newest_first, reverse=True)
            return paged(list(merged)[: page.fetch], page)

        return await self._db.read(read)
