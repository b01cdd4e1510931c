"""Load management on a circuit whose chargers sit on different nodes (ADR 013), with the
real PostgreSQL and NATS of this machine and the bundled simulators: the one allocator of the
cluster shares the breaker between both sessions, and its profiles reach the charger on the
other node through the command routing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.cluster.conftest import StartNodes
from tests.conftest import RunningCsms

TAG = "LM-TAG"


@pytest.fixture
async def two_nodes(start_nodes: StartNodes) -> tuple[RunningCsms, ...]:
    return await start_nodes("n1", "n2", node_timeout_s=1.0)


def _leader(nodes: tuple[RunningCsms, ...]) -> RunningCsms | None:
    leading = [n for n in nodes if n.system.services.load_manager._leading]
    return leading[0] if len(leading) == 1 else None


async def _settled(node: RunningCsms, expected: dict[str, float]) -> dict[str, Any]:
    """The leader's allocation once every session has its expected limit, accepted (8 s)."""
    view: dict[str, Any] = {}
    async with node.api() as api:
        for _ in range(80):
            view = (await api.get("/api/v1/circuits/garage/allocation")).json()["data"]
            got = {
                s["chargePointId"]: s["allocatedA"]
                for s in view["sessions"]
                if s["profile"] and s["profile"]["status"] == "Accepted"
            }
            if got == expected:
                return view
            await asyncio.sleep(0.1)
    raise AssertionError(f"allocation never became {expected}: {view}")


async def test_one_allocator_shares_a_circuit_between_chargers_on_two_nodes(
    two_nodes: tuple[RunningCsms, ...],
) -> None:
    n1, n2 = two_nodes
    await n1.add_id_tag(TAG)
    for cp_id in ("LM-A", "LM-B"):
        await n1.register(cp_id)
    async with n2.api() as api:  # made through one node, attached through the other
        circuit = {"id": "garage", "name": "Garage", "phases": "three_phase", "maxCurrent": 32}
        assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
    async with n1.api() as api:
        for cp_id in ("LM-A", "LM-B"):
            attach = {"chargePointId": cp_id}
            response = await api.post("/api/v1/circuits/garage/attach-charge-point", json=attach)
            assert response.status_code == 200, response.text
    a = ChargePoint16Simulator("LM-A", n1.ocpp_url, connectors=1, limit_delay=0)
    b = ChargePoint201Simulator("LM-B", n2.ocpp_url, evses=1, limit_delay=0)
    for sim in (a, b):
        await sim.start()
    try:
        for sim in (a, b):
            await sim.wait_booted(timeout=5)
        for _ in range(100):
            if (leader := _leader(two_nodes)) is not None:
                break
            await asyncio.sleep(0.05)
        assert leader is not None, "no single allocator"
        await a.start_transaction(connector_id=1, id_tag=TAG, meter_start=0)
        await _settled(leader, {"LM-A": 32.0})
        await b.start_transaction(evse_id=1, id_token=TAG, meter_start_wh=0)
        view = await _settled(leader, {"LM-A": 16.0, "LM-B": 16.0})
        assert view["allocated"] == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
        # Each charger, on its own node, got its share as a profile.
        for sim in (a, b):
            assert any(action == "SetChargingProfile" for action, _ in sim.received), sim.identity
        # A priority changed through the node that does not allocate reaches the one that does.
        other = n2 if leader is n1 else n1
        async with other.api() as api:
            body = {"chargePointId": "LM-B", "priority": 3}
            response = await api.post(
                "/api/v1/circuits/garage/set-charge-point-priority", json=body
            )
            assert response.status_code == 200, response.text
        await _settled(leader, {"LM-A": 8.0, "LM-B": 24.0})
        # Any node answers with the allocating node's view (the limits the chargers accepted).
        await _settled(other, {"LM-A": 8.0, "LM-B": 24.0})
    finally:
        for sim in (a, b):
            await sim.stop()
