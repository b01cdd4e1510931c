"""Operator API tokens, stored hashed."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from csms.domain.clock import format_timestamp
from csms.domain.models import ApiToken, Role
from csms.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteApiTokens"]


class SqliteApiTokens:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_api_token(
        self, token_hash: str, *, name: str, role: Role, created_at: datetime
    ) -> None:
        row = (token_hash, name, role.value, format_timestamp(created_at))

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name,"
                " role = excluded.role",
                row,
            )

        await self._db.write(op)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        def read(conn: sqlite3.Connection) -> ApiToken | None:
            row = conn.execute(
                "SELECT name, role FROM api_tokens WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else ApiToken(row[0], Role(row[1]))

        return await self._db.read(read)
