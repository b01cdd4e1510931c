"""Load management end to end: a circuit, simulated chargers of both versions, the limits they
accept, and the shares following sessions that start and stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from csms.config import LoadManagementSettings
from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms

TAG = "LM-TAG"


async def _allocation(api: httpx.AsyncClient, circuit: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/circuits/{circuit}/allocation")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _settled(
    api: httpx.AsyncClient, circuit: str, expected: dict[str, float], seconds: float = 8.0
) -> dict[str, Any]:
    """The allocation once every session has the limit expected (by chargePointId), bounded."""
    view: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        view = await _allocation(api, circuit)
        got = {
            s["chargePointId"]: s["allocatedA"]
            for s in view["sessions"]
            if s["profile"] and s["profile"]["status"] == "Accepted"
        }
        if got == expected:
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"allocation never became {expected}: {view}")


async def test_sessions_share_a_circuit_by_priority_and_take_back_what_a_stop_frees(
    csms: RunningCsms,
) -> None:
    api = csms.api()
    await csms.add_id_tag(TAG)
    for cp_id in ("LM-A", "LM-B", "LM-C"):
        await csms.register(cp_id)
    circuit = {"id": "garage", "name": "Garage", "phases": "three_phase", "maxCurrent": 32}
    assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
    for cp_id, priority in (("LM-A", 1), ("LM-B", 1), ("LM-C", 2)):
        response = await api.post(
            "/api/v1/circuits/garage/attach-charge-point",
            json={"chargePointId": cp_id, "priority": priority},
        )
        assert response.status_code == 200, response.text

    a = ChargePoint16Simulator("LM-A", csms.ocpp_url, connectors=1, limit_delay=0)
    b = ChargePoint16Simulator("LM-B", csms.ocpp_url, connectors=1, limit_delay=0)
    c = ChargePoint201Simulator("LM-C", csms.ocpp_url, evses=1, limit_delay=0)
    sims = (a, b, c)
    for sim in sims:
        await sim.start()
    try:
        for sim in sims:
            await sim.wait_booted(timeout=5)
        tx_a = await a.start_transaction(connector_id=1, id_tag=TAG, meter_start=0)
        await _settled(api, "garage", {"LM-A": 32.0})
        await b.start_transaction(connector_id=1, id_tag=TAG, meter_start=0)
        await _settled(api, "garage", {"LM-A": 16.0, "LM-B": 16.0})
        tx_c = await c.start_transaction(evse_id=1, id_token=TAG, meter_start_wh=0)
        view = await _settled(api, "garage", {"LM-A": 8.0, "LM-B": 8.0, "LM-C": 16.0})
        assert view["allocated"] == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
        assert {s["state"] for s in view["sessions"]} == {"charging"}

        # Every charger got the 0 A TxDefaultProfile and TxProfiles bound to its transaction.
        for sim in sims:
            calls = [p for action, p in sim.received if action == "SetChargingProfile"]
            assert calls, sim.identity
        await c.stop_transaction(tx_c, energy_wh=100)
        await _settled(api, "garage", {"LM-A": 16.0, "LM-B": 16.0})
        await a.stop_transaction(tx_a, meter_stop=100)
        await _settled(api, "garage", {"LM-B": 32.0})
    finally:
        for sim in sims:
            await sim.stop()
    commands = (await api.get("/api/v1/commands", params={"chargePointId": "LM-B"})).json()
    actors = {item["requestedBy"] for item in commands["data"]["items"]}
    assert actors == {"loadmanagement"}


async def test_a_building_load_on_the_meter_is_left_free_and_a_silent_meter_holds_the_reserve(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "csms.db").model_copy(
        update={"loadmanagement": LoadManagementSettings(meter_timeout_s=1.0)}
    )
    running = await start_csms(settings)
    api = running.api()
    try:
        await running.add_id_tag(TAG)
        await running.register("LM-M")
        circuit = {
            "id": "house",
            "name": "House",
            "phases": "three_phase",
            "maxCurrent": 32,
            "offlineReservedCurrent": 4,
        }
        assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
        attach = {"chargePointId": "LM-M"}
        assert (
            await api.post("/api/v1/circuits/house/attach-charge-point", json=attach)
        ).status_code == 200
        sim = ChargePoint16Simulator("LM-M", running.ocpp_url, connectors=1, limit_delay=0)
        await sim.start()
        try:
            await sim.wait_booted(timeout=5)
            await sim.start_transaction(connector_id=1, id_tag=TAG, meter_start=0)
            # Never reported: the reserve is held back (32 - 4).
            await _settled(api, "house", {"LM-M": 28.0})
            # The building draws 20 A on every line (the session draws nothing yet): 12 A left.
            reading = {"currentL1": 20_000, "currentL2": 20_000, "currentL3": 20_000}
            response = await api.post("/api/v1/circuits/house/report-consumption", json=reading)
            assert response.status_code == 202, response.text
            view = await _settled(api, "house", {"LM-M": 12.0})
            assert view["uncontrolled"] == {"L1": 20.0, "L2": 20.0, "L3": 20.0}
            # The meter goes silent: after the timeout, the reserve again, with nothing else
            # happening.
            await _settled(api, "house", {"LM-M": 28.0}, seconds=4.0)
            bad = {"currentL1": -1, "currentL2": 0, "currentL3": 0}
            refused = await api.post("/api/v1/circuits/house/report-consumption", json=bad)
            assert refused.status_code == 422 and "currentL1" in refused.text
        finally:
            await sim.stop()
    finally:
        await stop_csms(running)


EVSE_MAX_A = 16.0  # the refusing charger's EVSE: what is held back for it


def _session(view: dict[str, Any], cp_id: str) -> dict[str, Any]:
    return next(s for s in view["sessions"] if s["chargePointId"] == cp_id)


async def _until(
    api: httpx.AsyncClient, circuit: str, check: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The allocation once ``check`` holds, bounded (10 s)."""
    view: dict[str, Any] = {}
    for _ in range(100):
        view = await _allocation(api, circuit)
        if check(view):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {what}: {view}")


