"""The webhooks' repository: subscriptions, the outbox and the log of attempts. Part of the store
interface (csms.store.repositories re-exports it and holds the ``Store``).

A change that causes an event writes its outbox rows in its own commit (csms.store.outbox: the
store methods' ``events``); ``record_events`` is that for events without a change of their own, and
``enqueue`` inserts rows built beforehand (csms.domain.webhooks.outbox_rows). After the commit,
the writer wakes the delivery worker of each subscription written to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from csms.domain.paging import Page, Paged
from csms.domain.webhooks import Attempt, Delivery, OutboxEntry, OutboxRow, Webhook, WebhookChanges
from csms.store.outbox import DeclaredEvents

__all__ = ["WebhookStore"]


class WebhookStore(Protocol):
    async def add_webhook(self, webhook: Webhook) -> Webhook: ...
    async def get_webhook(self, webhook_id: str) -> Webhook | None: ...
    async def list_webhooks(self, page: Page[str]) -> Paged[Webhook]:
        """In id order."""
        ...

    async def update_webhook(self, webhook_id: str, changes: WebhookChanges) -> Webhook:
        """NotFound when it does not exist."""
        ...

    async def delete_webhook(self, webhook_id: str) -> None:
        """NotFound when it does not exist; its outbox rows and deliveries go with it."""
        ...

    async def enqueue(self, rows: Sequence[OutboxRow]) -> None:
        """Insert outbox rows (pending, due at once); a row already there for the same
        subscription and event is left as it is."""
        ...

    async def record_events(self, events: DeclaredEvents[None]) -> None:
        """Write events that no stored change causes, in a commit of their own."""
        ...

    async def due(self, webhook_id: str, now: datetime, limit: int) -> list[OutboxEntry]:
        """The subscription's next pending rows in id order whose time has come, stopping before
        the first pending row that is not yet due: nothing overtakes a row waiting to be retried."""
        ...

    async def next_due(self, webhook_id: str) -> datetime | None:
        """When the subscription's first pending row is due; None when none is pending."""
        ...

    async def record_attempt(self, attempt: Attempt) -> None:
        """In one commit: the row's state, attempts and next attempt; the delivery log's entry;
        with ``attempt.disable``, the subscription disabled and its other pending rows failed.
        Nothing happens when the row is gone (its subscription was deleted meanwhile)."""
        ...

    async def list_deliveries(self, webhook_id: str, page: Page[int]) -> Paged[Delivery]:
        """Newest first; the cursor is a delivery's id."""
        ...

    async def pending_webhooks(self) -> list[str]:
        """The enabled subscriptions that have pending rows, in id order."""
        ...

    async def purge(self, outbox_before: datetime, deliveries_before: datetime) -> int:
        """Delete delivered and failed outbox rows created before ``outbox_before`` and
        deliveries logged before ``deliveries_before``; how many rows went."""
        ...
