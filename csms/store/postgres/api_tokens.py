"""Operator API tokens, stored hashed. The ``name`` column holds the label (its name before
tokens had ids, kept so that existing rows read the same)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import asyncpg

from csms.domain.errors import NotFound
from csms.domain.models import ApiToken, Role, TokenSource
from csms.domain.paging import Page, Paged, paged
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresApiTokens"]

_COLUMNS = "id, role, name, source, created_at, expires_at, last_used_at"


def _api_token(row: asyncpg.Record) -> ApiToken:
    return ApiToken(
        id=row["id"],
        role=Role(row["role"]),
        label=row["name"],
        source=TokenSource(row["source"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
    )


class PostgresApiTokens:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_api_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        async def op(conn: asyncpg.Connection) -> ApiToken:
            row = await conn.fetchrow(
                "INSERT INTO api_tokens (id, token_hash, name, role, source, created_at,"
                " expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name,"
                " role = excluded.role, source = excluded.source,"
                f" expires_at = excluded.expires_at RETURNING {_COLUMNS}",
                token.id,
                token_hash,
                token.label,
                token.role.value,
                token.source.value,
                token.created_at,
                token.expires_at,
                token.last_used_at,
            )
            return _api_token(row)

        return await self._db.write(op)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        async def read(conn: asyncpg.Connection) -> ApiToken | None:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = $1", token_hash
            )
            return None if row is None else _api_token(row)

        return await self._db.read(read)

    async def list_api_tokens(self, page: Page[str]) -> Paged[ApiToken]:
        async def read(conn: asyncpg.Connection) -> Paged[ApiToken]:
            # COLLATE "C": ids are compared byte by byte, as SQLite does, so both page alike.
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM api_tokens"
                ' WHERE ($1::text IS NULL OR id COLLATE "C" > $1)'
                ' ORDER BY id COLLATE "C" LIMIT $2',
                page.starting_after,
                page.fetch,
            )
            return paged([_api_token(row) for row in rows], page)

        return await self._db.read(read)

    async def delete_api_token(self, token_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            if await conn.execute("DELETE FROM api_tokens WHERE id = $1", token_id) == "DELETE 0":
                raise NotFound(f"API token {token_id!r} not found")

        await self._db.write(op)

    async def record_api_token_uses(self, uses: Sequence[tuple[str, datetime]]) -> None:
        if not uses:
            return
        ids = [token_id for token_id, _ in uses]
        moments = [at for _, at in uses]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "UPDATE api_tokens t SET last_used_at = u.at"
                " FROM unnest($1::text[], $2::timestamptz[]) AS u (id, at)"
                " WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)",
                ids,
                moments,
            )

        await self._db.write(op)

    async def remove_config_tokens(self, keep_hashes: Collection[str]) -> list[str]:
        keep = sorted(keep_hashes)

        async def op(conn: asyncpg.Connection) -> list[str]:
            rows = await conn.fetch(
                "DELETE FROM api_tokens WHERE source = $1"
                " AND NOT (token_hash = ANY($2::text[])) RETURNING id",
                TokenSource.CONFIG.value,
                keep,
            )
            return sorted(row["id"] for row in rows)

        return await self._db.write(op)
