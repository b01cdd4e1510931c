"""The webhooks' outbox inside a write (SQLite): see csms.store.outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from csms.domain.clock import format_timestamp
from csms.store.outbox import DeclaredEvents

__all__ = ["insert_event", "with_events"]

T = TypeVar("T")


def insert_event(
    conn: sqlite3.Connection,
    event_id: str,
    type_: str,
    charge_point_id: str | None,
    body: str,
    at: datetime,
) -> list[str]:
    """Inside the write that causes the event: one outbox row for every enabled subscription
    that wants it, chosen in the same transaction (so none is missed or stale); the ids of those
    subscriptions, to ``notify`` once the write has committed."""
    stamp = format_timestamp(at)
    rows = conn.execute(
        "INSERT INTO webhook_outbox (webhook_id, event_id, type, charge_point_id, body,"
        " created_at, next_attempt_at)"
        " SELECT id, ?1, ?2, ?3, ?4, ?5, ?5 FROM webhooks WHERE enabled AND EXISTS"
        " (SELECT 1 FROM json_each(webhooks.events) WHERE value IN ('*', ?2)) ORDER BY id"
        " ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING webhook_id",
        (event_id, type_, charge_point_id, body, stamp),
    ).fetchall()
    return sorted(row[0] for row in rows)


def with_events(
    op: Callable[[sqlite3.Connection], T], events: DeclaredEvents[T]
) -> Callable[[sqlite3.Connection], T]:
    """``op``, then in the same transaction the outbox rows of the events it caused."""

    def run(conn: sqlite3.Connection) -> T:
        result = op(conn)
        webhook_ids: list[str] = []
        for event in events.outbox_events(result):
            webhook_ids += insert_event(
                conn, event.event_id, event.type, event.charge_point_id, event.body, event.at
            )
        events.inserted(webhook_ids)
        return result

    return run
