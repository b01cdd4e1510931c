"""The webhooks' store contract (subscriptions, outbox, attempts log), on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
import orjson
import pytest

from csms.domain.errors import NotFound
from csms.domain.events import CausedEvent
from csms.domain.models import MeterSample
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
from csms.store.cluster_repositories import Recorded
from csms.store.outbox import DeclaredEvents, EventsOf
from csms.store.postgres import PostgresStore
from csms.store.postgres.webhooks import insert_event as pg_insert_event
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.webhooks import insert_event as sqlite_insert_event
from tests.store.conftest import NOW, add_charge_point

T = TypeVar("T")


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


# --- events declared with a change: written in its commit ---------------------------------------


def _declared(
    events_of: EventsOf[T], wanted: Callable[[str], bool] = lambda _: True
) -> DeclaredEvents[T]:
    return DeclaredEvents(events_of, NOW, wanted)


def _bodies(entries: list[OutboxEntry]) -> list[dict[str, Any]]:
    return [orjson.loads(entry.body) for entry in entries]


async def test_a_change_writes_its_events_in_its_commit(store: Store) -> None:
    await store.webhooks.add_webhook(_hook("wh_all"))
    await store.webhooks.add_webhook(_hook("wh_status", ("connector.status",)))
    await add_charge_point(store, "CP1")

    def connected(_: Recorded) -> list[CausedEvent]:
        return [CausedEvent("charger.connected", "CP1", {"ocppVersion": "2.0.1"})]

    declared = _declared(connected)
    await store.chargers.record_connection(
        "CP1", ocpp_version="2.0.1", connected=True, at=NOW, events=declared
    )
    assert declared.written and declared.webhook_ids == ["wh_all"]
    assert [e.type for e in declared.events] == ["charger.connected"]
    [body] = _bodies(await store.webhooks.due("wh_all", NOW, 10))
    assert body == {
        "id": body["id"],
        "type": "charger.connected",
        "timestamp": "2026-03-01T12:00:00.000Z",
        "data": {"chargePointId": "CP1", "ocppVersion": "2.0.1"},
    }
    assert body["id"].startswith("evt_")
    assert await store.webhooks.due("wh_status", NOW, 10) == []


async def test_events_come_from_the_write_result_and_a_replay_causes_none(store: Store) -> None:
    """Meter values (on PostgreSQL a write combined with the others of its batch): the event
    carries the rendered samples; the same samples again store nothing and cause no event."""
    await store.webhooks.add_webhook(_hook("wh_all"))
    await add_charge_point(store, "CP1")
    samples = [MeterSample(NOW, "1234.5")]

    def meter_values(added: int) -> list[CausedEvent]:
        data = {"evseId": 1, "samples": tuple(samples)}
        return [CausedEvent("meter.values", "CP1", data)] if added else []

    first, replay = _declared(meter_values), _declared(meter_values)
    for declared in (first, replay):
        await store.transactions.add_meter_values("CP1", 1, 1, None, samples, events=declared)
    assert first.webhook_ids == ["wh_all"] and replay.written and replay.webhook_ids == []
    [body] = _bodies(await store.webhooks.due("wh_all", NOW, 10))
    assert body["data"]["samples"] == [
        {
            "timestamp": "2026-03-01T12:00:00.000Z",
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "Wh",
            "value": "1234.5",
            "context": "Sample.Periodic",
        }
    ]


async def test_a_failed_change_leaves_no_event_and_its_neighbours_keep_theirs(
    store: Store,
) -> None:
    await store.webhooks.add_webhook(_hook("wh_all"))
    await add_charge_point(store, "CP1")

    def deleted(cp_id: str) -> EventsOf[None]:
        return lambda _: [CausedEvent("charger.deleted", cp_id, {})]

    failing, fine = _declared(deleted("NOPE")), _declared(deleted("CP1"))
    outcomes = await asyncio.gather(
        store.chargers.delete_charge_point("NOPE", events=failing),
        store.chargers.delete_charge_point("CP1", events=fine),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], NotFound) and outcomes[1] is None
    assert not failing.written and fine.webhook_ids == ["wh_all"]
    assert [
        b["data"]["chargePointId"] for b in _bodies(await store.webhooks.due("wh_all", NOW, 10))
    ] == ["CP1"]


async def test_only_wanted_types_are_written_and_events_of_their_own(store: Store) -> None:
    await store.webhooks.add_webhook(_hook("wh_lm", ("loadmanagement.allocated",)))
    allocated = CausedEvent("loadmanagement.allocated", None, {"limits": {"k": 16.0}})
    unwanted = CausedEvent("meter.values", None, {})
    asked: list[str] = []

    def wanted(type_: str) -> bool:
        asked.append(type_)
        return type_ != "meter.values"

    declared: DeclaredEvents[None] = _declared(lambda _: [allocated, unwanted], wanted)
    await store.webhooks.record_events(declared)
    assert declared.webhook_ids == ["wh_lm"] and asked == [
        "loadmanagement.allocated",
        "meter.values",
    ]
    [body] = _bodies(await store.webhooks.due("wh_lm", NOW, 10))
    assert (body["type"], body["data"]) == (
        "loadmanagement.allocated",
        {"chargePointId": None, "limits": {"k": 16.0}},
    )
