"""NATS lost while running (ADR 013): each node keeps serving its own chargers, a cross-node
command fails at once with 503 ``cluster_unavailable``, no node declares the other dead, and
everything resumes when NATS is back. The outage is real: the nodes reach this machine's NATS
through a TCP relay on 127.0.0.1 that the test cuts and restores."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from tests.cluster.conftest import NATS_URL, StartNodes
from tests.cluster.test_routing import Charger
from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


class Relay:
    """A TCP relay to NATS that can be cut (every connection dropped, new ones refused) and
    restored on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        tasks = [
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ]
        self._pipes.update(tasks)
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks)
        self._pipes.difference_update(tasks)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    target = urlsplit(NATS_URL)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 4222)
    await relay.start()
    yield relay
    await relay.cut()


@pytest.fixture
async def two_nodes(start_nodes: StartNodes, relay: Relay) -> tuple[RunningCsms, ...]:
    return await start_nodes(
        "n1", "n2", node_timeout_s=1.0, nats_url=f"nats://127.0.0.1:{relay.port}"
    )


async def _reset(node: RunningCsms, cp_id: str) -> tuple[int, str]:
    async with node.api() as api:
        response = await api.post(
            f"/api/v1/charge-points/{cp_id}/actions/reset", json={"type": "Soft"}
        )
    return response.status_code, response.text


async def test_a_nats_outage_keeps_each_node_serving_and_everything_resumes(
    two_nodes: tuple[RunningCsms, ...], relay: Relay
) -> None:
    n1, n2 = two_nodes
    await n1.register("CP-L")
    await n1.register("CP-R")
    local = await RawClient.connect(n1.ocpp_url, "CP-L")
    await local.boot()
    remote = await RawClient.connect(n2.ocpp_url, "CP-R")
    await remote.boot()
    chargers = [Charger(local), Charger(remote)]
    cluster1 = n1.system.cluster
    assert cluster1 is not None
    try:
        status, _ = await _reset(n1, "CP-R")
        assert status == 200  # across nodes, with NATS up

        await relay.cut()
        for _ in range(100):  # bounded: the client notices within a moment
            if not cluster1.link.up:
                break
            await asyncio.sleep(0.05)
        assert not cluster1.link.up
        # Its own charger: served as ever.
        status, _ = await _reset(n1, "CP-L")
        assert status == 200
        # The other node's: 503 at once, not after a timeout.
        started = time.monotonic()
        status, text = await _reset(n1, "CP-R")
        assert status == 503 and "cluster_unavailable" in text
        assert time.monotonic() - started < 1.0
        # Several node timeouts of silence: nobody was declared dead for NATS's outage.
        await asyncio.sleep(2.5)
        assert cluster1.membership.alive("n2")

        await relay.start()  # NATS back on the same address
        for _ in range(200):  # bounded: 10 s (the client retries every 0.5 s)
            if cluster1.link.up:
                status, _ = await _reset(n1, "CP-R")
                if status == 200:
                    break
            await asyncio.sleep(0.05)
        assert status == 200
    finally:
        for charger in chargers:
            await charger.stop()
