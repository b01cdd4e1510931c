"""Every way an operator action can fail, and how the API says so."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.conftest import RunningCsms
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient


async def connect(csms: RunningCsms, cp_id: str, version: str = "1.6") -> RawClient:
    await csms.register(cp_id)
    client = await RawClient.connect(csms.ocpp_url, cp_id, subprotocols=[f"ocpp{version}"])
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    return client


def action_url(cp_id: str, action: str) -> str:
    return f"/api/v1/charge-points/{cp_id}/actions/{action}"


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


async def test_unknown_charger_and_unknown_action_are_404(csms: RunningCsms) -> None:
    missing = await csms.api().post(action_url("NOPE", "reset"), json={"type": "Soft"})
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    await csms.register("CP-404")
    unknown = await csms.api().post(action_url("CP-404", "explode"), json={})
    assert unknown.status_code == 404 and "explode" in error_of(unknown)["message"]


async def test_offline_charger_is_409(csms: RunningCsms) -> None:
    await csms.register("CP-OFFLINE")
    response = await csms.api().post(action_url("CP-OFFLINE", "reset"), json={"type": "Soft"})
    assert response.status_code == 409 and error_of(response)["code"] == "charger_offline"


async def test_timeout_is_504_and_recorded(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-SLOW")
    started = time.monotonic()
    response = await csms.api().post(
        action_url("CP-SLOW", "clear-cache"), json={}, params={"timeout": 0.3}
    )
    assert time.monotonic() - started < 5
    assert response.status_code == 504 and error_of(response)["code"] == "charger_timeout"
    assert (await client.recv())[2] == "ClearCache"  # it was sent, just never answered
    trail = await csms.api().get("/api/v1/commands", params={"chargePointId": "CP-SLOW"})
    record = trail.json()["data"]["items"][0]
    assert record["state"] == "failed" and record["error"]["code"] == "charger_timeout"
    await client.close()


async def test_charger_callerror_is_502_with_its_code(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-ERR")
    request = asyncio.create_task(
        csms.api().post(action_url("CP-ERR", "unlock-connector"), json={"connectorId": 1})
    )
    call = await client.recv()
    await client.send_raw(json.dumps([4, call[1], "NotSupported", "fixed cable", {"x": 1}]))
    response = await request
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "charger_error"
    assert error["details"]["code"] == "NotSupported"
    assert error["details"]["description"] == "fixed cable"
    await client.close()


async def test_actions_a_version_lacks_are_400_not_supported(csms: RunningCsms) -> None:
    old = await connect(csms, "CP-OLD", "1.6")
    new = await connect(csms, "CS-NEW", "2.0.1")
    api = csms.api()
    trigger = await api.post(
        action_url("CP-OLD", "trigger-message"), json={"type": "TransactionEvent"}
    )
    assert trigger.status_code == 400 and error_of(trigger)["code"] == "not_supported"
    raw = await api.post(
        "/api/v1/charge-points/CP-OLD/call/GetVariables", json={"getVariableData": []}
    )
    assert raw.status_code == 400 and error_of(raw)["code"] == "not_supported"
    raw201 = await api.post(
        "/api/v1/charge-points/CS-NEW/call/RemoteStartTransaction", json={"idTag": "X"}
    )
    assert raw201.status_code == 400
    # Nothing reached either charger.
    for client in (old, new):
        with pytest.raises(TimeoutError):
            await client.recv(timeout=0.2)
        await client.close()


async def test_bad_bodies_are_422_and_never_sent(csms: RunningCsms) -> None:
    old = await connect(csms, "CP-422", "1.6")
    new = await connect(csms, "CS-422", "2.0.1")
    api = csms.api()
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("CP-422", "start", {}),
        ("CP-422", "reset", {"type": "Gentle"}),
        ("CP-422", "start", {"idTag": "A", "surprise": 1}),
        (
            "CP-422",
            "set-charging-profile",
            {
                "evseId": 1,
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
                    },
                },
            },
        ),
        (
            "CP-422",
            "set-charging-profile",
            {
                "evseId": 0,
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.25}],
                    },
                },
            },
        ),
        (
            "CP-422",
            "set-charging-profile",
            {
                "evseId": 0,
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 60, "limit": 16}],
                    },
                },
            },
        ),
        ("CP-422", "stop", {"transactionId": "not-a-number"}),
        ("CS-422", "set-configuration", {"name": "HeartbeatInterval", "value": "60"}),
        ("CS-422", "get-configuration", {"keys": ["HeartbeatInterval"]}),
        ("CS-422", "trigger-message", {"type": "StatusNotification"}),
        ("CS-422", "unlock-connector", {"connectorId": 1}),
    ]
    for cp_id, action, body in cases:
        response = await api.post(action_url(cp_id, action), json=body)
        assert response.status_code == 422, (action, body, response.text)
        assert error_of(response)["code"] == "validation_error"
    raw = await api.post(
        "/api/v1/charge-points/CP-422/call/ChangeConfiguration", json={"key": "HeartbeatInterval"}
    )
    assert raw.status_code == 422
    assert "value" in error_of(raw)["message"]  # names the violation
    for client in (old, new):
        with pytest.raises(TimeoutError):
            await client.recv(timeout=0.2)
        await client.close()


async def test_roles(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-ROLES")
    anonymous = await csms.api(token=None).post(action_url("CP-ROLES", "clear-cache"), json={})
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthorized"
    viewer = await csms.api("viewer").post(action_url("CP-ROLES", "clear-cache"), json={})
    assert viewer.status_code == 403 and error_of(viewer)["code"] == "forbidden"
    raw = await csms.api("viewer").post("/api/v1/charge-points/CP-ROLES/call/ClearCache", json={})
    assert raw.status_code == 403
    assert (await csms.api("viewer").get("/api/v1/commands")).status_code == 200
    with pytest.raises(TimeoutError):
        await client.recv(timeout=0.2)
    await client.close()


async def test_asynchronous_mode(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-ASYNC")
    async with csms.system.services.events.subscribe("CP-ASYNC") as events:
        response = await csms.api().post(
            action_url("CP-ASYNC", "clear-cache"), json={}, params={"wait": "false"}
        )
        assert response.status_code == 202
        data = response.json()["data"]
        assert data["status"] == "pending"
        pending = (await csms.api().get(f"/api/v1/commands/{data['commandId']}")).json()["data"]
        assert pending["state"] == "pending"
        call = await client.recv()
        await client.send_raw(json.dumps([3, call[1], {"status": "Accepted"}]))
        async with asyncio.timeout(5):
            while (event := await events.get()).type != "command.completed":
                pass
    assert event.data["commandId"] == data["commandId"] and event.data["status"] == "Accepted"
    done = (await csms.api().get(f"/api/v1/commands/{data['commandId']}")).json()["data"]
    assert done["state"] == "completed" and done["response"] == {"status": "Accepted"}
    await client.close()


async def test_a_disconnect_fails_the_command_at_once(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-DROP")
    started = time.monotonic()
    request = asyncio.create_task(
        csms.api().post(
            action_url("CP-DROP", "reset"), json={"type": "Hard"}, params={"timeout": 60}
        )
    )
    await client.recv()
    await client.close()
    response = await request
    assert time.monotonic() - started < 10
    assert response.status_code == 409 and error_of(response)["code"] == "charger_offline"


async def test_an_answer_sent_just_before_the_charger_closes_still_counts(
    csms: RunningCsms,
) -> None:
    """A charger answers a Reset and closes to reboot while the server is still busy with a
    call of its own: the server's answer to that call cannot go out any more, but the Reset's
    answer, already received, must not be lost (it used to fail as charger_offline)."""
    client = await connect(csms, "CP-REBOOT")
    request = asyncio.create_task(
        csms.api().post(action_url("CP-REBOOT", "reset"), json={"type": "Hard"})
    )
    reset = await client.recv()
    assert reset[2] == "Reset"
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    await client.send_raw(json.dumps([2, "status-1", "StatusNotification", status]))
    await client.send_raw(json.dumps([3, reset[1], {"status": "Accepted"}]))
    await client.close()
    response = await request
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "Accepted"


async def test_disconnect_action_closes_the_socket(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-BYE")
    response = await csms.api().post(
        action_url("CP-BYE", "disconnect"), json={"reason": "maintenance"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["ocppAction"] is None
    async with asyncio.timeout(5):
        await client.ws.wait_closed()
    assert client.ws.close_reason == "maintenance"


async def test_a_pending_charger_gets_only_what_the_spec_allows(csms: RunningCsms) -> None:
    await csms.register("CS-PEND")
    await csms.api().patch("/api/v1/charge-points/CS-PEND", json={"registrationStatus": "Pending"})
    client = await RawClient.connect(csms.ocpp_url, "CS-PEND", subprotocols=["ocpp2.0.1"])
    assert (await client.result("BootNotification", BOOT_201))["status"] == "Pending"
    refused = await csms.api().post(action_url("CS-PEND", "start"), json={"idTag": "T"})
    assert refused.status_code == 409 and error_of(refused)["code"] == "conflict"
    # Reading its variables is allowed while Pending (B02.FR.01).
    request = asyncio.create_task(
        csms.api().post(
            action_url("CS-PEND", "get-configuration"),
            json={"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]},
        )
    )
    call = await client.recv()
    assert call[2] == "GetVariables"
    await client.send_raw(
        json.dumps(
            [
                3,
                call[1],
                {
                    "getVariableResult": [
                        {
                            "attributeStatus": "Accepted",
                            "attributeValue": "60",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            ]
        )
    )
    assert (await request).status_code == 200
    await client.close()


async def test_no_boot_trigger_once_accepted(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-TRIG")
    response = await csms.api().post(
        action_url("CP-TRIG", "trigger-message"), json={"type": "BootNotification"}
    )
    assert response.status_code == 409
    await client.close()
