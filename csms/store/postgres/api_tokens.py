"""Operator API tokens, stored hashed."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from csms.domain.models import ApiToken, Role
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresApiTokens"]


class PostgresApiTokens:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_api_token(
        self, token_hash: str, *, name: str, role: Role, created_at: datetime
    ) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO api_tokens (token_hash, name, role, created_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO UPDATE"
                " SET name = excluded.name, role = excluded.role",
                token_hash,
                name,
                role.value,
                created_at,
            )

        await self._db.write(op)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        async def read(conn: asyncpg.Connection) -> ApiToken | None:
            row = await conn.fetchrow(
                "SELECT name, role FROM api_tokens WHERE token_hash = $1", token_hash
            )
            return None if row is None else ApiToken(row[0], Role(row[1]))

        return await self._db.read(read)
