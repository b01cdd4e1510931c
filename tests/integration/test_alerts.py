"""Alerts end to end: a simulated 1.6 charger faults and recovers, goes offline and comes back;
the alerts appear and resolve in the API and on the live event stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from csms.config import DatabaseSettings, MonitoringSettings
from simulators import ChargePoint16Simulator
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms

CP = "AL-1"
OFFLINE_AFTER_S = 0.5


@pytest.fixture
async def monitored(database: DatabaseSettings) -> AsyncIterator[RunningCsms]:
    settings = make_settings(database).model_copy(
        update={"monitoring": MonitoringSettings(disconnected_alert_after_s=OFFLINE_AFTER_S)}
    )
    running = await start_csms(settings)
    try:
        yield running
    finally:
        await stop_csms(running)


class AlertStream:
    """The alert.* events of the live stream (SSE), as they arrive."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self._api = api
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async with self._api.stream(
            "GET", "/api/v1/events", params={"chargePointId": CP}, timeout=None
        ) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line.removeprefix("data:"))
                    if event["type"].startswith("alert."):
                        self._events.put_nowait(event)

    async def open(self, csms: RunningCsms) -> None:
        self._task = asyncio.create_task(self._read())
        async with asyncio.timeout(5):
            await csms.system.services.events.wait_for_subscriber()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def next(self, type_: str, name: str) -> dict[str, Any]:
        """The next event of this type and alert name (others of the same burst are kept)."""
        kept: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(10):
                while True:
                    event = await self._events.get()
                    if event["type"] == type_ and event["name"] == name:
                        return event
                    kept.append(event)
        finally:
            for event in kept:
                self._events.put_nowait(event)


async def _alert(api: httpx.AsyncClient, alert_id: int) -> dict[str, Any]:
    response = await api.get(f"/api/v1/alerts/{alert_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_faults_and_disconnections_raise_and_resolve_alerts(
    monitored: RunningCsms,
) -> None:
    csms = monitored
    await csms.register(CP)
    api = csms.api()
    stream = AlertStream(csms.api())
    await stream.open(csms)
    sim = ChargePoint16Simulator(
        CP, csms.ocpp_url, connectors=1, reconnect_initial=0.1, reconnect_max=0.5
    )
    await sim.start()
    try:
        await sim.wait_booted(timeout=5)
        await sim.status_notification(1, "Faulted", "GroundFailure", vendor_error_code="E-17")
        faulted = await stream.next("alert.triggered", "FAULTED")
        assert (faulted["chargePointId"], faulted["evseId"], faulted["connectorId"]) == (CP, 1, 1)
        assert (faulted["status"], faulted["urgency"], faulted["category"]) == (
            "Triggered",
            "high",
            "hardware",
        )
        ground = await stream.next("alert.triggered", "GROUND_FAILURE")
        vendor = await stream.next("alert.triggered", "VENDOR_ERROR_CODE")
        listed = await api.get("/api/v1/alerts", params={"chargePointId": CP})
        items = listed.json()["data"]["items"]
        assert [a["id"] for a in items] == [vendor["id"], ground["id"], faulted["id"]]
        assert items[2]["details"]["errorCode"] == "GroundFailure"
        assert items[0]["details"]["vendorErrorCode"] == "E-17"

        await sim.status_notification(1, "Available")
        for name, alert in (("FAULTED", faulted), ("GROUND_FAILURE", ground)):
            resolved = await stream.next("alert.resolved", name)
            assert resolved["id"] == alert["id"]
        await stream.next("alert.resolved", "VENDOR_ERROR_CODE")
        stored = await _alert(api, faulted["id"])
        assert stored["status"] == "Resolved" and stored["resolvedAt"] is not None
        assert stored["resolvedBy"] is None  # its cause went away

        sim.go_offline()
        await sim.wait_disconnected(timeout=5)
        offline = await stream.next("alert.triggered", "CHARGER_DISCONNECTED")
        assert (offline["evseId"], offline["urgency"]) == (None, "high")
        assert (await _alert(api, offline["id"]))["status"] == "Triggered"
        sim.go_online()
        await sim.wait_connected(timeout=5)
        back = await stream.next("alert.resolved", "CHARGER_DISCONNECTED")
        assert back["id"] == offline["id"]
        assert (await _alert(api, offline["id"]))["status"] == "Resolved"
        open_now = await api.get("/api/v1/alerts", params={"status": ["Triggered", "Acknowledged"]})
        assert open_now.json()["data"]["items"] == []
    finally:
        await sim.stop()
        await stream.close()
