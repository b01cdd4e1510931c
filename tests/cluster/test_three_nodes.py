"""Three ``csms serve`` processes on one PostgreSQL database and one NATS (ADR 013), the bundled
simulators connected to different nodes: commands across nodes, an identity moving between
nodes, every event on every node's stream, and load management on a circuit whose chargers sit
on different nodes. (kill -9 of a node under load: test_kill_a_node.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms.config import DatabaseSettings
from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.cluster.conftest import NATS_URL
from tests.databases import PostgresServer, reset_database
from tests.processes import EXAMPLE_CONFIG, environment, free_port, run_csms, start_server

TAG = "TAG-3N"


class Node:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.ocpp_url = f"ws://127.0.0.1:{env['CSMS_OCPP_PORT']}/ocpp"
        self.api_url = f"http://127.0.0.1:{env['CSMS_API_PORT']}"
        self.events: list[dict[str, Any]] = []
        self.process: asyncio.subprocess.Process | None = None


@pytest.fixture
async def nodes(
    postgres_server: PostgresServer, tmp_path: Path
) -> AsyncIterator[tuple[list[Node], str]]:
    url = postgres_server.require()
    await reset_database(url)
    prefix = f"t{uuid.uuid4().hex[:12]}"
    made = [
        Node(
            environment(
                tmp_path,
                free_port(),
                free_port(),
                DatabaseSettings(url=url),
                CSMS_LOG_LEVEL="warning",
                CSMS_CLUSTER_NATS_URL=NATS_URL,
                CSMS_CLUSTER_NODE_ID=f"node{n}",
                CSMS_CLUSTER_SUBJECT_PREFIX=prefix,
                CSMS_CLUSTER_HEARTBEAT_INTERVAL_S="0.2",
                CSMS_CLUSTER_NODE_TIMEOUT_S="2",
            )
        )
        for n in range(3)
    ]
    code, out, err = await run_csms(
        made[0].env, "token", "create", "--role", "admin", "--config", str(EXAMPLE_CONFIG)
    )
    assert code == 0, err
    try:
        for node in made:
            node.process = await start_server(node.env)
        yield made, out.strip()
    finally:
        for node in made:
            if node.process is not None and node.process.returncode is None:
                node.process.terminate()
        for node in made:
            if node.process is not None:
                try:
                    await asyncio.wait_for(node.process.wait(), 20)
                except TimeoutError:
                    node.process.kill()
                    await node.process.wait()


async def _stream(client: httpx.AsyncClient, node: Node) -> None:
    async with client.stream("GET", f"{node.api_url}/api/v1/events", timeout=None) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data:"):
                node.events.append(json.loads(line.removeprefix("data:")))


async def _until(check: Any, what: str, seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {what}")


async def test_three_nodes_act_as_one_central_system(nodes: tuple[list[Node], str]) -> None:
    (n0, n1, n2), token = nodes
    api = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=15)
    streams: list[asyncio.Task[None]] = []
    sims: list[ChargePoint16Simulator | ChargePoint201Simulator] = []
    try:
        # The estate, made through different nodes.
        for cp_id, node in (("N-A", n0), ("N-B", n1), ("N-C", n2)):
            body = {"id": cp_id, "securityProfile": 0}
            assert (await api.post(f"{node.api_url}/api/v1/charge-points", json=body)).is_success
        assert (await api.post(f"{n1.api_url}/api/v1/id-tags", json={"idTagUid": TAG})).is_success
        circuit = {"id": "garage", "name": "Garage", "phases": "three_phase", "maxCurrent": 32}
        assert (await api.post(f"{n2.api_url}/api/v1/circuits", json=circuit)).status_code == 201
        for cp_id in ("N-A", "N-B"):
            response = await api.post(
                f"{n0.api_url}/api/v1/circuits/garage/attach-charge-point",
                json={"chargePointId": cp_id},
            )
            assert response.status_code == 200, response.text
        for node in (n0, n1, n2):
            streams.append(asyncio.create_task(_stream(api, node)))
        await asyncio.sleep(0.5)  # the streams are open

        a = ChargePoint16Simulator("N-A", n0.ocpp_url, connectors=1, limit_delay=0)
        b = ChargePoint201Simulator("N-B", n1.ocpp_url, evses=1, limit_delay=0)
        c = ChargePoint16Simulator("N-C", n2.ocpp_url, connectors=1)
        sims += [a, b, c]
        for sim in sims:
            await sim.start()
            await sim.wait_booted(timeout=10)

        # Each charger's node, as any node tells it.
        async def holders() -> dict[str, str] | None:
            found = {}
            for cp_id in ("N-A", "N-B", "N-C"):
                data = (await api.get(f"{n0.api_url}/api/v1/charge-points/{cp_id}")).json()["data"]
                found[cp_id] = data["nodeId"]
            return found if None not in found.values() else None

        assert await _until(holders, "saw every charger held") == {
            "N-A": "node0",
            "N-B": "node1",
            "N-C": "node2",
        }

        # Commands through another node than the charger's, answered as locally.
        response = await api.post(
            f"{n2.api_url}/api/v1/charge-points/N-A/actions/trigger-message",
            json={"type": "Heartbeat"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == "Accepted"
        response = await api.post(
            f"{n0.api_url}/api/v1/charge-points/N-B/actions/start",
            json={"idTag": TAG, "evseId": 1},
        )
        assert response.json()["data"]["status"] == "Accepted", response.text
        await a.start_transaction(connector_id=1, id_tag=TAG, meter_start=0)

        # Load management on a circuit whose chargers sit on two nodes: 16 A each, whichever
        # node allocates, as any node's API shows.
        async def shared() -> bool:
            view = (await api.get(f"{n2.api_url}/api/v1/circuits/garage/allocation")).json()
            got = {
                s["chargePointId"]: s["allocatedA"]
                for s in view["data"]["sessions"]
                if s["profile"] and s["profile"]["status"] == "Accepted"
            }
            return got == {"N-A": 16.0, "N-B": 16.0}

        await _until(shared, "shared the circuit", 15.0)

        # An identity moving between nodes: N-C reconnects to node0; node2 closes its old one.
        moved = ChargePoint16Simulator("N-C", n0.ocpp_url, connectors=1)
        sims.append(moved)
        await moved.start()
        await moved.wait_booted(timeout=10)

        async def moved_to_node0() -> bool:
            data = (await api.get(f"{n1.api_url}/api/v1/charge-points/N-C")).json()["data"]
            return bool(data["nodeId"] == "node0" and data["connected"])

        await _until(moved_to_node0, "moved N-C to node0")
        await c.wait_disconnected(timeout=5)
        await c.stop()  # the simulator would reconnect: it is the old charger now
        sims.remove(c)
        await asyncio.sleep(1.0)
        data = (await api.get(f"{n1.api_url}/api/v1/charge-points/N-C")).json()["data"]
        assert data["connected"] and data["nodeId"] == "node0"

        # Every node's stream carried every charger's events, each once.
        def seen(node: Node) -> list[tuple[str, str]]:
            return [
                (e["type"], e["chargePointId"])
                for e in node.events
                if e["type"] in ("charger.connected", "transaction.started")
            ]

        await asyncio.sleep(0.5)
        expected = sorted(seen(n0))
        for cp_id in ("N-A", "N-B", "N-C"):
            assert ("charger.connected", cp_id) in expected
        assert ("transaction.started", "N-A") in expected
        assert ("transaction.started", "N-B") in expected
        assert sorted(seen(n1)) == expected and sorted(seen(n2)) == expected
        assert expected.count(("transaction.started", "N-A")) == 1
    finally:
        for sim in sims:
            await sim.stop()
        for task in streams:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await api.aclose()
