"""The id-tags that answer chargers' authorisations."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from csms.domain.errors import Conflict, NotFound
from csms.domain.models import IdTag, IdTagStatus
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import IdTagChanges, changed_fields
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresIdTags"]

_COLUMNS = "uid, status, type, expire_at, parent_id_tag, label"


def _id_tag(row: asyncpg.Record) -> IdTag:
    return IdTag(
        uid=row["uid"],
        status=IdTagStatus(row["status"]),
        type=row["type"],
        expire_at=row["expire_at"],
        parent_id_tag=row["parent_id_tag"],
        label=row["label"],
    )


class PostgresIdTags:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def get_id_tag(self, uid: str) -> IdTag | None:
        async def read(conn: asyncpg.Connection) -> IdTag | None:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM id_tags WHERE uid = $1", uid)
            return None if row is None else _id_tag(row)

        return await self._db.read(read)

    async def list_id_tags(self, page: Page[str]) -> Paged[IdTag]:
        async def read(conn: asyncpg.Connection) -> Paged[IdTag]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM id_tags WHERE ($1::citext IS NULL OR uid > $1)"
                " ORDER BY uid LIMIT $2",
                page.starting_after,
                page.fetch,
            )
            return paged([_id_tag(row) for row in rows], page)

        return await self._db.read(read)

    async def add_id_tag(self, tag: IdTag, created_at: datetime) -> IdTag:
        async def op(conn: asyncpg.Connection) -> IdTag:
            try:
                await conn.execute(
                    "INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label,"
                    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    tag.uid,
                    tag.type,
                    tag.status.value,
                    tag.expire_at,
                    tag.parent_id_tag,
                    tag.label,
                    created_at,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"id-tag {tag.uid!r} already exists") from exc
            return tag

        return await self._db.write(op)

    async def update_id_tag(self, uid: str, changes: IdTagChanges) -> IdTag:
        assignments = changed_fields(changes)

        async def op(conn: asyncpg.Connection) -> IdTag:
            if assignments:
                sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(assignments, 2))
                await conn.execute(
                    f"UPDATE id_tags SET {sets} WHERE uid = $1", uid, *assignments.values()
                )
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM id_tags WHERE uid = $1", uid)
            if row is None:
                raise NotFound(f"id-tag {uid!r} not found")
            return _id_tag(row)

        return await self._db.write(op)

    async def delete_id_tag(self, uid: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            if await conn.execute("DELETE FROM id_tags WHERE uid = $1", uid) == "DELETE 0":
                raise NotFound(f"id-tag {uid!r} not found")

        await self._db.write(op)
