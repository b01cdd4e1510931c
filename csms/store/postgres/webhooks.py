"""Webhook subscriptions, their outbox and the log of delivery attempts (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import takewhile

import asyncpg

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
from csms.store.postgres.database import PostgresDatabase, rows_affected
from csms.store.postgres.outbox import insert_event
from csms.store.webhook_rows import (
    GONE_REASON,
    OUTBOX_COLUMNS,
    WEBHOOK_COLUMNS,
    WebhookConversions,
    delivery_from_row,
    entry_from_row,
    webhook_from_row,
)

__all__ = ["PostgresWebhooks", "insert_event", "insert_outbox"]

_COLUMNS, _OUTBOX = WEBHOOK_COLUMNS, OUTBOX_COLUMNS


_CONVERT = WebhookConversions(time=lambda moment: moment, events=tuple)


def _webhook(row: asyncpg.Record) -> Webhook:
    return webhook_from_row(row, _CONVERT)


def _entry(row: asyncpg.Record) -> OutboxEntry:
    return entry_from_row(row, _CONVERT)


def _delivery(row: asyncpg.Record) -> Delivery:
    return delivery_from_row(row, _CONVERT)


async def insert_outbox(conn: asyncpg.Connection, rows: Sequence[OutboxRow]) -> None:
    """Inside the write that causes the events: their outbox rows, pending and due at once.
    After that write commits, tell the delivery worker (WebhookService.notify)."""
    if not rows:
        return
    # unnest keeps the input's order, so ids follow the order the rows were given in.
    await conn.execute(
        "INSERT INTO webhook_outbox (webhook_id, event_id, type, charge_point_id, body,"
        " created_at, next_attempt_at)"
        " SELECT w, e, t, c, b, at, at FROM unnest($1::text[], $2::text[], $3::text[],"
        " $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY AS r (w, e, t, c, b, at, n)"
        " ORDER BY n ON CONFLICT (webhook_id, event_id) DO NOTHING",
        [row.webhook_id for row in rows],
        [row.event_id for row in rows],
        [row.type for row in rows],
        [row.charge_point_id for row in rows],
        [row.body for row in rows],
        [row.created_at for row in rows],
    )


class PostgresWebhooks:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_webhook(self, webhook: Webhook) -> Webhook:
        async def op(conn: asyncpg.Connection) -> Webhook:
            row = await conn.fetchrow(
                f"INSERT INTO webhooks ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                f" RETURNING {_COLUMNS}",
                webhook.id,
                webhook.url,
                list(webhook.events),
                webhook.enabled,
                webhook.description,
                webhook.created_at,
                webhook.secret,
            )
            return _webhook(row)

        return await self._db.write(op)

    async def get_webhook(self, webhook_id: str) -> Webhook | None:
        async def read(conn: asyncpg.Connection) -> Webhook | None:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webhooks WHERE id = $1", webhook_id)
            return None if row is None else _webhook(row)

        return await self._db.read(read)

    async def list_webhooks(self, page: Page[str]) -> Paged[Webhook]:
        async def read(conn: asyncpg.Connection) -> Paged[Webhook]:
            # COLLATE "C": ids are compared byte by byte, as SQLite does, so both page alike.
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM webhooks"
                ' WHERE ($1::text IS NULL OR id COLLATE "C" > $1)'
                ' ORDER BY id COLLATE "C" LIMIT $2',
                page.starting_after,
                page.fetch,
            )
            return paged([_webhook(row) for row in rows], page)

        return await self._db.read(read)

    async def update_webhook(self, webhook_id: str, changes: WebhookChanges) -> Webhook:
        sets: list[str] = []
        values: list[object] = []

        def assign(column: str, value: object) -> None:
            values.append(value)
            sets.append(f"{column} = ${len(values) + 1}")

        if not isinstance(changes.url, Unset):
            assign("url", changes.url)
        if not isinstance(changes.events, Unset):
            assign("events", list(changes.events))
        if not isinstance(changes.enabled, Unset):
            assign("enabled", changes.enabled)
        if not isinstance(changes.description, Unset):
            assign("description", changes.description)
        if not isinstance(changes.secret, Unset):
            assign("secret", changes.secret)
        # An empty change still answers the record (or NotFound).
        assignments = ", ".join(sets) or "id = id"

        async def op(conn: asyncpg.Connection) -> Webhook:
            row = await conn.fetchrow(
                f"UPDATE webhooks SET {assignments} WHERE id = $1 RETURNING {_COLUMNS}",
                webhook_id,
                *values,
            )
            if row is None:
                raise NotFound(f"webhook {webhook_id!r} not found")
            return _webhook(row)

        return await self._db.write(op)

    async def delete_webhook(self, webhook_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            status = await conn.execute("DELETE FROM webhooks WHERE id = $1", webhook_id)
            if rows_affected(status) == 0:
                raise NotFound(f"webhook {webhook_id!r} not found")

        await self._db.write(op)

    async def enqueue(self, rows: Sequence[OutboxRow]) -> None:
        if not rows:
            return

        async def op(conn: asyncpg.Connection) -> None:
            await insert_outbox(conn, rows)

        await self._db.write(op)

    async def record_events(self, events: DeclaredEvents[None]) -> None:
        async def nothing_else(conn: asyncpg.Connection) -> None:
            return None

        await self._db.write(nothing_else, events=events)

    async def due(self, webhook_id: str, now: datetime, limit: int) -> list[OutboxEntry]:
        async def read(conn: asyncpg.Connection) -> list[OutboxEntry]:
            # The head rows in id order (one range of the pending index), cut in Python at the
            # first not yet due: a bounded read, however long the backlog behind the head.
            rows = await conn.fetch(
                f"SELECT {_OUTBOX} FROM webhook_outbox WHERE webhook_id = $1"
                " AND state = 'pending' ORDER BY id LIMIT $2",
                webhook_id,
                limit,
            )
            return list(takewhile(lambda e: e.next_attempt_at <= now, map(_entry, rows)))

        return await self._db.read(read)

    async def next_due(self, webhook_id: str) -> datetime | None:
        async def read(conn: asyncpg.Connection) -> datetime | None:
            moment: datetime | None = await conn.fetchval(
                "SELECT next_attempt_at FROM webhook_outbox WHERE webhook_id = $1"
                " AND state = 'pending' ORDER BY id LIMIT 1",
                webhook_id,
            )
            return moment

        return await self._db.read(read)

    async def record_attempt(self, attempt: Attempt) -> None:
        state = {
            DeliveryStatus.DELIVERED: OutboxState.DELIVERED,
            DeliveryStatus.FAILED: OutboxState.FAILED,
            DeliveryStatus.RETRYING: OutboxState.PENDING,
        }[attempt.status]

        async def op(conn: asyncpg.Connection) -> None:
            status = await conn.execute(
                "UPDATE webhook_outbox SET state = $1, attempts = $2, next_attempt_at = $3,"
                " last_error = $4 WHERE id = $5 AND webhook_id = $6",
                state.value,
                attempt.attempt,
                attempt.next_attempt_at or attempt.at,
                attempt.error,
                attempt.outbox_id,
                attempt.webhook_id,
            )
            if rows_affected(status) == 0:
                return
            await conn.execute(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, type, attempt, status,"
                " response_code, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                attempt.webhook_id,
                attempt.event_id,
                attempt.type,
                attempt.attempt,
                attempt.status.value,
                attempt.response_code,
                attempt.error,
                attempt.at,
            )
            if attempt.disable:
                await conn.execute(
                    "UPDATE webhooks SET enabled = false WHERE id = $1", attempt.webhook_id
                )
                await conn.execute(
                    "UPDATE webhook_outbox SET state = 'failed', last_error = $2"
                    " WHERE webhook_id = $1 AND state = 'pending'",
                    attempt.webhook_id,
                    GONE_REASON,
                )

        await self._db.write(op)

    async def list_deliveries(self, webhook_id: str, page: Page[int]) -> Paged[Delivery]:
        async def read(conn: asyncpg.Connection) -> Paged[Delivery]:
            rows = await conn.fetch(
                "SELECT id, event_id, type, attempt, status, response_code, error, at"
                " FROM webhook_deliveries WHERE webhook_id = $1"
                " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                webhook_id,
                page.starting_after,
                page.fetch,
            )
            return paged([_delivery(row) for row in rows], page)

        return await self._db.read(read)

    async def pending_webhooks(self) -> list[str]:
        async def read(conn: asyncpg.Connection) -> list[str]:
            rows = await conn.fetch(
                "SELECT w.id FROM webhooks w WHERE w.enabled AND EXISTS (SELECT 1 FROM"
                " webhook_outbox o WHERE o.webhook_id = w.id AND o.state = 'pending')"
                ' ORDER BY w.id COLLATE "C"'
            )
            return [row["id"] for row in rows]

        return await self._db.read(read)

    async def purge(self, outbox_before: datetime, deliveries_before: datetime) -> int:
        async def op(conn: asyncpg.Connection) -> int:
            outbox = await conn.execute(
                "DELETE FROM webhook_outbox WHERE state <> 'pending' AND created_at < $1",
                outbox_before,
            )
            deliveries = await conn.execute(
                "DELETE FROM webhook_deliveries WHERE at < $1", deliveries_before
            )
            return rows_affected(outbox) + rows_affected(deliveries)

        return await self._db.write(op)
