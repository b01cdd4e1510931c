"""The site tree end to end: real server, real simulators, the counts following what they do."""

from __future__ import annotations

import asyncio
from typing import Any

from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.conftest import RunningCsms


def counts(node: dict[str, Any]) -> tuple[int, int, int]:
    return node["onlineSocket"], node["offlineSocket"], node["errorSocket"]


async def test_the_tree_follows_status_notifications_and_disconnects(csms: RunningCsms) -> None:
    api = csms.api()
    for url, body in (
        ("/api/v1/networks", {"id": "city", "name": "City"}),
        ("/api/v1/sites", {"id": "depot", "name": "Depot", "networkId": "city"}),
        ("/api/v1/sites", {"id": "bay", "name": "Bay", "parentSiteId": "depot", "type": "area"}),
    ):
        assert (await api.post(url, json=body)).status_code == 201
    await csms.register("TREE-16", siteId="depot")
    await csms.register("TREE-201", siteId="bay")
    await csms.register("TREE-IDLE", siteId="bay")  # registered, never connects: no sockets

    async def tree() -> dict[str, Any]:
        response = await api.get("/api/v1/site-tree", params={"networkId": "city"})
        assert response.status_code == 200, response.text
        node: dict[str, Any] = response.json()["data"][0]
        return node

    v16 = ChargePoint16Simulator("TREE-16", csms.ocpp_url, connectors=2, auto=False)
    v201 = ChargePoint201Simulator("TREE-201", csms.ocpp_url, evses=2, auto=False)
    await v16.start()
    await v201.start()
    try:
        await v16.wait_booted(timeout=5)
        await v201.wait_booted(timeout=5)
        # The boot-time StatusNotifications are in flight: wait for them, bounded.
        for _ in range(100):
            if counts(await tree()) == (4, 0, 0):
                break
            await asyncio.sleep(0.05)
        network = await tree()
        depot = network["subgroups"][0]
        bay = depot["subgroups"][0]
        assert depot["chargers"] == ["TREE-16"]
        assert bay["chargers"] == ["TREE-201", "TREE-IDLE"]
        assert (counts(network), counts(depot), counts(bay)) == ((4, 0, 0), (4, 0, 0), (2, 0, 0))

        # Acknowledged means visible: the very next read shows each change.
        await v16.status_notification(1, "Faulted", error_code="GroundFailure")
        assert counts(await tree()) == (3, 0, 1)
        await v201.status_notification(2, "Faulted")
        assert counts((await tree())["subgroups"][0]["subgroups"][0]) == (1, 0, 1)
        await v16.status_notification(1, "Available")
        assert counts(await tree()) == (3, 0, 1)
    finally:
        await v201.stop()
    # A disconnect shows once the server has seen the close (bounded wait).
    for _ in range(100):
        if counts(await tree()) == (2, 2, 0):
            break
        await asyncio.sleep(0.05)
    assert counts(await tree()) == (2, 2, 0)
    await v16.stop()
