"""The id-tags that answer chargers' authorisations."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import Conflict, NotFound
from csms.domain.models import IdTag, IdTagStatus, NewIdTag
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import IdTagChanges, changed_fields
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt, ts

__all__ = ["SqliteIdTags"]


def _id_tag(row: sqlite3.Row) -> IdTag:
    return IdTag(
        uid=row["uid"],
        status=IdTagStatus(row["status"]),
        type=row["type"],
        expire_at=dt(row["expire_at"]),
        parent_id_tag=row["parent_id_tag"],
        label=row["label"],
        user_id=row["user_id"],
        external_id=row["external_id"],
        created_at=parse_timestamp(row["created_at"]),
        last_updated_at=parse_timestamp(row["last_updated_at"]),
    )


class SqliteIdTags:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get_id_tag(self, uid: str) -> IdTag | None:
        def read(conn: sqlite3.Connection) -> IdTag | None:
            row = conn.execute("SELECT * FROM id_tags WHERE uid = ?", (uid,)).fetchone()
            return None if row is None else _id_tag(row)

        return await self._db.read(read)

    async def list_id_tags(
        self,
        page: Page[str],
        *,
        user_id: str | None = None,
        status: IdTagStatus | None = None,
    ) -> Paged[IdTag]:
        # Conditions only for the filters given (no "? IS NULL OR"), so that the planner can
        # use id_tags_user_id.
        conditions: list[str] = []
        params: list[str] = []
        if page.starting_after is not None:
            conditions.append("uid > ?")
            params.append(page.starting_after)
        if user_id is not None:
            conditions.append("user_id = ?")
            params.append(user_id)
        if status is not None:
            conditions.append("status = ?")
            params.append(status.value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT * FROM id_tags {where} ORDER BY uid LIMIT ?"

        def read(conn: sqlite3.Connection) -> Paged[IdTag]:
            rows = conn.execute(sql, (*params, page.fetch)).fetchall()
            return paged([_id_tag(row) for row in rows], page)

        return await self._db.read(read)

    async def add_id_tag(self, tag: NewIdTag, created_at: datetime) -> IdTag:
        stored = tag.stored(created_at)
        row = (
            stored.uid,
            stored.type,
            stored.status.value,
            ts(stored.expire_at),
            stored.parent_id_tag,
            stored.label,
            stored.user_id,
            stored.external_id,
            format_timestamp(stored.created_at),
            format_timestamp(stored.last_updated_at),
        )

        def op(conn: sqlite3.Connection) -> IdTag:
            try:
                conn.execute(
                    "INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label,"
                    " user_id, external_id, created_at, last_updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"id-tag {tag.uid!r} already exists") from exc
            return stored

        return await self._db.write(op)

    async def update_id_tag(self, uid: str, changes: IdTagChanges, updated_at: datetime) -> IdTag:
        assignments: dict[str, Any] = changed_fields(changes)
        if "expire_at" in assignments:
            assignments["expire_at"] = ts(assignments["expire_at"])
        assignments["last_updated_at"] = format_timestamp(updated_at)
        sets = ", ".join(f"{column} = ?" for column in assignments)

        def op(conn: sqlite3.Connection) -> IdTag:
            conn.execute(f"UPDATE id_tags SET {sets} WHERE uid = ?", (*assignments.values(), uid))
            row = conn.execute("SELECT * FROM id_tags WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                raise NotFound(f"id-tag {uid!r} not found")
            return _id_tag(row)

        return await self._db.write(op)

    async def delete_id_tag(self, uid: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM id_tags WHERE uid = ?", (uid,)).rowcount == 0:
                raise NotFound(f"id-tag {uid!r} not found")

        await self._db.write(op)
