"""The OCPP message log: one row per exchange (csms.store.message_frames), oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from csms.domain.models import EXCHANGE_WINDOW_MS, MessageExchange, OcppMessage
from csms.domain.paging import Page, Paged, paged
from csms.store.message_frames import StoredExchange, frames_of
from csms.store.postgres.database import PostgresDatabase, rows_affected
from csms.store.rows import EXCHANGE_COLUMNS, exchange_values, unchanged

__all__ = ["PostgresMessageLog"]

_APPEND_CHUNK = 1_000
_PURGE_CHUNK = 5_000


class PostgresMessageLog:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def append_exchanges(self, exchanges: Sequence[MessageExchange]) -> None:
        # COPY, in chunks, beside the writes chargers wait for: the log is an audit trail.
        for start in range(0, len(exchanges), _APPEND_CHUNK):
            chunk = exchanges[start : start + _APPEND_CHUNK]
            records = [exchange_values(e, unchanged) for e in chunk]

            async def op(
                conn: asyncpg.Connection, records: list[tuple[Any, ...]] = records
            ) -> None:
                await conn.copy_records_to_table(
                    "message_log", records=records, columns=EXCHANGE_COLUMNS
                )

            await self._db.write_apart(op)

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
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        clauses = [f"id >= {param(0 if after is None else after // 2)}"]
        if cp_id is not None:
            clauses.append(f"charge_point_id = {param(cp_id)}")
        if action is not None:
            clauses.append(f"action = {param(action)}")
        if direction is not None:
            outgoing = param(direction == "out")
            clauses.append(
                f"(outgoing = {outgoing} OR (answer_type IS NOT NULL AND outgoing != {outgoing}))"
            )
        if since is not None:
            # An exchange's answer is at most the pairing window after its CALL: the index on
            # first_at finds every row with a frame at or after ``since``.
            earliest = param(since - timedelta(milliseconds=EXCHANGE_WINDOW_MS))
            moment = param(since)
            clauses.append(
                f"first_at >= {earliest} AND (first_at >= {moment} OR answer_at >= {moment})"
            )
        # Every row read yields a frame, except perhaps the cursor's own: one row more.
        sql = (
            "SELECT id, charge_point_id, unique_id, action, outgoing, first_type, first_at,"
            " first_body, answer_type, answer_at, answer_body FROM message_log"
            f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT {param(page.fetch + 1)}"
        )

        async def read(conn: asyncpg.Connection) -> Paged[OcppMessage]:
            frames: list[OcppMessage] = []
            for row in await conn.fetch(sql, *params):
                stored = StoredExchange(*row)
                frames.extend(frames_of(stored, after=after, direction=direction, since=since))
            return paged(frames, page)

        return await self._db.read(read)

    async def purge_messages(self, before: datetime) -> int:
        """Delete exchanges whose first frame is older than ``before``, a chunk per commit, so
        that a large purge never holds one long transaction."""
        total = 0
        while True:

            async def op(conn: asyncpg.Connection) -> int:
                status = await conn.execute(
                    "DELETE FROM message_log WHERE id IN (SELECT id FROM message_log"
                    " WHERE first_at < $1 ORDER BY first_at LIMIT $2)",
                    before,
                    _PURGE_CHUNK,
                )
                return rows_affected(status)

            deleted = await self._db.write_apart(op)
            total += deleted
            if deleted < _PURGE_CHUNK:
                return total
