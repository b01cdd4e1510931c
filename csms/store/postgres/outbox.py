"""The webhooks' outbox inside a write (PostgreSQL): see csms.store.outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg

from csms.store.outbox import DeclaredEvents

__all__ = ["WithEvents", "insert_event"]

T = TypeVar("T")


async def insert_event(
    conn: asyncpg.Connection,
    event_id: str,
    type_: str,
    charge_point_id: str | None,
    body: str,
    at: datetime,
) -> list[str]:
    """Inside the write that causes the event: one outbox row for every enabled subscription
    that wants it, chosen in the same transaction (so none is missed or stale); the ids of those
    subscriptions, to ``notify`` once the write has committed."""
    rows = await conn.fetch(
        "INSERT INTO webhook_outbox (webhook_id, event_id, type, charge_point_id, body,"
        " created_at, next_attempt_at)"
        " SELECT id, $1, $2, $3, $4, $5, $5 FROM webhooks"
        " WHERE enabled AND events && ARRAY['*', $2]::text[] ORDER BY id"
        " ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING webhook_id",
        event_id,
        type_,
        charge_point_id,
        body,
        at,
    )
    return sorted(row["webhook_id"] for row in rows)


class WithEvents(Generic[T]):
    """A write and the events it causes: the write, then in the same transaction the events'
    outbox rows. The database runs a combined write (csms.store.postgres.database.CombinedWrite)
    with the others of its kind and then calls ``write_events`` with its result."""

    __slots__ = ("events", "op")

    def __init__(
        self, op: Callable[[asyncpg.Connection], Awaitable[T]], events: DeclaredEvents[T]
    ) -> None:
        self.op = op
        self.events = events

    async def __call__(self, conn: asyncpg.Connection) -> T:
        result = await self.op(conn)
        await self.write_events(conn, result)
        return result

    async def write_events(self, conn: asyncpg.Connection, result: Any) -> None:
        webhook_ids: list[str] = []
        for event in self.events.outbox_events(result):
            webhook_ids += await insert_event(
                conn, event.event_id, event.type, event.charge_point_id, event.body, event.at
            )
        self.events.inserted(webhook_ids)
