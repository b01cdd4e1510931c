"""Webhook delivery end to end: outbox rows in a real store, POSTed by the real worker over
loopback to tiny HTTP/1.1 receivers (asyncio.start_server) that answer as each test scripts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from csms.domain.clock import system_clock
from csms.domain.paging import Page, Paged
from csms.domain.webhooks import (
    Delivery,
    OutboxRow,
    RetryPolicy,
    Webhook,
    event_body,
    new_event_id,
    new_secret,
)
from csms.services.webhooks import WebhookService
from csms.store.sqlite import SqliteStore
from tests.conftest import make_settings, start_csms, stop_csms
from tests.webhook_receiver import WAIT, Receiver, check_signatures


@dataclass
class Rig:
    store: SqliteStore
    service: WebhookService
    receivers: list[Receiver]
    servers: list[asyncio.Server]

    async def receiver(self, *script: int | None) -> Receiver:
        receiver = Receiver(list(script))
        server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
        receiver.port = server.sockets[0].getsockname()[1]
        self.receivers.append(receiver)
        self.servers.append(server)
        return receiver

    async def subscribe(self, receiver: Receiver) -> Webhook:
        return await self.service.create(receiver.url, ["*"], None)

    async def enqueue(self, hook: Webhook, count: int) -> list[str]:
        """``count`` events for ``hook``, committed, then the worker told (as a writer will)."""
        ids = [new_event_id() for _ in range(count)]
        now = system_clock()
        rows = [
            OutboxRow(hook.id, event_id, "meter.values", "CP1", body, now)
            for n, event_id in enumerate(ids)
            for body in [event_body(event_id, "meter.values", now, {"n": n})]
        ]
        await self.store.webhooks.enqueue(rows)
        self.service.notify(hook.id)
        return ids

    async def deliveries(self, hook: Webhook, count: int) -> list[Delivery]:
        return await attempts_log(self.store.webhooks.list_deliveries, hook.id, count)


async def attempts_log(
    read: Callable[[str, Page[int]], Awaitable[Paged[Delivery]]], hook_id: str, count: int
) -> list[Delivery]:
    """The attempts log, oldest first, once it holds ``count`` entries (a bounded wait: the
    attempt is recorded just after the receiver answered)."""
    deadline = time.monotonic() + WAIT
    while True:
        log = (await read(hook_id, Page(1000))).items
        if len(log) >= count or time.monotonic() > deadline:
            return log[::-1]
        await asyncio.sleep(0.01)


Factory = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Factory]:
    made: list[Rig] = []

    async def make(request_timeout: float = 5.0) -> Rig:
        store = SqliteStore(tmp_path / f"hooks{len(made)}.db")
        await store.open()
        service = WebhookService(
            store.webhooks,
            system_clock,  # real time: standardwebhooks checks the timestamp against it
            policy=RetryPolicy(retry_for=timedelta(seconds=60), first_delay=0.05, max_delay=0.2),
            request_timeout=request_timeout,
            outbox_retention=timedelta(days=7),
            rand=lambda: 0.5,
        )
        made.append(Rig(store, service, [], []))
        return made[-1]

    yield make
    for made_rig in made:
        await made_rig.service.stop()
        for receiver in made_rig.receivers:
            receiver.release.set()
        for server in made_rig.servers:
            server.close()
            await server.wait_closed()
        await made_rig.store.close()


async def test_rows_go_out_in_order_and_signed(rig: Factory) -> None:
    r = await rig()
    receiver = await r.receiver(204)
    hook = await r.subscribe(receiver)
    ids = await r.enqueue(hook, 5)
    ids += await r.enqueue(hook, 3)  # a second commit while the first is under way
    await receiver.wait_for(8)
    assert [request.event_id for request in receiver.requests] == ids
    for request in receiver.requests:
        check_signatures(hook.secret, request)
        assert orjson.loads(request.body)["type"] == "meter.values"
    log = await r.deliveries(hook, 8)
    assert [(d.event_id, d.attempt, d.status.value, d.response_code) for d in log] == [
        (event_id, 1, "delivered", 204) for event_id in ids
    ]
    assert await r.store.webhooks.pending_webhooks() == []


async def test_500_twice_then_200_is_retried_in_order(rig: Factory) -> None:
    r = await rig()
    receiver = await r.receiver(500, 500, 200)
    hook = await r.subscribe(receiver)
    first, second = await r.enqueue(hook, 2)
    await receiver.wait_for(4)
    # The second event waited for the first to be delivered (head of line).
    assert [request.event_id for request in receiver.requests] == [first, first, first, second]
    for request in receiver.requests:
        check_signatures(hook.secret, request)
    log = await r.deliveries(hook, 4)
    assert [(d.event_id, d.attempt, d.status.value, d.response_code) for d in log] == [
        (first, 1, "retrying", 500),
        (first, 2, "retrying", 500),
        (first, 3, "delivered", 200),
        (second, 1, "delivered", 200),
    ]
    assert log[0].error == "HTTP 500" and log[2].error is None


async def test_410_disables_the_webhook(rig: Factory) -> None:
    r = await rig()
    receiver = await r.receiver(410)
    hook = await r.subscribe(receiver)
    first, _ = await r.enqueue(hook, 2)
    log = await r.deliveries(hook, 1)
    assert [(d.event_id, d.status.value, d.response_code) for d in log] == [(first, "failed", 410)]
    stored = await r.service.get(hook.id)
    assert not stored.enabled
    assert await r.store.webhooks.next_due(hook.id) is None  # the second event failed too
    assert [request.event_id for request in receiver.requests] == [first]
    # A new event for a disabled webhook stays put; nothing more is sent.
    await r.enqueue(hook, 1)
    assert await r.store.webhooks.pending_webhooks() == []
    assert len(receiver.requests) == 1
    assert not r.service.subscribed  # no event is written for it any more


async def test_the_wanted_event_types_follow_the_subscriptions(rig: Factory) -> None:
    service = (await rig()).service
    await service.start()
    assert not service.subscribed
    hook = await service.create("http://127.0.0.1:9/hooks", ["alert.triggered"], None)
    assert service.subscribed and service.wanted("alert.triggered")
    assert not service.wanted("meter.values")
    await service.update(hook.id, events=["*"])
    assert service.wanted("meter.values")
    await service.update(hook.id, enabled=False)
    assert not service.subscribed and not service.wanted("alert.triggered")
    await service.update(hook.id, enabled=True)
    assert service.wanted("meter.values")
    await service.delete(hook.id)
    assert not service.subscribed


async def test_a_hanging_receiver_delays_only_its_own_webhook(rig: Factory) -> None:
    r = await rig(request_timeout=1.5)
    stuck = await r.receiver(None, 200)
    quick = await r.receiver(200)
    stuck_hook = await r.subscribe(stuck)
    quick_hook = await r.subscribe(quick)
    stuck_ids = await r.enqueue(stuck_hook, 2)
    await stuck.wait_for(1)  # its worker now waits on an answer that does not come
    started = time.monotonic()
    quick_ids = await r.enqueue(quick_hook, 3)
    await quick.wait_for(3)
    assert time.monotonic() - started < 1.0  # well within the stuck request's timeout
    assert [request.event_id for request in quick.requests] == quick_ids
    assert len(await r.deliveries(quick_hook, 3)) == 3
    assert len(stuck.requests) == 1  # still hanging, nothing recorded for it yet
    assert (await r.store.webhooks.list_deliveries(stuck_hook.id, Page())).items == []
    # After the timeout: a retry, then both go out in order.
    await stuck.wait_for(3)
    assert [request.event_id for request in stuck.requests] == [stuck_ids[0], *stuck_ids]
    log = await r.deliveries(stuck_hook, 3)
    assert [(d.attempt, d.status.value, d.response_code) for d in log] == [
        (1, "retrying", None),
        (2, "delivered", 200),
        (1, "delivered", 200),
    ]
    assert log[0].error == "no answer within 1.5 s"


async def test_pending_rows_are_resumed_at_start(rig: Factory) -> None:
    r = await rig()
    receiver = await r.receiver(200)
    hook = await r.subscribe(receiver)
    body = event_body("evt_left", "charger.connected", system_clock(), {})
    row = OutboxRow(hook.id, "evt_left", "charger.connected", "CP1", body, system_clock())
    await r.store.webhooks.enqueue([row])  # written before a restart: nobody was told
    assert r.service.active == []
    await r.service.start()
    await receiver.wait_for(1)
    assert receiver.requests[0].event_id == "evt_left"
    assert [d.status.value for d in await r.deliveries(hook, 1)] == ["delivered"]


async def test_a_dead_port_is_retried_until_retry_for_then_failed(rig: Factory) -> None:
    r = await rig()
    # A port nothing listens on: bound, then closed.
    server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    hook = await r.service.create(f"http://127.0.0.1:{port}/x", ["*"], None)
    # Created long enough ago that the first retry would already pass retry_for.
    old = system_clock() - timedelta(seconds=59.99)
    body = event_body("evt_old", "meter.values", old, {})
    await r.store.webhooks.enqueue([OutboxRow(hook.id, "evt_old", "meter.values", None, body, old)])
    r.service.notify(hook.id)
    log = await r.deliveries(hook, 1)
    assert [(d.attempt, d.status.value, d.response_code) for d in log] == [(1, "failed", None)]
    assert log[0].error is not None and "ConnectError" in log[0].error


async def test_the_central_system_resumes_pending_webhooks_at_start(
    rig: Factory, tmp_path: Path
) -> None:
    receiver = await (await rig()).receiver(200)
    path = tmp_path / "csms.db"
    # Left by a previous run: a webhook with an undelivered event.
    store = SqliteStore(path)
    await store.open()
    hook = Webhook("wh_left", receiver.url, ("*",), True, None, system_clock(), new_secret())
    await store.webhooks.add_webhook(hook)
    body = event_body("evt_left", "charger.connected", system_clock(), {})
    row = OutboxRow(hook.id, "evt_left", "charger.connected", "CP1", body, system_clock())
    await store.webhooks.enqueue([row])
    await store.close()

    running = await start_csms(make_settings(path))
    try:
        await receiver.wait_for(1)
        check_signatures(hook.secret, receiver.requests[0])
        log = await attempts_log(running.system.services.webhooks.deliveries, hook.id, 1)
        assert [d.status.value for d in log] == ["delivered"]
    finally:
        await stop_csms(running)


async def test_a_subscription_another_node_delivers_is_left_to_it(rig: Factory) -> None:
    """A cluster (ADR 013): while another node holds the subscription's lease, rows committed
    here are announced to it, and a worker here tries the lease at most once a second, not once
    per commit; once the lease is this node's, it delivers."""
    r = await rig()
    receiver = await r.receiver(204)
    hook = await r.subscribe(receiver)
    tries: list[str] = []
    announced: list[list[str]] = []
    held = False

    async def lease(webhook_id: str) -> bool:
        tries.append(webhook_id)
        return held

    r.service.lease = lease
    r.service.announce = announced.append
    for _ in range(5):  # five commits, as fast as they come
        await r.enqueue(hook, 1)
        r.service.wake([hook.id])
        await asyncio.sleep(0.01)
    assert tries == [hook.id]  # the first try only: the others were left to the holder
    assert announced == [[hook.id]] * 5
    assert receiver.requests == []
    held = True  # the holder died and its lease expired: this node resumes
    await r.service.resume_pending()
    await receiver.wait_for(5)
    assert len(receiver.requests) == 5
