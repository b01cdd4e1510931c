"""The webhook tables' columns and row mapping, shared by both backends: they differ only in how
a moment and the list of event types are stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.domain.webhooks import Delivery, DeliveryStatus, OutboxEntry, Webhook

__all__ = [
    "GONE_REASON",
    "OUTBOX_COLUMNS",
    "WEBHOOK_COLUMNS",
    "Row",
    "WebhookConversions",
    "delivery_from_row",
    "entry_from_row",
    "webhook_from_row",
]

WEBHOOK_COLUMNS = "id, url, events, enabled, description, created_at, secret"
OUTBOX_COLUMNS = (
    "id, webhook_id, event_id, type, charge_point_id, body, created_at, attempts, next_attempt_at"
)
GONE_REASON = "the receiver answered 410 Gone: the webhook was disabled"


class Row(Protocol):
    """A row read by name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class WebhookConversions:
    time: Callable[[Any], datetime]
    events: Callable[[Any], tuple[str, ...]]


def webhook_from_row(row: Row, convert: WebhookConversions) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        events=convert.events(row["events"]),
        enabled=bool(row["enabled"]),
        description=row["description"],
        created_at=convert.time(row["created_at"]),
        secret=row["secret"],
    )


def entry_from_row(row: Row, convert: WebhookConversions) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        type=row["type"],
        charge_point_id=row["charge_point_id"],
        body=row["body"],
        created_at=convert.time(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=convert.time(row["next_attempt_at"]),
    )


def delivery_from_row(row: Row, convert: WebhookConversions) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        type=row["type"],
        attempt=row["attempt"],
        status=DeliveryStatus(row["status"]),
        response_code=row["response_code"],
        error=row["error"],
        at=convert.time(row["at"]),
    )
