"""Webhook subscriptions, their outbox and the log of delivery attempts (SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from itertools import takewhile

import orjson

from csms.domain.clock import format_timestamp
from csms.domain.errors import NotFound
from csms.domain.paging import Page, Paged, paged
from csms.domain.updates import Unset
from csms.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryStatus,
    OutboxEntry,
    OutboxRow,
    OutboxState,
    Webhook,
    WebhookChanges,
)
from csms.store.outbox import DeclaredEvents
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.outbox import insert_event
from csms.store.sqlite.values import dt
from csms.store.webhook_rows import (
    GONE_REASON,
    OUTBOX_COLUMNS,
    WEBHOOK_COLUMNS,
    WebhookConversions,
    delivery_from_row,
    entry_from_row,
    webhook_from_row,
)

__all__ = ["SqliteWebhooks", "insert_event", "insert_outbox"]

_COLUMNS, _OUTBOX = WEBHOOK_COLUMNS, OUTBOX_COLUMNS


def _time(text: str) -> datetime:
    moment = dt(text)
    assert moment is not None
    return moment


_CONVERT = WebhookConversions(time=_time, events=lambda text: tuple(orjson.loads(text)))


def _webhook(row: sqlite3.Row) -> Webhook:
    return webhook_from_row(row, _CONVERT)


def _entry(row: sqlite3.Row) -> OutboxEntry:
    return entry_from_row(row, _CONVERT)


def _delivery(row: sqlite3.Row) -> Delivery:
    return delivery_from_row(row, _CONVERT)


def insert_outbox(conn: sqlite3.Connection, rows: Sequence[OutboxRow]) -> None:
    """Inside the write that causes the events: their outbox rows, pending and due at once.
    After that write commits, tell the delivery worker (WebhookService.notify)."""
    conn.executemany(
        "INSERT INTO webhook_outbox (webhook_id, event_id, type, charge_point_id, body,"
        " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (webhook_id, event_id) DO NOTHING",
        [
            (
                row.webhook_id,
                row.event_id,
                row.type,
                row.charge_point_id,
                row.body,
                format_timestamp(row.created_at),
                format_timestamp(row.created_at),
            )
            for row in rows
        ],
    )


class SqliteWebhooks:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_webhook(self, webhook: Webhook) -> Webhook:
        values = (
            webhook.id,
            webhook.url,
            orjson.dumps(list(webhook.events)).decode(),
            int(webhook.enabled),
            webhook.description,
            format_timestamp(webhook.created_at),
            webhook.secret,
        )

        def op(conn: sqlite3.Connection) -> Webhook:
            row = conn.execute(
                f"INSERT INTO webhooks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                f" RETURNING {_COLUMNS}",
                values,
            ).fetchone()
            return _webhook(row)

        return await self._db.write(op)

    async def get_webhook(self, webhook_id: str) -> Webhook | None:
        def read(conn: sqlite3.Connection) -> Webhook | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,)
            ).fetchone()
            return None if row is None else _webhook(row)

        return await self._db.read(read)

    async def list_webhooks(self, page: Page[str]) -> Paged[Webhook]:
        def read(conn: sqlite3.Connection) -> Paged[Webhook]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
                (page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([_webhook(row) for row in rows], page)

        return await self._db.read(read)

    async def update_webhook(self, webhook_id: str, changes: WebhookChanges) -> Webhook:
        sets: list[str] = []
        values: list[object] = []
        if not isinstance(changes.url, Unset):
            sets.append("url = ?")
            values.append(changes.url)
        if not isinstance(changes.events, Unset):
            sets.append("events = ?")
            values.append(orjson.dumps(list(changes.events)).decode())
        if not isinstance(changes.enabled, Unset):
            sets.append("enabled = ?")
            values.append(int(changes.enabled))
        if not isinstance(changes.description, Unset):
            sets.append("description = ?")
            values.append(changes.description)
        if not isinstance(changes.secret, Unset):
            sets.append("secret = ?")
            values.append(changes.secret)
        # An empty change still answers the record (or NotFound).
        assignments = ", ".join(sets) or "id = id"

        def op(conn: sqlite3.Connection) -> Webhook:
            row = conn.execute(
                f"UPDATE webhooks SET {assignments} WHERE id = ? RETURNING {_COLUMNS}",
                (*values, webhook_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"webhook {webhook_id!r} not found")
            return _webhook(row)

        return await self._db.write(op)

    async def delete_webhook(self, webhook_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount == 0:
                raise NotFound(f"webhook {webhook_id!r} not found")

        await self._db.write(op)

    async def enqueue(self, rows: Sequence[OutboxRow]) -> None:
        if not rows:
            return

        def op(conn: sqlite3.Connection) -> None:
            insert_outbox(conn, rows)

        await self._db.write(op)

    async def record_events(self, events: DeclaredEvents[None]) -> None:
        def nothing_else(conn: sqlite3.Connection) -> None:
            return None

        await self._db.write(nothing_else, events=events)

    async def due(self, webhook_id: str, now: datetime, limit: int) -> list[OutboxEntry]:
        def read(conn: sqlite3.Connection) -> list[OutboxEntry]:
            # The head rows in id order (one range of the pending index), cut in Python at the
            # first not yet due: a bounded read, however long the backlog behind the head.
            rows = conn.execute(
                f"SELECT {_OUTBOX} FROM webhook_outbox WHERE webhook_id = ? AND state = 'pending'"
                " ORDER BY id LIMIT ?",
                (webhook_id, limit),
            ).fetchall()
            return list(takewhile(lambda e: e.next_attempt_at <= now, map(_entry, rows)))

        return await self._db.read(read)

    async def next_due(self, webhook_id: str) -> datetime | None:
        def read(conn: sqlite3.Connection) -> datetime | None:
            row = conn.execute(
                "SELECT next_attempt_at FROM webhook_outbox WHERE webhook_id = ?"
                " AND state = 'pending' ORDER BY id LIMIT 1",
                (webhook_id,),
            ).fetchone()
            return None if row is None else _time(row[0])

        return await self._db.read(read)

    async def record_attempt(self, attempt: Attempt) -> None:
        state = {
            DeliveryStatus.DELIVERED: OutboxState.DELIVERED,
            DeliveryStatus.FAILED: OutboxState.FAILED,
            DeliveryStatus.RETRYING: OutboxState.PENDING,
        }[attempt.status]
        at = format_timestamp(attempt.at)
        next_at = format_timestamp(attempt.next_attempt_at or attempt.at)

        def op(conn: sqlite3.Connection) -> None:
            updated = conn.execute(
                "UPDATE webhook_outbox SET state = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ? WHERE id = ? AND webhook_id = ?",
                (
                    state.value,
                    attempt.attempt,
                    next_at,
                    attempt.error,
                    attempt.outbox_id,
                    attempt.webhook_id,
                ),
            ).rowcount
            if updated == 0:
                return
            conn.execute(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, type, attempt, status,"
                " response_code, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attempt.webhook_id,
                    attempt.event_id,
                    attempt.type,
                    attempt.attempt,
                    attempt.status.value,
                    attempt.response_code,
                    attempt.error,
                    at,
                ),
            )
            if attempt.disable:
                conn.execute("UPDATE webhooks SET enabled = 0 WHERE id = ?", (attempt.webhook_id,))
                conn.execute(
                    "UPDATE webhook_outbox SET state = 'failed', last_error = ?"
                    " WHERE webhook_id = ? AND state = 'pending'",
                    (GONE_REASON, attempt.webhook_id),
                )

        await self._db.write(op)

    async def list_deliveries(self, webhook_id: str, page: Page[int]) -> Paged[Delivery]:
        def read(conn: sqlite3.Connection) -> Paged[Delivery]:
            rows = conn.execute(
                "SELECT id, event_id, type, attempt, status, response_code, error, at"
                " FROM webhook_deliveries WHERE webhook_id = ? AND (? IS NULL OR id < ?)"
                " ORDER BY id DESC LIMIT ?",
                (webhook_id, page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([_delivery(row) for row in rows], page)

        return await self._db.read(read)

    async def pending_webhooks(self) -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT w.id FROM webhooks w WHERE w.enabled AND EXISTS (SELECT 1 FROM"
                " webhook_outbox o WHERE o.webhook_id = w.id AND o.state = 'pending')"
                " ORDER BY w.id"
            ).fetchall()
            return [row[0] for row in rows]

        return await self._db.read(read)

    async def purge(self, outbox_before: datetime, deliveries_before: datetime) -> int:
        outbox_stamp = format_timestamp(outbox_before)
        deliveries_stamp = format_timestamp(deliveries_before)

        def op(conn: sqlite3.Connection) -> int:
            outbox = conn.execute(
                "DELETE FROM webhook_outbox WHERE state <> 'pending' AND created_at < ?",
                (outbox_stamp,),
            ).rowcount
            deliveries = conn.execute(
                "DELETE FROM webhook_deliveries WHERE at < ?", (deliveries_stamp,)
            ).rowcount
            return int(outbox + deliveries)

        return await self._db.write(op)
