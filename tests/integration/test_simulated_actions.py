"""Every operator action against the bundled 1.6 and 2.0.1 simulators, which act on them as real
chargers would: what the charger received, what the API answered, what happened next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.services.events import Subscription
from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.conftest import RunningCsms

Simulator = ChargePoint16Simulator | ChargePoint201Simulator


@dataclass
class Station:
    cp_id: str
    version: str
    sim: Simulator
    events: Subscription


@pytest.fixture(params=["1.6", "2.0.1"])
async def station(request: pytest.FixtureRequest, csms: RunningCsms) -> AsyncIterator[Station]:
    version: str = request.param
    cp_id = "SIM16-ACT" if version == "1.6" else "SIM201-ACT"
    await csms.register(cp_id, password="sim-password-123")
    await csms.add_id_tag("SIM-TAG")
    sim: Simulator
    if version == "1.6":
        sim = ChargePoint16Simulator(
            cp_id,
            csms.ocpp_url,
            "sim-password-123",
            connectors=2,
            reconnect_initial=0.1,
            reconnect_max=0.5,
        )
    else:
        sim = ChargePoint201Simulator(
            cp_id,
            csms.ocpp_url,
            "sim-password-123",
            evses=2,
            reconnect_initial=0.1,
            reconnect_max=0.5,
        )
    sim.job_step_seconds = 0.05
    async with csms.system.services.events.subscribe(cp_id) as events:
        await sim.start()
        await sim.wait_booted(timeout=5)
        yield Station(cp_id, version, sim, events)
        await sim.stop()


async def next_event(station: Station, type_: str, **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            event = await station.events.get()
            if event.type == type_ and all(event.data.get(k) == v for k, v in match.items()):
                return dict(event.data)


async def act(
    csms: RunningCsms,
    station: Station,
    action: str,
    body: dict[str, Any],
    expect_call: dict[str, str],
    expect_status: str | None,
) -> dict[str, Any]:
    """Run the action; check the charger got the expected OCPP call and the API its answer."""
    seen = len(station.sim.received)
    response = await csms.api().post(
        f"/api/v1/charge-points/{station.cp_id}/actions/{action}", json=body
    )
    assert response.status_code == 200, (action, response.text)
    data: dict[str, Any] = response.json()["data"]
    ocpp_action = expect_call[station.version]
    payload = await station.sim.wait_for_call(ocpp_action, timeout=5, since=seen)
    assert data["ocppAction"] == ocpp_action
    assert data["status"] == expect_status, (action, data)
    data["received"] = payload
    return data


def same(action: str) -> dict[str, str]:
    return {"1.6": action, "2.0.1": action}


async def test_every_action(csms: RunningCsms, station: Station) -> None:
    sim, v16 = station.sim, station.version == "1.6"

    # Configuration: read all, then change the heartbeat interval.
    await act(
        csms,
        station,
        "get-configuration",
        {},
        {"1.6": "GetConfiguration", "2.0.1": "GetBaseReport"},
        None if v16 else "Accepted",
    )
    configuration = (
        await csms.api().get(f"/api/v1/charge-points/{station.cp_id}/configuration")
    ).json()["data"]
    stored = configuration["keys"] if v16 else configuration["variables"]
    assert any((item.get("key") or item.get("variable")) == "HeartbeatInterval" for item in stored)
    await act(
        csms,
        station,
        "set-configuration",
        {"name": "HeartbeatInterval", "value": "120", "componentName": "OCPPCommCtrlr"},
        {"1.6": "ChangeConfiguration", "2.0.1": "SetVariables"},
        "Accepted",
    )
    assert sim.heartbeat_interval == 120

    await act(
        csms, station, "trigger-message", {"type": "Heartbeat"}, same("TriggerMessage"), "Accepted"
    )

    # Availability: the charger reports the connector's new state.
    await act(
        csms,
        station,
        "change-availability",
        {"type": "Inoperative", "evseId": 2},
        same("ChangeAvailability"),
        "Accepted",
    )
    await next_event(station, "connector.status", evseId=2, status="Unavailable")
    await act(
        csms,
        station,
        "change-availability",
        {"type": "Operative", "evseId": 2},
        same("ChangeAvailability"),
        "Accepted",
    )
    await next_event(station, "connector.status", evseId=2, status="Available")

    # Reservation, made and cancelled.
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await act(
        csms,
        station,
        "reserve",
        {"idTag": "SIM-TAG", "expiryDate": expiry, "evseId": 2, "reservationId": 11},
        same("ReserveNow"),
        "Accepted",
    )
    await act(
        csms,
        station,
        "cancel-reservation",
        {"reservationId": 11},
        same("CancelReservation"),
        "Accepted",
    )

    # A remote session with a charging profile on it, then a remote stop.
    await act(
        csms,
        station,
        "start",
        {"idTag": "SIM-TAG", "evseId": 1},
        {"1.6": "RemoteStartTransaction", "2.0.1": "RequestStartTransaction"},
        "Accepted",
    )
    started = await next_event(station, "transaction.started")
    tx_id = started["transactionId"]
    profile = {
        "chargingProfileId": 5,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": tx_id,
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3680}],
        },
    }
    await act(
        csms,
        station,
        "set-charging-profile",
        {"evseId": 1, "chargingProfile": profile},
        same("SetChargingProfile"),
        "Accepted",
    )
    composite = await act(
        csms,
        station,
        "get-composite-schedule",
        {"evseId": 1, "duration": 600, "chargingRateUnit": "W"},
        same("GetCompositeSchedule"),
        "Accepted",
    )
    assert composite["response"]["status"] == "Accepted"
    await act(
        csms,
        station,
        "stop",
        {"transactionId": tx_id},
        {"1.6": "RemoteStopTransaction", "2.0.1": "RequestStopTransaction"},
        "Accepted",
    )
    ended = await next_event(station, "transaction.ended", transactionId=tx_id)
    assert ended["stopReason"] == "Remote"
    # Nothing left to clear: the TxProfile ended with its transaction.
    await act(csms, station, "clear-charging-profile", {}, same("ClearChargingProfile"), "Unknown")

    await act(
        csms,
        station,
        "unlock-connector",
        {"evseId": 1, "connectorId": 1},
        same("UnlockConnector"),
        "Unlocked",
    )
    await act(
        csms,
        station,
        "send-local-list",
        {"listVersion": 4, "updateType": "Full", "idTags": [{"idTag": "SIM-TAG"}]},
        same("SendLocalList"),
        "Accepted",
    )
    version = await act(
        csms, station, "get-local-list-version", {}, same("GetLocalListVersion"), None
    )
    assert version["response"].get("listVersion", version["response"].get("versionNumber")) == 4
    await act(csms, station, "clear-cache", {}, same("ClearCache"), "Accepted")
    await act(
        csms,
        station,
        "data-transfer",
        {"vendorId": "com.example"},
        same("DataTransfer"),
        "UnknownVendorId",
    )

    # Diagnostics / log upload: the status sequence lands on the charge point.
    await act(
        csms,
        station,
        "get-diagnostics",
        {"location": "ftp://logs.example/"},
        {"1.6": "GetDiagnostics", "2.0.1": "GetLog"},
        None if v16 else "Accepted",
    )
    # Firmware: the status walk, a reboot into the new version, then Installed.
    boots = sim.boot_count
    await act(
        csms,
        station,
        "update-firmware",
        {"url": "https://fw.example/sim-2.0.bin"},
        same("UpdateFirmware"),
        None if v16 else "Accepted",
    )
    await next_event(station, "firmware.status", status="Installed")
    assert sim.boot_count == boots + 1
    detail = (await csms.api().get(f"/api/v1/charge-points/{station.cp_id}")).json()["data"]
    assert detail["bootInfo"]["firmwareVersion"] == "sim-2.0"
    assert detail["firmwareStatus"] == "Installed"
    assert detail["diagnosticsStatus"] == "Uploaded"

    # Reset: a hard one reboots at once.
    await act(csms, station, "reset", {"type": "Hard"}, same("Reset"), "Accepted")
    await next_event(station, "charger.disconnected")
    await next_event(station, "charger.connected")
    await sim.wait_booted(timeout=10)
    assert sim.boot_count == boots + 2

    # Disconnect: the socket closes, the charger comes back by itself.
    response = await csms.api().post(
        f"/api/v1/charge-points/{station.cp_id}/actions/disconnect", json={"reason": "test"}
    )
    assert response.status_code == 200
    await next_event(station, "charger.disconnected")
    await next_event(station, "charger.connected")

    trail = (
        await csms.api().get(
            "/api/v1/commands", params={"chargePointId": station.cp_id, "limit": 100}
        )
    ).json()["data"]["items"]
    assert len(trail) == 21 and all(c["state"] == "completed" for c in trail)
