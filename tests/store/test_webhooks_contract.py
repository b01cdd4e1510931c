"""The webhooks' store contract (subscriptions, outbox, attempts log), on both backends."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import asyncpg
import pytest

from csms.domain.errors import NotFound
from csms.domain.paging import Page
from csms.domain.webhooks import (
    Attempt,
    DeliveryStatus,
    OutboxEntry,
    OutboxRow,
    Webhook,
    WebhookChanges,
    event_body,
    new_secret,
)
from csms.store.postgres import PostgresStore
from csms.store.postgres.webhooks import insert_event as pg_insert_event
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.webhooks import insert_event as sqlite_insert_event
from tests.store.conftest import NOW


def _hook(hook_id: str, events: tuple[str, ...] = ("*",)) -> Webhook:
    return Webhook(hook_id, f"https://example.com/{hook_id}", events, True, None, NOW, new_secret())


def _row(hook_id: str, n: int, minutes: int = 0) -> OutboxRow:
    at = NOW + timedelta(minutes=minutes)
    body = event_body(f"evt_{n}", "meter.values", at, {"n": n})
    return OutboxRow(hook_id, f"evt_{n}", "meter.values", "CP1" if n % 2 else None, body, at)


def _attempt(
    entry: OutboxEntry,
    status: DeliveryStatus,
    *,
    code: int | None,
    minutes: int,
    retry_in: int | None = None,
    disable: bool = False,
) -> Attempt:
    at = NOW + timedelta(minutes=minutes)
    return Attempt(
        outbox_id=entry.id,
        webhook_id=entry.webhook_id,
        event_id=entry.event_id,
        type=entry.type,
        attempt=entry.attempts + 1,
        status=status,
        response_code=code,
        error=None if code is not None and code < 300 else f"HTTP {code}",
        at=at,
        next_attempt_at=None if retry_in is None else at + timedelta(minutes=retry_in),
        disable=disable,
    )


async def test_subscription_crud(store: Store) -> None:
    hooks = store.webhooks
    given = _hook("wh_a", ("transaction.ended", "alert.triggered"))
    first = await hooks.add_webhook(given)
    assert first == given
    await hooks.add_webhook(_hook("wh_b"))
    assert await hooks.get_webhook("wh_a") == first
    assert await hooks.get_webhook("wh_zz") is None
    page = await hooks.list_webhooks(Page(1))
    assert [h.id for h in page.items] == ["wh_a"] and page.has_more
    page = await hooks.list_webhooks(Page(5, "wh_a"))
    assert [h.id for h in page.items] == ["wh_b"] and not page.has_more

    changed = await hooks.update_webhook(
        "wh_a",
        WebhookChanges(url="http://10.1.1.1/x", events=("*",), enabled=False, description="d"),
    )
    assert (changed.url, changed.events, changed.enabled, changed.description) == (
        "http://10.1.1.1/x",
        ("*",),
        False,
        "d",
    )
    assert changed.secret == first.secret
    rotated = await hooks.update_webhook("wh_a", WebhookChanges(secret="whsec_AAAA"))
    assert rotated.secret == "whsec_AAAA" and rotated.description == "d"
    cleared = await hooks.update_webhook("wh_a", WebhookChanges(description=None))
    assert cleared.description is None
    assert await hooks.update_webhook("wh_a", WebhookChanges()) == cleared
    with pytest.raises(NotFound):
        await hooks.update_webhook("wh_zz", WebhookChanges(enabled=True))
    await hooks.delete_webhook("wh_a")
    with pytest.raises(NotFound):
        await hooks.delete_webhook("wh_a")
    assert [h.id for h in (await hooks.list_webhooks(Page())).items] == ["wh_b"]


async def test_outbox_order_head_of_line_and_attempts(store: Store) -> None:
    hooks = store.webhooks
    await hooks.add_webhook(_hook("wh_a"))
    await hooks.add_webhook(_hook("wh_b"))
    await hooks.enqueue([_row("wh_a", 1), _row("wh_b", 1), _row("wh_a", 2), _row("wh_a", 3)])
    await hooks.enqueue([_row("wh_a", 1)])  # the same event again: no second row
    assert await hooks.pending_webhooks() == ["wh_a", "wh_b"]

    due = await hooks.due("wh_a", NOW, 10)
    assert [e.event_id for e in due] == ["evt_1", "evt_2", "evt_3"]
    assert due[0].id < due[1].id < due[2].id and due[0].attempts == 0
    assert due[0].charge_point_id == "CP1" and due[1].charge_point_id is None
    assert due[0].body == _row("wh_a", 1).body and due[0].next_attempt_at == NOW
    assert [e.event_id for e in await hooks.due("wh_a", NOW, 2)] == ["evt_1", "evt_2"]
    assert await hooks.due("wh_a", NOW - timedelta(seconds=1), 10) == []

    # The head fails and waits 5 minutes: nothing behind it is due meanwhile.
    await hooks.record_attempt(
        _attempt(due[0], DeliveryStatus.RETRYING, code=500, minutes=0, retry_in=5)
    )
    assert await hooks.due("wh_a", NOW + timedelta(minutes=1), 10) == []
    assert await hooks.next_due("wh_a") == NOW + timedelta(minutes=5)
    again = await hooks.due("wh_a", NOW + timedelta(minutes=5), 10)
    assert [(e.event_id, e.attempts) for e in again] == [("evt_1", 1), ("evt_2", 0), ("evt_3", 0)]
    await hooks.record_attempt(_attempt(again[0], DeliveryStatus.DELIVERED, code=200, minutes=5))
    await hooks.record_attempt(_attempt(again[1], DeliveryStatus.FAILED, code=400, minutes=6))
    assert [e.event_id for e in await hooks.due("wh_a", NOW + timedelta(minutes=6), 10)] == [
        "evt_3"
    ]

    log = await hooks.list_deliveries("wh_a", Page(2))
    assert [(d.event_id, d.attempt, d.status, d.response_code) for d in log.items] == [
        ("evt_2", 1, DeliveryStatus.FAILED, 400),
        ("evt_1", 2, DeliveryStatus.DELIVERED, 200),
    ]
    assert log.has_more and log.items[0].error == "HTTP 400" and log.items[1].error is None
    assert log.items[0].at == NOW + timedelta(minutes=6)
    rest = await hooks.list_deliveries("wh_a", Page(2, log.items[-1].id))
    assert [(d.attempt, d.status) for d in rest.items] == [(1, DeliveryStatus.RETRYING)]
    assert not rest.has_more
    assert (await hooks.list_deliveries("wh_b", Page())).items == []


async def test_gone_disables_and_fails_the_rest(store: Store) -> None:
    hooks = store.webhooks
    await hooks.add_webhook(_hook("wh_a"))
    await hooks.enqueue([_row("wh_a", n) for n in (1, 2, 3)])
    head = (await hooks.due("wh_a", NOW, 1))[0]
    await hooks.record_attempt(
        _attempt(head, DeliveryStatus.FAILED, code=410, minutes=1, disable=True)
    )
    hook = await hooks.get_webhook("wh_a")
    assert hook is not None and not hook.enabled
    assert await hooks.next_due("wh_a") is None
    assert await hooks.pending_webhooks() == []
    assert [d.response_code for d in (await hooks.list_deliveries("wh_a", Page())).items] == [410]


async def test_attempt_on_a_deleted_webhook_is_dropped(store: Store) -> None:
    hooks = store.webhooks
    await hooks.add_webhook(_hook("wh_a"))
    await hooks.enqueue([_row("wh_a", 1)])
    head = (await hooks.due("wh_a", NOW, 1))[0]
    await hooks.delete_webhook("wh_a")
    await hooks.record_attempt(_attempt(head, DeliveryStatus.DELIVERED, code=200, minutes=1))
    assert (await hooks.list_deliveries("wh_a", Page())).items == []
    assert await hooks.pending_webhooks() == []


async def test_purge_keeps_pending_and_recent(store: Store) -> None:
    hooks = store.webhooks
    await hooks.add_webhook(_hook("wh_a"))
    await hooks.enqueue([_row("wh_a", 1), _row("wh_a", 2), _row("wh_a", 3, minutes=60)])
    first, second, third = await hooks.due("wh_a", NOW + timedelta(hours=1), 10)
    await hooks.record_attempt(_attempt(first, DeliveryStatus.DELIVERED, code=200, minutes=1))
    await hooks.record_attempt(_attempt(third, DeliveryStatus.DELIVERED, code=200, minutes=61))
    # Created before the cutoff and done: first; second is still pending, third is recent.
    purged = await hooks.purge(NOW + timedelta(minutes=30), NOW + timedelta(minutes=30))
    assert purged == 2  # the first row and its delivery
    remaining = await hooks.due("wh_a", NOW + timedelta(hours=2), 10)
    assert [e.event_id for e in remaining] == ["evt_2"]
    log = await hooks.list_deliveries("wh_a", Page())
    assert [d.event_id for d in log.items] == ["evt_3"]
    assert second.event_id == "evt_2"


async def test_insert_event_inside_a_write_fans_out_to_who_wants_it(store: Store) -> None:
    hooks = store.webhooks
    await hooks.add_webhook(_hook("wh_all"))
    await hooks.add_webhook(_hook("wh_ended", ("transaction.ended", "alert.triggered")))
    await hooks.add_webhook(_hook("wh_started", ("transaction.started",)))
    await hooks.add_webhook(_hook("wh_off"))
    await hooks.update_webhook("wh_off", WebhookChanges(enabled=False))
    body = event_body("evt_9", "transaction.ended", NOW, {"transactionId": "tx_1"})
    if isinstance(store, SqliteStore):

        def op(conn: sqlite3.Connection) -> list[str]:
            return sqlite_insert_event(conn, "evt_9", "transaction.ended", "CP1", body, NOW)

        written = await store.database.write(op)
        again = await store.database.write(op)
    else:
        assert isinstance(store, PostgresStore)

        async def pg_op(conn: asyncpg.Connection) -> list[str]:
            return await pg_insert_event(conn, "evt_9", "transaction.ended", "CP1", body, NOW)

        written = await store.database.write(pg_op)
        again = await store.database.write(pg_op)
    assert written == ["wh_all", "wh_ended"]
    assert again == []  # the same event twice: no second row
    for hook_id in ("wh_all", "wh_ended"):
        [entry] = await hooks.due(hook_id, NOW, 10)
        assert (entry.event_id, entry.type, entry.charge_point_id, entry.body) == (
            "evt_9",
            "transaction.ended",
            "CP1",
            body,
        )
    assert await hooks.pending_webhooks() == ["wh_all", "wh_ended"]
