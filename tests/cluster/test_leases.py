"""Work one node at a time does (ADR 013), with the real PostgreSQL and NATS of this machine:
the lease itself, one load allocator in the cluster (taken over when its node leaves), and a
webhook fed by chargers on two nodes delivering each event once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from csms.config import ClusterSettings, DatabaseSettings
from csms.domain.models import Role, TokenSource
from csms.store.postgres import PostgresStore
from tests.cluster.conftest import NATS_URL
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.databases import PostgresServer, reset_database
from tests.ocpp_client import RawClient
from tests.webhook_receiver import receiving

StartNode = Callable[[str], Awaitable[RunningCsms]]


@pytest.fixture
async def database(postgres_server: PostgresServer) -> DatabaseSettings:
    url = postgres_server.require()
    await reset_database(url)
    return DatabaseSettings(url=url)


@pytest.fixture
async def nodes(database: DatabaseSettings) -> AsyncIterator[StartNode]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    running: list[RunningCsms] = []

    async def start(node_id: str) -> RunningCsms:
        cluster = ClusterSettings(
            nats_url=NATS_URL,
            node_id=node_id,
            subject_prefix=prefix,
            heartbeat_interval_s=0.1,
            node_timeout_s=1.0,
        )
        node = await start_csms(make_settings(database).model_copy(update={"cluster": cluster}))
        running.append(node)
        return node

    yield start
    for node in reversed(running):
        if not node.system._stopped.is_set():
            await stop_csms(node)


async def _until(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {what}")


async def test_a_lease_is_one_nodes_until_it_expires(database: DatabaseSettings) -> None:
    assert database.url is not None
    store = PostgresStore(database.url)
    await store.open()
    try:
        cluster = store.cluster
        assert cluster is not None
        assert await cluster.hold_lease("work", "a", 0.5)
        assert not await cluster.hold_lease("work", "b", 0.5)
        assert await cluster.hold_lease("work", "a", 0.5)  # renewed by its holder
        assert await cluster.hold_lease("other", "b", 0.5)  # leases are independent
        await asyncio.sleep(0.7)
        assert await cluster.hold_lease("work", "b", 0.5)  # expired: taken over
        assert not await cluster.hold_lease("work", "a", 0.5)
    finally:
        await store.close()


async def test_one_node_allocates_and_another_takes_over_when_it_leaves(
    nodes: StartNode,
) -> None:
    start = nodes
    n1 = await start("n1")
    n2 = await start("n2")
    managers = [n.system.services.load_manager for n in (n1, n2)]
    await _until(lambda: sum(m._leading for m in managers) == 1, "one allocator")
    await asyncio.sleep(1.0)  # a few renewals later: still one
    assert sum(m._leading for m in managers) == 1
    leader, other = (n1, n2) if managers[0]._leading else (n2, n1)
    await stop_csms(leader)
    await _until(
        lambda: other.system.services.load_manager._leading, "the other node took over", 5.0
    )


async def test_a_webhook_fed_from_two_nodes_gets_each_event_once(
    nodes: StartNode,
) -> None:
    start = nodes
    n1 = await start("n1")
    n2 = await start("n2")
    await n1.register("CP-1")
    await n1.register("CP-2")
    async with receiving(204) as receiver:
        admin = await n1.system.services.api_tokens.create(
            "test-admin", Role.ADMIN, source=TokenSource.CLI
        )
        # Made on n1: n2 hears of it and writes its own chargers' events for it.
        made = await n1.api(admin.token).post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["connector.status"]}
        )
        assert made.status_code == 201, made.text
        await _until(lambda: n2.system.services.webhooks.subscribed, "n2 learned the webhook")
        clients = [
            await RawClient.connect(n1.ocpp_url, "CP-1"),
            await RawClient.connect(n2.ocpp_url, "CP-2"),
        ]
        try:
            for client in clients:
                await client.boot()
            for status in ("Available", "Preparing", "Charging", "Finishing", "Available"):
                for client in clients:
                    payload = {"connectorId": 1, "status": status, "errorCode": "NoError"}
                    await client.result("StatusNotification", payload)
            await receiver.wait_for_events(10)
            await asyncio.sleep(1.0)  # a duplicate would have come by now
        finally:
            for client in clients:
                await client.close()
    # Each event once, from one node at a time, in each charger's order.
    assert len(receiver.requests) == len(receiver.events) == 10
    for cp_id in ("CP-1", "CP-2"):
        statuses = [
            e["data"]["status"] for e in receiver.events if e["data"]["chargePointId"] == cp_id
        ]
        assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]
