"""The id-tags that answer chargers' authorisations."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from csms.domain.errors import Conflict, NotFound
from csms.domain.models import IdTag, IdTagStatus, NewIdTag
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import IdTagChanges, changed_fields
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresIdTags"]

_COLUMNS = (
    "uid, status, type, expire_at, parent_id_tag, label, user_id, external_id,"
    " created_at, last_updated_at"
)


def _id_tag(row: asyncpg.Record) -> IdTag:
    return IdTag(
        uid=row["uid"],
        status=IdTagStatus(row["status"]),
        type=row["type"],
        expire_at=row["expire_at"],
        parent_id_tag=row["parent_id_tag"],
        label=row["label"],
        user_id=row["user_id"],
        external_id=row["external_id"],
        created_at=row["created_at"],
        last_updated_at=row["last_updated_at"],
    )


class PostgresIdTags:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def get_id_tag(self, uid: str) -> IdTag | None:
        async def read(conn: asyncpg.Connection) -> IdTag | None:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM id_tags WHERE uid = $1", uid)
            return None if row is None else _id_tag(row)

        return await self._db.read(read)

    async def list_id_tags(
        self,
        page: Page[str],
        *,
        user_id: str | None = None,
        status: IdTagStatus | None = None,
    ) -> Paged[IdTag]:
        # Conditions only for the filters given (no "$n IS NULL OR"), so that the plan can use
        # id_tags_user_id whatever the parameters turn out to be.
        conditions: list[str] = []
        params: list[str] = []
        for condition, value in (
            ("uid > ${}", page.starting_after),
            ("user_id = ${}", user_id),
            ("status = ${}", None if status is None else status.value),
        ):
            if value is not None:
                params.append(value)
                conditions.append(condition.format(len(params)))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT {_COLUMNS} FROM id_tags {where} ORDER BY uid LIMIT ${len(params) + 1}"

        async def read(conn: asyncpg.Connection) -> Paged[IdTag]:
            rows = await conn.fetch(sql, *params, page.fetch)
            return paged([_id_tag(row) for row in rows], page)

        return await self._db.read(read)

    async def add_id_tag(self, tag: NewIdTag, created_at: datetime) -> IdTag:
        stored = tag.stored(created_at)

        async def op(conn: asyncpg.Connection) -> IdTag:
            try:
                await conn.execute(
                    "INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label,"
                    " user_id, external_id, created_at, last_updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    stored.uid,
                    stored.type,
                    stored.status.value,
                    stored.expire_at,
                    stored.parent_id_tag,
                    stored.label,
                    stored.user_id,
                    stored.external_id,
                    stored.created_at,
                    stored.last_updated_at,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"id-tag {tag.uid!r} already exists") from exc
            return stored

        return await self._db.write(op)

    async def update_id_tag(self, uid: str, changes: IdTagChanges, updated_at: datetime) -> IdTag:
        assignments = {**changed_fields(changes), "last_updated_at": updated_at}
        sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(assignments, 2))

        async def op(conn: asyncpg.Connection) -> IdTag:
            row = await conn.fetchrow(
                f"UPDATE id_tags SET {sets} WHERE uid = $1 RETURNING {_COLUMNS}",
                uid,
                *assignments.values(),
            )
            if row is None:
                raise NotFound(f"id-tag {uid!r} not found")
            return _id_tag(row)

        return await self._db.write(op)

    async def delete_id_tag(self, uid: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            if await conn.execute("DELETE FROM id_tags WHERE uid = $1", uid) == "DELETE 0":
                raise NotFound(f"id-tag {uid!r} not found")

        await self._db.write(op)
