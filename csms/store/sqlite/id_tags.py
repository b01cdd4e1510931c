"""The id-tags that answer chargers' authorisations."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from csms.domain.clock import format_timestamp
from csms.domain.errors import Conflict, NotFound
from csms.domain.models import IdTag, IdTagStatus
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
    )


class SqliteIdTags:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get_id_tag(self, uid: str) -> IdTag | None:
        def read(conn: sqlite3.Connection) -> IdTag | None:
            row = conn.execute("SELECT * FROM id_tags WHERE uid = ?", (uid,)).fetchone()
            return None if row is None else _id_tag(row)

        return await self._db.read(read)

    async def list_id_tags(self, page: Page[str]) -> Paged[IdTag]:
        def read(conn: sqlite3.Connection) -> Paged[IdTag]:
            rows = conn.execute(
                "SELECT * FROM id_tags WHERE (? IS NULL OR uid > ?) ORDER BY uid LIMIT ?",
                (page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([_id_tag(row) for row in rows], page)

        return await self._db.read(read)

    async def add_id_tag(self, tag: IdTag, created_at: datetime) -> IdTag:
        row = (
            tag.uid,
            tag.type,
            tag.status.value,
            ts(tag.expire_at),
            tag.parent_id_tag,
            tag.label,
            format_timestamp(created_at),
        )

        def op(conn: sqlite3.Connection) -> IdTag:
            try:
                conn.execute(
                    "INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"id-tag {tag.uid!r} already exists") from exc
            return tag

        return await self._db.write(op)

    async def update_id_tag(self, uid: str, changes: IdTagChanges) -> IdTag:
        assignments: dict[str, Any] = changed_fields(changes)
        if "expire_at" in assignments:
            assignments["expire_at"] = ts(assignments["expire_at"])

        def op(conn: sqlite3.Connection) -> IdTag:
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE id_tags SET {sets} WHERE uid = ?", (*assignments.values(), uid)
                )
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
