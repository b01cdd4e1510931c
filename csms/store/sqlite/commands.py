"""Operator commands: the audit trail of every call the CSMS sent on an operator's behalf."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from typing import Any

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import NotFound
from csms.domain.models import CommandOutcome, CommandRecord
from csms.domain.paging import Page, Paged, paged
from csms.store.outbox import DeclaredEvents
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt, from_json, json_text

__all__ = ["SqliteCommands"]


def _command(row: sqlite3.Row) -> CommandRecord:
    return CommandRecord(
        id=row["id"],
        charge_point_id=row["charge_point_id"],
        action=row["action"],
        requested_by=row["requested_by"],
        request=orjson.loads(row["request"]),
        state=row["state"],
        created_at=parse_timestamp(row["created_at"]),
        ocpp_action=row["ocpp_action"],
        ocpp_payload=from_json(row["ocpp_payload"]),
        status=row["status"],
        response=from_json(row["response"]),
        error=from_json(row["error"]),
        completed_at=dt(row["completed_at"]),
        duration_ms=row["duration_ms"],
    )


class SqliteCommands:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._last_id: int | None = None
        self._allocating = asyncio.Lock()

    async def allocate_command_id(self) -> int:
        # A SQLite file has one writing process (a cluster needs PostgreSQL), so a counter
        # seeded from the table once is unique; it is never handed out twice even when the
        # command it was allocated for is never written.
        async with self._allocating:
            if self._last_id is None:
                self._last_id = await self._db.read(
                    lambda conn: int(
                        conn.execute("SELECT COALESCE(MAX(id), 0) FROM commands").fetchone()[0]
                    )
                )
            self._last_id += 1
            return self._last_id

    async def add_command(
        self,
        command_id: int,
        cp_id: str,
        action: str,
        *,
        requested_by: str,
        request: dict[str, Any],
        created_at: datetime,
        ocpp_action: str | None = None,
        ocpp_payload: dict[str, Any] | None = None,
    ) -> CommandRecord:
        row = (
            command_id,
            cp_id,
            action,
            requested_by,
            orjson.dumps(request).decode(),
            format_timestamp(created_at),
            ocpp_action,
            json_text(ocpp_payload),
        )

        def op(conn: sqlite3.Connection) -> CommandRecord:
            conn.execute(
                "INSERT INTO commands (id, charge_point_id, action, requested_by, request,"
                " created_at, ocpp_action, ocpp_payload, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                row,
            )
            return _command(
                conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            )

        return await self._db.write(op)

    async def complete_command(
        self,
        command_id: int,
        outcome: CommandOutcome,
        *,
        events: DeclaredEvents[CommandRecord] | None = None,
    ) -> CommandRecord:
        row = (
            outcome.state,
            outcome.status,
            json_text(outcome.response),
            json_text(outcome.error),
            format_timestamp(outcome.completed_at),
            outcome.duration_ms,
            command_id,
        )

        def op(conn: sqlite3.Connection) -> CommandRecord:
            conn.execute(
                "UPDATE commands SET state = ?, status = ?, response = ?, error = ?,"
                " completed_at = ?, duration_ms = ? WHERE id = ?",
                row,
            )
            found = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            if found is None:
                raise NotFound(f"command {command_id} not found")
            return _command(found)

        return await self._db.write(op, events=events)

    async def get_command(self, command_id: int) -> CommandRecord | None:
        def read(conn: sqlite3.Connection) -> CommandRecord | None:
            row = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            return None if row is None else _command(row)

        return await self._db.read(read)

    async def list_commands(
        self, page: Page[int], *, cp_id: str | None = None
    ) -> Paged[CommandRecord]:
        def read(conn: sqlite3.Connection) -> Paged[CommandRecord]:
            rows = conn.execute(
                "SELECT * FROM commands WHERE (? IS NULL OR id < ?)"
                " AND (? IS NULL OR charge_point_id = ?) ORDER BY id DESC LIMIT ?",
                (page.starting_after, page.starting_after, cp_id, cp_id, page.fetch),
            ).fetchall()
            return paged([_command(row) for row in rows], page)

        return await self._db.read(read)
