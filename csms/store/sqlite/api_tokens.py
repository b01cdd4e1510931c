"""Operator API tokens, stored hashed. The ``name`` column holds the label (its name before
tokens had ids, kept so that existing rows read the same)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime

import orjson

from csms.domain.clock import format_timestamp
from csms.domain.errors import NotFound
from csms.domain.models import ApiToken, Role, TokenSource
from csms.domain.paging import Page, Paged, paged
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt, ts

__all__ = ["SqliteApiTokens"]

_COLUMNS = "id, role, name, source, created_at, expires_at, last_used_at"


def _api_token(row: sqlite3.Row) -> ApiToken:
    created_at = dt(row["created_at"])
    assert created_at is not None
    return ApiToken(
        id=row["id"],
        role=Role(row["role"]),
        label=row["name"],
        source=TokenSource(row["source"]),
        created_at=created_at,
        expires_at=dt(row["expires_at"]),
        last_used_at=dt(row["last_used_at"]),
    )


class SqliteApiTokens:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_api_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        row = (
            token.id,
            token_hash,
            token.label,
            token.role.value,
            token.source.value,
            format_timestamp(token.created_at),
            ts(token.expires_at),
            ts(token.last_used_at),
        )

        def op(conn: sqlite3.Connection) -> ApiToken:
            stored = conn.execute(
                "INSERT INTO api_tokens (id, token_hash, name, role, source, created_at,"
                " expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name,"
                " role = excluded.role, source = excluded.source,"
                f" expires_at = excluded.expires_at RETURNING {_COLUMNS}",
                row,
            ).fetchone()
            return _api_token(stored)

        return await self._db.write(op)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        def read(conn: sqlite3.Connection) -> ApiToken | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else _api_token(row)

        return await self._db.read(read)

    async def list_api_tokens(self, page: Page[str]) -> Paged[ApiToken]:
        def read(conn: sqlite3.Connection) -> Paged[ApiToken]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE (? IS NULL OR id > ?)"
                " ORDER BY id LIMIT ?",
                (page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([_api_token(row) for row in rows], page)

        return await self._db.read(read)

    async def delete_api_token(self, token_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,)).rowcount == 0:
                raise NotFound(f"API token {token_id!r} not found")

        await self._db.write(op)

    async def record_api_token_uses(self, uses: Sequence[tuple[str, datetime]]) -> None:
        # Fixed-width UTC text sorts as time, so "only move forward" is a text comparison.
        stamped = [(token_id, format_timestamp(at)) for token_id, at in uses]
        rows = [(stamp, token_id, stamp) for token_id, stamp in stamped]
        if not rows:
            return

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?"
                " AND (last_used_at IS NULL OR last_used_at < ?)",
                rows,
            )

        await self._db.write(op)

    async def remove_config_tokens(self, keep_hashes: Collection[str]) -> list[str]:
        keep = orjson.dumps(sorted(keep_hashes)).decode()

        def op(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "DELETE FROM api_tokens WHERE source = ?"
                " AND token_hash NOT IN (SELECT value FROM json_each(?)) RETURNING id",
                (TokenSource.CONFIG.value, keep),
            ).fetchall()
            return sorted(row[0] for row in rows)

        return await self._db.write(op)