async def test_a_charger_that_refuses_profiles_is_held_back_at_its_maximum_and_the_other_follows(
    csms: RunningCsms,
) -> None:
    api = csms.api()
    await csms.add_id_tag(TAG)
    unmanaged: list[tuple[str | None, dict[str, Any]]] = []
    csms.system.services.events.listen(
        "loadmanagement.unmanaged", lambda cp_id, data: unmanaged.append((cp_id, dict(data)))
    )
    for cp_id in ("LM-U", "LM-S"):
        await csms.register(cp_id)
    power = {"powerOptions": {"maxAmperage": EVSE_MAX_A}}
    response = await api.patch("/api/v1/charge-points/LM-U/evses/1", json=power)
    assert response.status_code == 200, response.text
    circuit = {"id": "yard", "name": "Yard", "phases": "three_phase", "maxCurrent": 32}
    assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
    for cp_id in ("LM-U", "LM-S"):
        response = await api.post(
            "/api/v1/circuits/yard/attach-charge-point", json={"chargePointId": cp_id}
        )
        assert response.status_code == 200, response.text

    # Both cars could take 32 A; LM-U's outlet is rated 16 A (its EVSE's maximum), LM-S's 32 A.
    options: dict[str, Any] = {"meter_interval": 0.5, "session_seconds": 120, "limit_delay": 1.0}
    refusing = ChargePoint16Simulator(
        "LM-U", csms.ocpp_url, connectors=1, power_w=11040, smart_charging=False, **options
    )
    accepting = ChargePoint201Simulator("LM-S", csms.ocpp_url, evses=1, power_w=22080, **options)
    sims = (refusing, accepting)
    for sim in sims:
        await sim.start()
    try:
        for sim in sims:
            await sim.wait_booted(timeout=5)
        # The 0 A TxDefaultProfile, refused: LM-U is unmanaged before any session.
        for _ in range(100):  # bounded: 10 s, a busy machine's boot and first allocation
            if unmanaged:
                break
            await asyncio.sleep(0.1)
        assert unmanaged == [("LM-U", {"reason": "TxDefaultProfile refused"})]
        # ... and raises a PROFILE_REJECTED alert (written by the alert service's own task).
        alerts: list[dict[str, Any]] = []
        for _ in range(50):
            response = await api.get("/api/v1/alerts", params={"name": "PROFILE_REJECTED"})
            alerts = response.json()["data"]["items"]
            if alerts:
                break
            await asyncio.sleep(0.1)
        assert [(a["chargePointId"], a["status"]) for a in alerts] == [("LM-U", "Triggered")]
        refusing.start_session(1, TAG)
        accepting.start_session(1, TAG)

        # LM-U's 16 A are held back: LM-S gets the other 16 A of the 32 A circuit.
        await _settled(api, "yard", {"LM-S": 32.0 - EVSE_MAX_A})
        view = await _until(api, "yard", lambda v: len(v["sessions"]) == 2, "both sessions")
        u = _session(view, "LM-U")
        assert (u["state"], u["allocatedA"], u["profile"]) == ("unmanaged", 0.0, None)
        assert _session(view, "LM-S")["state"] == "charging"
        assert view["allocated"] == dict.fromkeys(("L1", "L2", "L3"), 32.0 - EVSE_MAX_A)
        assert all(amps + EVSE_MAX_A <= view["maxCurrent"] for amps in view["allocated"].values())
        # LM-U was never sent a TxProfile, and it ignores limits: its car takes all 16 A.
        purposes = {
            p["csChargingProfiles"]["chargingProfilePurpose"]
            for action, p in refusing.received
            if action == "SetChargingProfile"
        }
        assert purposes == {"TxDefaultProfile"}

        # Within the car's delay and a few samples, LM-S draws its limit, and reports it.
        limit = float(_session(view, "LM-S")["allocatedA"])
        outlet = accepting.evse(1).outlet

        def followed(now: dict[str, Any]) -> bool:
            _, draw = outlet.followed()
            measured = float(_session(now, "LM-S")["measuredA"])
            return abs(measured - limit) <= 1.0 and abs(draw.current_a - limit) <= 1.0

        await _until(api, "yard", followed, f"LM-S drawing its {limit} A")
        # LM-U ignores limits: its car takes all its outlet's 16 A; both together fit.
        assert refusing.connector(1).outlet.current_a == EVSE_MAX_A
        assert outlet.current_a + EVSE_MAX_A <= view["maxCurrent"] + 0.05
    finally:
        for sim in sims:
            await sim.stop()
