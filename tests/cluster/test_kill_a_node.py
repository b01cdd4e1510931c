"""kill -9 of one node of three under load (ADR 013), with the real PostgreSQL and NATS of this
machine and three ``csms serve`` processes.

Chargers (half 1.6, half 2.0.1) run transactions back to back, spread over the three nodes; a
webhook's receiver holds its first request, so a backlog builds in the outbox. One node is
killed with SIGKILL while calls are in flight. Then:

1. what any node acknowledged is in the database, exactly once;
2. every charger (those of the dead node too) reconnects to a surviving node and resends all it
   ever sent: everything is stored, and still once;
3. the webhook gets the event of every stored message, none lost (whichever node held its lease
   and whichever node committed it), none from a replay, in order per charger;
4. the dead node's chargers went offline after node_timeout_s, or were taken over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

from csms.config import DatabaseSettings
from csms.domain.clock import format_timestamp
from csms.domain.paging import Page
from tests.cluster.conftest import NATS_URL
from tests.databases import PostgresServer, reset_database
from tests.integration.test_durability import (
    CHARGERS,
    Journal,
    _charger_16,
    _charger_201,
    _check_deliveries,
    _delivered,
    _open,
    _prepare,
    _replay,
    _verify,
)
from tests.processes import environment, free_port, start_server
from tests.webhook_receiver import receiving

LOAD_SECONDS = 0.5


async def test_kill_9_of_a_node_under_load_loses_nothing_it_acknowledged(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.require()
    await reset_database(url)
    database = DatabaseSettings(url=url)
    prefix = f"t{uuid.uuid4().hex[:12]}"
    ports = [(free_port(), free_port()) for _ in range(3)]
    envs = [
        environment(
            tmp_path,
            ocpp,
            api,
            database,
            CSMS_LOG_LEVEL="warning",
            CSMS_CLUSTER_NATS_URL=NATS_URL,
            CSMS_CLUSTER_NODE_ID=f"node{n}",
            CSMS_CLUSTER_SUBJECT_PREFIX=prefix,
            CSMS_CLUSTER_HEARTBEAT_INTERVAL_S="0.2",
            CSMS_CLUSTER_NODE_TIMEOUT_S="2",
        )
        for n, (ocpp, api) in enumerate(ports)
    ]
    urls = [f"ws://127.0.0.1:{ocpp}/ocpp" for ocpp, _ in ports]
    journal = Journal()
    async with receiving(None) as receiver:  # holds the first request: a backlog builds
        await _prepare(database, receiver)
        servers = [await start_server(env) for env in envs]
        try:
            chargers = [
                asyncio.create_task(
                    _charger_16(urls[i % 3], i, journal)
                    if i % 2
                    else _charger_201(urls[i % 3], i, journal)
                )
                for i in range(CHARGERS)
            ]
            on_dead = {f"DUR{'16' if i % 2 else '201'}-{i}" for i in range(1, CHARGERS, 3)}
            # Under load until every node has acknowledged some (bounded: a busy machine may
            # take a while to connect them all), then a little longer: calls are in flight.
            for _ in range(300):
                acked_here = [m.cp_id for m, _ in journal.acked]
                if sum(cp in on_dead for cp in acked_here) >= 10 and len(acked_here) >= 100:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(LOAD_SECONDS)
            servers[1].kill()  # SIGKILL, with calls in flight
            await servers[1].wait()
            await asyncio.sleep(0.5)  # the other nodes' chargers carry on meanwhile
            for task in chargers:
                task.cancel()
            await asyncio.gather(*chargers, return_exceptions=True)

            acked = [m for m, _ in journal.acked]
            assert any(m.cp_id in on_dead for m in acked), "the killed node served nothing"
            transaction_ids = {
                id(m): str(answer["transactionId"])
                for m, answer in journal.acked
                if m.action == "StartTransaction"
            }
            store = await _open(database)
            try:
                assert await _verify(store, acked, transaction_ids) == len(acked)
            finally:
                await store.close()

            # The dead node's chargers: offline once the others time it out (2 s).
            await _offline_within(database, sorted(on_dead), 15.0)

            # Everyone resends everything to a surviving node: all stored, nothing twice.
            receiver.script = [204]
            receiver.release.set()
            await _replay(urls[0], journal)
            _check_deliveries(await _delivered(receiver, journal), journal)
            sent = [m for messages in journal.sent.values() for m in messages]
            store = await _open(database)
            try:
                for message in sent:
                    if message.action == "StartTransaction" and id(message) not in transaction_ids:
                        # Never acknowledged: it got its id in the replay; found by its time.
                        listed = await store.transactions.list_transactions(
                            Page(1000), cp_id=message.cp_id
                        )
                        [tx] = [
                            t
                            for t in listed.items
                            if format_timestamp(t.started_at) == message.payload["timestamp"]
                        ]
                        transaction_ids[id(message)] = tx.transaction_id
                assert await _verify(store, sent, transaction_ids) == len(sent)
            finally:
                await store.close()
        finally:
            for server in servers:
                if server.returncode is None:
                    server.terminate()
            for server in servers:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(20):
                        await server.wait()
                if server.returncode is None:
                    server.kill()
                    await server.wait()


async def _offline_within(database: DatabaseSettings, cp_ids: list[str], seconds: float) -> None:
    """Bounded: the surviving nodes time the dead one out, then release its chargers."""
    store = await _open(database)
    try:
        for _ in range(int(seconds / 0.2)):
            chargers = [await store.chargers.get_charge_point(cp_id) for cp_id in cp_ids]
            if all(c is not None and not c.connected for c in chargers):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"still online: {[c.id for c in chargers if c and c.connected]}")
    finally:
        await store.close()
