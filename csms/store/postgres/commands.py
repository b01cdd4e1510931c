"""Operator commands: the audit trail of every call the CSMS sent on an operator's behalf."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.errors import NotFound
from csms.domain.models import CommandOutcome, CommandRecord
from csms.domain.paging import Page, Paged, paged
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresCommands"]

_COLUMNS = (
    "id, charge_point_id, action, requested_by, request, state, created_at, ocpp_action,"
    " ocpp_payload, status, response, error, completed_at, duration_ms"
)


def _command(row: asyncpg.Record) -> CommandRecord:
    return CommandRecord(*row)


class PostgresCommands:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def allocate_command_id(self) -> int:
        # A sequence: unique across every node sharing the database.
        async def read(conn: asyncpg.Connection) -> int:
            command_id: int = await conn.fetchval("SELECT nextval('command_ids')")
            return command_id

        return await self._db.read(read)

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
        async def op(conn: asyncpg.Connection) -> CommandRecord:
            row = await conn.fetchrow(
                "INSERT INTO commands (id, charge_point_id, action, requested_by, request,"
                " created_at, ocpp_action, ocpp_payload, state)"
                f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') RETURNING {_COLUMNS}",
                command_id,
                cp_id,
                action,
                requested_by,
                request,
                created_at,
                ocpp_action,
                ocpp_payload,
            )
            return _command(row)

        return await self._db.write(op)

    async def complete_command(
        self,
        command_id: int,
        outcome: CommandOutcome,
        *,
        events: DeclaredEvents[CommandRecord] | None = None,
    ) -> CommandRecord:
        async def op(conn: asyncpg.Connection) -> CommandRecord:
            row = await conn.fetchrow(
                "UPDATE commands SET state = $2, status = $3, response = $4, error = $5,"
                f" completed_at = $6, duration_ms = $7 WHERE id = $1 RETURNING {_COLUMNS}",
                command_id,
                outcome.state,
                outcome.status,
                outcome.response,
                outcome.error,
                outcome.completed_at,
                outcome.duration_ms,
            )
            if row is None:
                raise NotFound(f"command {command_id} not found")
            return _command(row)

        return await self._db.write(op, events=events)

    async def get_command(self, command_id: int) -> CommandRecord | None:
        async def read(conn: asyncpg.Connection) -> CommandRecord | None:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM commands WHERE id = $1", command_id)
            return None if row is None else _command(row)

        if not 0 < command_id <= 2**31 - 1:
            return None
        return await self._db.read(read)

    async def list_commands(
        self, page: Page[int], *, cp_id: str | None = None
    ) -> Paged[CommandRecord]:
        async def read(conn: asyncpg.Connection) -> Paged[CommandRecord]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM commands WHERE ($1::bigint IS NULL OR id < $1)"
                " AND ($2::citext IS NULL OR charge_point_id = $2) ORDER BY id DESC LIMIT $3",
                page.starting_after,
                cp_id,
                page.fetch,
            )
            return paged([_command(row) for row in rows], page)

        return await self._db.read(read)
