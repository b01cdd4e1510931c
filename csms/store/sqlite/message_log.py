"""The OCPP message log: one row per exchange (csms.store.message_frames), oldest first."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.models import EXCHANGE_WINDOW_MS, MessageExchange, OcppMessage
from csms.domain.paging import Page, Paged, paged
from csms.store.message_frames import StoredExchange, frames_of
from csms.store.rows import EXCHANGE_COLUMNS, exchange_values
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import epoch_ms, from_epoch_ms

__all__ = ["SqliteMessageLog"]

_APPEND_CHUNK = 250
_INSERT = (
    f"INSERT INTO message_log ({', '.join(EXCHANGE_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(EXCHANGE_COLUMNS))})"
)
_PURGE_CHUNK = 5_000


def _stored(row: sqlite3.Row) -> StoredExchange:
    answer_at = row["answer_at"]
    return StoredExchange(
        id=row["id"],
        charge_point_id=row["charge_point_id"],
        unique_id=row["unique_id"],
        action=row["action"],
        outgoing=bool(row["outgoing"]),
        first_type=row["first_type"],
        first_at=from_epoch_ms(row["first_at"]),
        first_body=row["first_body"],
        answer_type=row["answer_type"],
        answer_at=None if answer_at is None else from_epoch_ms(answer_at),
        answer_body=row["answer_body"],
    )


class SqliteMessageLog:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def append_exchanges(self, exchanges: Sequence[MessageExchange]) -> None:
        # In chunks, behind the writes chargers wait for: the log is an audit trail, not state.
        for start in range(0, len(exchanges), _APPEND_CHUNK):
            chunk = exchanges[start : start + _APPEND_CHUNK]

            def op(conn: sqlite3.Connection, chunk: Sequence[MessageExchange] = chunk) -> None:
                # Rows are built here, on the database thread, not on the event loop.
                conn.executemany(
                    _INSERT,
                    [exchange_values(e, epoch_ms) for e in chunk],
                )

            await self._db.write_background(op)

    async def list_messages(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> Paged[OcppMessage]:
        after = page.starting_after
        clauses = ["id >= ?"]
        params: list[Any] = [0 if after is None else after // 2]
        if cp_id is not None:
            clauses.append("charge_point_id = ?")
            params.append(cp_id)
        if action is not None:
            clauses.append("action = ?")
            params.append(action)
        if direction is not None:
            outgoing = int(direction == "out")
            clauses.append("(outgoing = ? OR (answer_type IS NOT NULL AND outgoing != ?))")
            params.extend([outgoing, outgoing])
        since_ms = None if since is None else epoch_ms(since)
        if since_ms is not None:
            # An exchange's answer is at most the pairing window after its CALL: the index on
            # first_at finds every row with a frame at or after ``since``.
            clauses.append("first_at >= ? AND (first_at >= ? OR answer_at >= ?)")
            params.extend([since_ms - EXCHANGE_WINDOW_MS, since_ms, since_ms])
        # Every row read yields a frame, except perhaps the cursor's own: one row more.
        params.append(page.fetch + 1)
        sql = f"SELECT * FROM message_log WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"

        def read(conn: sqlite3.Connection) -> Paged[OcppMessage]:
            frames: list[OcppMessage] = []
            for row in conn.execute(sql, params):
                frames.extend(
                    frames_of(_stored(row), after=after, direction=direction, since=since)
                )
            return paged(frames, page)

        return await self._db.read(read)

    async def purge_messages(self, before: datetime) -> int:
        """Delete exchanges whose CALL is older than ``before``, a chunk per commit, so that a
        large purge never holds the writer for long."""
        cutoff = epoch_ms(before)
        total = 0
        while True:

            def op(conn: sqlite3.Connection) -> int:
                return conn.execute(
                    "DELETE FROM message_log WHERE id IN (SELECT id FROM message_log"
                    " WHERE first_at < ? ORDER BY first_at LIMIT ?)",
                    (cutoff, _PURGE_CHUNK),
                ).rowcount

            deleted = await self._db.write_background(op)
            total += deleted
            if deleted < _PURGE_CHUNK:
                return total
