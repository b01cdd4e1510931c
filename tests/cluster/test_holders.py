"""One live connection per identity across nodes, and a dead node's chargers (ADR 013), with the
real PostgreSQL and NATS of this machine: one node in this process, another in this process or
a ``csms serve`` killed with SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from csms.config import ClusterSettings, DatabaseSettings, Settings
from tests.cluster.conftest import NATS_URL
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.databases import PostgresServer, reset_database
from tests.ocpp_client import RawClient
from tests.processes import environment, free_port, start_server

TIMEOUT_S = 1.0


@dataclass
class Cluster:
    database: DatabaseSettings
    prefix: str

    def settings(self, node_id: str) -> Settings:
        cluster = ClusterSettings(
            nats_url=NATS_URL,
            node_id=node_id,
            subject_prefix=self.prefix,
            heartbeat_interval_s=0.1,
            node_timeout_s=TIMEOUT_S,
        )
        return make_settings(self.database).model_copy(update={"cluster": cluster})


@pytest.fixture
async def cluster(postgres_server: PostgresServer) -> Cluster:
    url = postgres_server.require()
    await reset_database(url)
    return Cluster(DatabaseSettings(url=url), f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def nodes() -> AsyncIterator[list[RunningCsms]]:
    running: list[RunningCsms] = []
    yield running
    for node in reversed(running):
        await stop_csms(node)


async def _node(nodes: list[RunningCsms], cluster: Cluster, node_id: str) -> RunningCsms:
    node = await start_csms(cluster.settings(node_id))
    nodes.append(node)
    return node


async def _charger(node: RunningCsms, cp_id: str) -> dict[str, Any]:
    async with node.api() as api:
        response = await api.get(f"/api/v1/charge-points/{cp_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["data"]
    return body


async def _until(check: Callable[[], Any], what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {what}")


async def _closed(client: RawClient) -> bool:
    try:
        await client.recv(timeout=0.05)
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False
    return False


async def test_the_newest_connection_wins_across_nodes_and_the_older_close_keeps_it_online(
    cluster: Cluster, nodes: list[RunningCsms]
) -> None:
    n1 = await _node(nodes, cluster, "n1")
    n2 = await _node(nodes, cluster, "n2")
    await n1.register("CP-X")
    first = await RawClient.connect(n1.ocpp_url, "CP-X")
    await first.boot()
    assert (await _charger(n2, "CP-X"))["connected"] is True
    assert (await _charger(n2, "CP-X"))["nodeId"] == "n1"

    second = await RawClient.connect(n2.ocpp_url, "CP-X")
    await second.boot()
    # The contract: the older one, on another node, is closed within 2 s.
    await _until(lambda: _closed(first), "closed the older connection", 2.0)
    assert first.ws.close_code == 1000
    assert n1.system.sessions.get("CP-X") is None
    assert n2.system.sessions.get("CP-X") is not None
    # Its late close released nothing: the charger is online, held by n2.
    await asyncio.sleep(0.3)
    assert (await _charger(n1, "CP-X"))["connected"] is True
    assert cluster_store(n1) is not None
    holdings = await cluster_store(n1).holdings(["cp-x"])
    assert holdings["cp-x"].node_id == "n2"
    assert (await _charger(n1, "CP-X"))["nodeId"] == "n2"
    assert (await second.result("Heartbeat", {}))["currentTime"]
    await second.close()
    await _until(lambda: _offline(n1, "CP-X"), "offline after the last connection closed", 5.0)
    assert (await _charger(n1, "CP-X"))["nodeId"] is None


async def test_a_node_whose_connection_was_taken_over_while_nats_was_silent_closes_it(
    cluster: Cluster, nodes: list[RunningCsms]
) -> None:
    n1 = await _node(nodes, cluster, "n1")
    await _node(nodes, cluster, "n2")
    await n1.register("CP-S")
    client = await RawClient.connect(n1.ocpp_url, "CP-S")
    await client.boot()
    # As if another node had claimed it and the message to n1 had been lost: only the record
    # in the database says so. Reconciliation (every 2 s) closes the connection.
    store = cluster_store(n1)
    holder = n1.system.sessions.get("CP-S")
    assert holder is not None and holder.holder_seq is not None
    conn = await _pg(cluster)
    try:
        await conn.execute(
            "UPDATE charger_holders SET node_id = 'n2', seq = seq + 1000"
            " WHERE charge_point_id = 'CP-S'"
        )
    finally:
        await conn.close()
    await _until(lambda: _closed(client), "closed a connection it no longer holds", 5.0)
    # Its close released nothing: the claim is n2's, a live node.
    await asyncio.sleep(2.5)  # a round of reconciliation and release later
    assert (await _charger(n1, "CP-S"))["connected"] is True
    assert (await store.holdings(["cp-s"]))["cp-s"].node_id == "n2"


async def test_a_killed_nodes_chargers_go_offline_after_the_timeout_unless_they_moved(
    cluster: Cluster, nodes: list[RunningCsms], tmp_path: Path
) -> None:
    n1 = await _node(nodes, cluster, "n1")
    await n1.register("CP-STAY")
    await n1.register("CP-MOVE")
    ocpp_port, api_port = free_port(), free_port()
    env = environment(
        tmp_path,
        ocpp_port,
        api_port,
        cluster.database,
        CSMS_CLUSTER_NATS_URL=NATS_URL,
        CSMS_CLUSTER_NODE_ID="n2",
        CSMS_CLUSTER_SUBJECT_PREFIX=cluster.prefix,
        CSMS_CLUSTER_HEARTBEAT_INTERVAL_S="0.1",
        CSMS_CLUSTER_NODE_TIMEOUT_S=str(TIMEOUT_S),
    )
    n2 = await start_server(env)
    try:
        await _until(lambda: _sees(n1, "n2"), "saw n2 join", 5.0)
        url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
        staying = await RawClient.connect(url, "CP-STAY")
        await staying.boot()
        moving = await RawClient.connect(url, "CP-MOVE")
        await moving.boot()
        n2.send_signal(signal.SIGKILL)
        await n2.wait()
        # The charger that moves reconnects to n1 before n2 is declared dead.
        moved = await RawClient.connect(n1.ocpp_url, "CP-MOVE")
        await moved.boot()
        assert (await _charger(n1, "CP-STAY"))["connected"] is True
        await _until(lambda: _offline(n1, "CP-STAY"), "marked the dead node's charger offline")
        assert (await _charger(n1, "CP-MOVE"))["connected"] is True
        async with n1.api() as api:
            history = (await api.get("/api/v1/charge-points/CP-STAY/connection-history")).json()[
                "data"
            ]["items"]
        assert history[0]["disconnectedAt"] is not None
        await moved.close()
    finally:
        if n2.returncode is None:
            n2.kill()
            await n2.wait()


async def _offline(node: RunningCsms, cp_id: str) -> bool:
    return (await _charger(node, cp_id))["connected"] is False


async def _sees(node: RunningCsms, other: str) -> bool:
    cluster = node.system.cluster
    assert cluster is not None
    return cluster.membership.alive(other)


def cluster_store(node: RunningCsms) -> Any:
    store = node.system.store.cluster
    assert store is not None
    return store


async def _pg(cluster: Cluster) -> Any:
    import asyncpg

    assert cluster.database.url is not None
    return await asyncpg.connect(cluster.database.url)
