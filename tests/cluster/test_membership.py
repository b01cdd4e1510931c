"""Cluster membership over the real NATS server of this machine (127.0.0.1:4222): nodes see each
other, a node that leaves is dropped at once, a silent one after node_timeout_s, a taken node id
is refused, and an unreachable NATS is one clear error. Each test has subjects of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from csms.cluster.link import ClusterUnreachable
from csms.cluster.membership import DuplicateNode
from csms.cluster.node import ClusterNode, default_node_id
from csms.config import ClusterSettings, DatabaseSettings
from csms.ocpp.sessions import SessionRegistry
from tests.cluster.conftest import NATS_URL
from tests.conftest import make_settings, start_csms, stop_csms
from tests.databases import PostgresServer, reset_database
from tests.processes import environment, free_port, run_csms


def _clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def cluster(prefix: str) -> Callable[..., ClusterSettings]:
    def settings(**extra: object) -> ClusterSettings:
        values: dict[str, object] = {
            "nats_url": NATS_URL,
            "subject_prefix": prefix,
            "heartbeat_interval_s": 0.05,
            "node_timeout_s": 0.5,
            **extra,
        }
        return ClusterSettings.model_validate(values)

    return settings


@pytest.fixture
async def nodes() -> AsyncIterator[list[ClusterNode]]:
    started: list[ClusterNode] = []
    yield started
    for node in started:
        await node.stop()


async def _start(nodes: list[ClusterNode], settings: ClusterSettings, node_id: str) -> ClusterNode:
    node = ClusterNode(settings, node_id, _clock, SessionRegistry())
    await node.start()
    nodes.append(node)
    return node


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Bounded: what the nodes hear arrives on their own tasks, checked every 20 ms."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


def _ids(node: ClusterNode) -> list[str]:
    return [n["nodeId"] for n in node.membership.nodes()]


async def test_nodes_see_each_other_and_a_node_leaving_is_dropped_at_once(
    cluster: Callable[..., ClusterSettings], nodes: list[ClusterNode]
) -> None:
    a = await _start(nodes, cluster(node_timeout_s=60.0), "a")
    b = await _start(nodes, cluster(node_timeout_s=60.0), "b")
    await _until(lambda: _ids(a) == ["a", "b"] and _ids(b) == ["b", "a"])
    seen_by_a = a.membership.nodes()
    assert seen_by_a[0]["self"] and not seen_by_a[1]["self"]
    assert seen_by_a[1]["chargersConnected"] == 0
    assert a.health()["nodeId"] == "a"

    dead: list[str] = []
    a.membership.on_dead(dead.append)
    nodes.remove(b)
    await b.stop()
    # The timeout is a minute: only the goodbye can have dropped it.
    await _until(lambda: dead == ["b"], 2.0)
    assert _ids(a) == ["a"]


async def test_a_silent_node_is_dead_after_the_timeout_and_its_takeover_runs_once(
    cluster: Callable[..., ClusterSettings], nodes: list[ClusterNode]
) -> None:
    a = await _start(nodes, cluster(), "a")
    b = await _start(nodes, cluster(), "b")
    await _until(lambda: _ids(a) == ["a", "b"])
    dead: list[str] = []
    a.membership.on_dead(dead.append)
    # As kill -9 leaves it: no goodbye, no more heartbeats, the NATS connection gone.
    for task in list(b._tasks):
        task.cancel()
    await b.link.close()
    nodes.remove(b)
    await _until(lambda: dead == ["b"], 3.0)
    await asyncio.sleep(0.3)  # a few more rounds of expiry: still declared dead once
    assert dead == ["b"]


async def test_a_node_id_a_live_node_has_is_refused(
    cluster: Callable[..., ClusterSettings], nodes: list[ClusterNode]
) -> None:
    await _start(nodes, cluster(), "same")
    twin = ClusterNode(cluster(), "same", _clock, SessionRegistry())
    with pytest.raises(DuplicateNode, match="'same' is already used by a live node"):
        await twin.start()
    assert not twin.link.up
    # Once the first one is gone the id is free again (a restarted node keeps its id).
    first = nodes.pop()
    await first.stop()
    await _start(nodes, cluster(), "same")


async def test_an_unreachable_nats_is_one_clear_error(
    cluster: Callable[..., ClusterSettings],
) -> None:
    node = ClusterNode(cluster(nats_url="nats://127.0.0.1:1"), "a", _clock, SessionRegistry())
    async with asyncio.timeout(10):
        with pytest.raises(ClusterUnreachable, match=r"cannot reach NATS at nats://127\.0\.0\.1:1"):
            await node.start()


def test_the_default_node_id_is_the_host_and_port() -> None:
    node_id = default_node_id(9000)
    assert node_id.endswith("-9000")
    assert all(c.isalnum() or c in "-_" for c in node_id)


async def test_health_shows_the_node_and_its_cluster(
    cluster: Callable[..., ClusterSettings], postgres_server: PostgresServer
) -> None:
    url = postgres_server.require()
    await reset_database(url)
    database = DatabaseSettings(url=url)
    first = await start_csms(
        make_settings(database).model_copy(update={"cluster": cluster(node_id="n1")})
    )
    second = await start_csms(
        make_settings(database).model_copy(update={"cluster": cluster(node_id="n2")})
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                body = (await client.get(f"{first.api_url}/health")).json()
                if len(body.get("clusterNodes", [])) == 2:
                    break
                await asyncio.sleep(0.05)
        assert body["nodeId"] == "n1"
        assert [n["nodeId"] for n in body["clusterNodes"]] == ["n1", "n2"]
        assert [n["self"] for n in body["clusterNodes"]] == [True, False]
        assert body["clusterNodes"][1]["chargersConnected"] == 0
    finally:
        await stop_csms(second)
        await stop_csms(first)


async def test_health_of_a_single_process_has_no_cluster(tmp_path: Path) -> None:
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    try:
        async with httpx.AsyncClient() as client:
            body = (await client.get(f"{running.api_url}/health")).json()
        assert "nodeId" not in body and "clusterNodes" not in body
    finally:
        await stop_csms(running)


async def test_serve_refuses_to_start_without_nats_or_on_sqlite(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    env = environment(tmp_path, free_port(), free_port())
    code, _, err = await run_csms(
        {**env, "CSMS_CLUSTER_NATS_URL": NATS_URL}, "serve", "--config", "/dev/null"
    )
    assert code == 2
    assert "SQLite is single-node only" in err
    url = postgres_server.require()
    env = environment(tmp_path, free_port(), free_port(), DatabaseSettings(url=url))
    code, _, err = await run_csms(
        {**env, "CSMS_CLUSTER_NATS_URL": "nats://127.0.0.1:1"}, "serve", "--config", "/dev/null"
    )
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and "cannot reach NATS at nats://127.0.0.1:1" in lines[0]
