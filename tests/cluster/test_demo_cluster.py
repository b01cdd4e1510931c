"""``make demo-cluster`` for a few seconds against the real PostgreSQL and NATS of this machine:
three nodes join one cluster, the demo's chargers spread over them and connect, and a SIGTERM
stops it all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import httpx

from tests.cluster.conftest import NATS_URL
from tests.databases import PostgresServer, reset_database
from tests.processes import free_port


async def _health(client: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"{url}/health")
    except httpx.TransportError:
        return None
    body: dict[str, Any] = response.json()
    return body


async def test_the_cluster_demo_spreads_its_chargers_over_three_nodes(
    postgres_server: PostgresServer,
) -> None:
    database = postgres_server.require()
    await reset_database(database)
    ocpp_port, api_port = free_port(), free_port()
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.demo_cluster",
        "--database-url",
        database,
        "--nats-url",
        NATS_URL,
        "--ocpp-port",
        str(ocpp_port),
        "--api-port",
        str(api_port),
        "--chargers",
        "4",
        "--ocpp201",
        "2",
        env={**os.environ, "CSMS_LOG_LEVEL": "warning"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        apis = [f"http://127.0.0.1:{api_port + n}" for n in range(3)]
        per_node: list[int] = []
        nodes: list[Any] = []
        healths: list[dict[str, Any] | None] = []
        async with httpx.AsyncClient() as client:
            for _ in range(600):  # bounded: 60 s (the demo waits up to 60 s for its nodes)
                healths = [await _health(client, api) for api in apis]
                if all(h is not None for h in healths):
                    nodes = healths[0]["clusterNodes"] if healths[0] else []
                    per_node = [h["chargersConnected"] for h in healths if h]
                    if len(nodes) == 3 and sum(per_node) == 6:
                        break
                await asyncio.sleep(0.1)
        assert len(nodes) == 3, healths
        assert sum(per_node) == 6, per_node
        assert sum(1 for n in per_node if n > 0) >= 2, per_node  # spread, not all on one
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, _ = await demo.communicate()
    assert demo.returncode == 0
    assert b"three nodes" in out
