"""Every charger's events on every node, each once (ADR 013), with the real PostgreSQL and NATS
of this machine: a charger on one node, the live stream open on both."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx

from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


class Stream:
    """A node's live event stream, read into a list."""

    def __init__(self, node: RunningCsms) -> None:
        self.node = node
        self.events: list[dict[str, Any]] = []
        self._api: httpx.AsyncClient = node.api()
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async with self._api.stream("GET", "/api/v1/events", timeout=None) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    self.events.append(json.loads(line.removeprefix("data:")))

    async def open(self) -> None:
        self._task = asyncio.create_task(self._read())
        async with asyncio.timeout(5):
            await self.node.system.services.events.wait_for_subscriber()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._api.aclose()

    def of(self, cp_id: str) -> list[tuple[str, Any]]:
        return [
            (e["type"], e.get("status")) for e in self.events if e.get("chargePointId") == cp_id
        ]


async def test_each_stream_carries_every_chargers_events_once_and_alerts_are_raised_once(
    two_nodes: tuple[RunningCsms, ...],
) -> None:
    n1, n2 = two_nodes
    await n1.register("CP-E")
    streams = [Stream(n1), Stream(n2)]
    for stream in streams:
        await stream.open()
    client = await RawClient.connect(n2.ocpp_url, "CP-E")
    try:
        await client.boot()
        for status in ("Available", "Faulted", "Available"):
            payload = {"connectorId": 1, "status": status, "errorCode": "NoError"}
            if status == "Faulted":
                payload["errorCode"] = "GroundFailure"
            await client.result("StatusNotification", payload)
        expected = [
            ("charger.connected", None),
            ("connector.status", "Available"),
            ("connector.status", "Faulted"),
            ("connector.status", "Available"),
        ]
        kinds = {"charger.connected", "connector.status"}
        for _ in range(100):
            if all(len([e for e in s.of("CP-E") if e[0] in kinds]) >= 4 for s in streams):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything more (a duplicate) would have arrived by now
        here, there = (stream.of("CP-E") for stream in streams)
        assert [e for e in here if e[0] in kinds] == expected
        # The same events on the node the charger is not on, each once, in the same order
        # (the alerts raised on n2 and the status errors included).
        assert there == here
        assert ("alert.triggered", "Triggered") in here
        # The site tree's live counts on the node the charger is not on.
        assert n1.system.sockets.counts(["CP-E"]).online == 1
        # The fault is raised as an alert once, by the node the frame reached.
        async with n1.api() as api:
            alerts = (await api.get("/api/v1/alerts?chargePointId=CP-E")).json()["data"]["items"]
        assert sorted(a["name"] for a in alerts) == ["FAULTED", "GROUND_FAILURE"]
    finally:
        await client.close()
        for stream in streams:
            await stream.close()
