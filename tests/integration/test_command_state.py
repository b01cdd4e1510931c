"""What the central system remembers because a charger accepted a command, and how operators see
it happen (events, metrics)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.conftest import RunningCsms
from tests.integration.test_command_errors import action_url, connect, error_of
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.integration.test_v201_messages import iso
from tests.ocpp_client import RawClient


async def answer_next(client: RawClient, payload: dict[str, Any]) -> list[Any]:
    call = await client.recv()
    await client.send_raw(json.dumps([3, call[1], payload]))
    return call


async def act(
    csms: RunningCsms,
    client: RawClient,
    cp_id: str,
    action: str,
    body: dict[str, Any],
    answer: dict[str, Any],
) -> tuple[list[Any], dict[str, Any]]:
    request = asyncio.create_task(csms.api().post(action_url(cp_id, action), json=body))
    call = await answer_next(client, answer)
    response = await request
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return call, data


@pytest.mark.parametrize("accepted", [True, False])
async def test_1_6_authorization_key_rotation(csms: RunningCsms, accepted: bool) -> None:
    """TC_073: the hex AuthorizationKey becomes the password once Accepted; else the old stays."""
    await csms.register("CP-KEY", password="old-password-123")
    client = await RawClient.connect(csms.ocpp_url, "CP-KEY", password="old-password-123")
    await client.boot()
    new_key = bytes(range(0xE0, 0xF4))  # 20 bytes, not valid UTF-8
    call, data = await act(
        csms,
        client,
        "CP-KEY",
        "set-configuration",
        {"name": "AuthorizationKey", "value": new_key.hex()},
        {"status": "Accepted" if accepted else "Rejected"},
    )
    assert call[3] == {"key": "AuthorizationKey", "value": new_key.hex()}
    await client.close()
    if accepted:
        with pytest.raises(InvalidStatus):
            await RawClient.connect(csms.ocpp_url, "CP-KEY", password="old-password-123")
        again = await RawClient.connect(csms.ocpp_url, "CP-KEY", password=new_key)
    else:
        with pytest.raises(InvalidStatus):
            await RawClient.connect(csms.ocpp_url, "CP-KEY", password=new_key)
        again = await RawClient.connect(csms.ocpp_url, "CP-KEY", password="old-password-123")
    await again.close()
    # The new key is written to the charger but kept nowhere in clear.
    record = (await csms.api().get(f"/api/v1/commands/{data['commandId']}")).json()["data"]
    assert new_key.hex() not in json.dumps(record)
    frames = (
        await csms.api().get(
            "/api/v1/ocpp-messages",
            params={"chargePointId": "CP-KEY", "action": "ChangeConfiguration"},
        )
    ).json()["data"]["items"]
    assert frames and new_key.hex() not in json.dumps(frames)
    configuration = (await csms.api().get("/api/v1/charge-points/CP-KEY/configuration")).json()[
        "data"
    ]
    assert all(k["key"] != "AuthorizationKey" for k in configuration["keys"])


async def test_2_0_1_basic_auth_password_by_raw_set_variables(csms: RunningCsms) -> None:
    """TC_A_09: SetVariables of SecurityCtrlr.BasicAuthPassword, also through the raw call."""
    await csms.register("CS-KEY", password="old-password-123")
    client = await RawClient.connect(
        csms.ocpp_url, "CS-KEY", password="old-password-123", subprotocols=["ocpp2.0.1"]
    )
    await client.result("BootNotification", BOOT_201)
    item = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    request = asyncio.create_task(
        csms.api().post(
            "/api/v1/charge-points/CS-KEY/call/SetVariables",
            json={"setVariableData": [{**item, "attributeValue": "new-password-4567890"}]},
        )
    )
    call = await answer_next(
        client, {"setVariableResult": [{**item, "attributeStatus": "Accepted"}]}
    )
    assert call[3]["setVariableData"][0]["attributeValue"] == "new-password-4567890"
    response = await request
    assert response.status_code == 200 and response.json()["data"]["status"] == "Accepted"
    await client.close()
    with pytest.raises(InvalidStatus):
        await RawClient.connect(
            csms.ocpp_url, "CS-KEY", password="old-password-123", subprotocols=["ocpp2.0.1"]
        )
    again = await RawClient.connect(
        csms.ocpp_url, "CS-KEY", password="new-password-4567890", subprotocols=["ocpp2.0.1"]
    )
    await again.close()


async def test_empty_2_0_1_get_configuration_collects_the_whole_report(
    csms: RunningCsms,
) -> None:
    client = await connect(csms, "CS-REPORT", "2.0.1")
    request = asyncio.create_task(
        csms.api().post(action_url("CS-REPORT", "get-configuration"), json={})
    )
    call = await answer_next(client, {"status": "Accepted"})
    assert call[2] == "GetBaseReport" and call[3]["reportBase"] == "FullInventory"
    request_id = call[3]["requestId"]
    await asyncio.sleep(0)
    assert not request.done()  # it waits for the report, not just for the call's answer
    now = iso(datetime.now(UTC))
    for seq_no, (component, variable, value) in enumerate(
        [("OCPPCommCtrlr", "HeartbeatInterval", "300"), ("AuthCtrlr", "Enabled", "true")]
    ):
        await client.result(
            "NotifyReport",
            {
                "requestId": request_id,
                "generatedAt": now,
                "seqNo": seq_no,
                "tbc": seq_no == 0,
                "reportData": [
                    {
                        "component": {"name": component},
                        "variable": {"name": variable},
                        "variableAttribute": [{"value": value}],
                    }
                ],
            },
        )
    response = await request
    assert response.status_code == 200 and response.json()["data"]["status"] == "Accepted"
    configuration = (await csms.api().get("/api/v1/charge-points/CS-REPORT/configuration")).json()[
        "data"
    ]
    values = {(v["component"], v["variable"]): v["value"] for v in configuration["variables"]}
    assert values == {
        ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
        ("AuthCtrlr", "Enabled"): "true",
    }
    await client.close()


async def test_1_6_configuration_is_kept_as_read_and_written(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-CONF")
    await act(
        csms,
        client,
        "CP-CONF",
        "get-configuration",
        {},
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ]
        },
    )
    await act(
        csms,
        client,
        "CP-CONF",
        "set-configuration",
        {"name": "HeartbeatInterval", "value": "60"},
        {"status": "Accepted"},
    )
    await act(
        csms,
        client,
        "CP-CONF",
        "set-configuration",
        {"name": "MeterValueSampleInterval", "value": "5"},
        {"status": "Rejected"},
    )
    keys = (await csms.api().get("/api/v1/charge-points/CP-CONF/configuration")).json()["data"][
        "keys"
    ]
    assert {(k["key"], k["value"], k["readonly"]) for k in keys} == {
        ("HeartbeatInterval", "60", False),
        ("NumberOfConnectors", "2", True),
    }
    await client.close()


async def test_charging_profiles_follow_what_the_charger_accepted(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-PROF")

    def profile(profile_id: int, purpose: str, **extra: Any) -> dict[str, Any]:
        return {
            "chargingProfileId": profile_id,
            "stackLevel": 0,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
            },
            **extra,
        }

    await act(
        csms,
        client,
        "CP-PROF",
        "set-charging-profile",
        {"evseId": 0, "chargingProfile": profile(1, "ChargePointMaxProfile")},
        {"status": "Accepted"},
    )
    await act(
        csms,
        client,
        "CP-PROF",
        "set-charging-profile",
        {"evseId": 1, "chargingProfile": profile(2, "TxDefaultProfile")},
        {"status": "Rejected"},
    )  # not applied: not kept
    tx_id = (
        await client.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(datetime.now(UTC))},
        )
    )["transactionId"]
    await act(
        csms,
        client,
        "CP-PROF",
        "set-charging-profile",
        {"evseId": 1, "chargingProfile": profile(3, "TxProfile", transactionId=tx_id)},
        {"status": "Accepted"},
    )
    listed = (await csms.api().get("/api/v1/charge-points/CP-PROF/charging-profiles")).json()[
        "data"
    ]
    assert sorted(p["chargingProfile"]["chargingProfileId"] for p in listed) == [1, 3]
    # A TxProfile ends with its transaction.
    await client.result(
        "StopTransaction",
        {"transactionId": tx_id, "meterStop": 10, "timestamp": iso(datetime.now(UTC))},
    )
    listed = (await csms.api().get("/api/v1/charge-points/CP-PROF/charging-profiles")).json()[
        "data"
    ]
    assert [p["chargingProfile"]["chargingProfileId"] for p in listed] == [1]
    await act(csms, client, "CP-PROF", "clear-charging-profile", {}, {"status": "Accepted"})
    assert (await csms.api().get("/api/v1/charge-points/CP-PROF/charging-profiles")).json()[
        "data"
    ] == []
    await client.close()


async def test_reservations_end_when_used_cancelled_or_expired(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-RES")
    later = iso(datetime.now(UTC) + timedelta(hours=1))
    await act(
        csms,
        client,
        "CP-RES",
        "reserve",
        {"idTag": "T", "expiryDate": later, "connectorId": 1, "reservationId": 1},
        {"status": "Accepted"},
    )
    await act(
        csms,
        client,
        "CP-RES",
        "reserve",
        {"idTag": "T", "expiryDate": later, "connectorId": 2, "reservationId": 2},
        {"status": "Accepted"},
    )
    await act(
        csms,
        client,
        "CP-RES",
        "reserve",
        {"idTag": "T", "expiryDate": later, "connectorId": 2, "reservationId": 3},
        {"status": "Occupied"},
    )
    await client.result(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "T",
            "meterStart": 0,
            "timestamp": iso(datetime.now(UTC)),
            "reservationId": 1,
        },
    )
    await act(
        csms, client, "CP-RES", "cancel-reservation", {"reservationId": 2}, {"status": "Accepted"}
    )
    await act(
        csms,
        client,
        "CP-RES",
        "reserve",
        {
            "idTag": "T",
            "expiryDate": iso(datetime.now(UTC) - timedelta(seconds=1)),
            "connectorId": 2,
            "reservationId": 4,
        },
        {"status": "Accepted"},
    )
    await csms.system.services.state.expire_reservations()
    listed = (await csms.api().get("/api/v1/charge-points/CP-RES/reservations")).json()["data"]
    assert {r["reservationId"]: r["status"] for r in listed} == {
        1: "used",
        2: "cancelled",
        4: "expired",
    }
    await client.close()


async def test_local_list_version_is_tracked(csms: RunningCsms) -> None:
    client = await connect(csms, "CP-LIST")
    await act(
        csms,
        client,
        "CP-LIST",
        "send-local-list",
        {"listVersion": 3, "updateType": "Full", "idTags": [{"idTag": "A"}]},
        {"status": "Accepted"},
    )
    configuration = await csms.api().get("/api/v1/charge-points/CP-LIST/configuration")
    assert configuration.json()["data"]["localListVersion"] == 3
    await act(csms, client, "CP-LIST", "get-local-list-version", {}, {"listVersion": 9})
    configuration = await csms.api().get("/api/v1/charge-points/CP-LIST/configuration")
    assert configuration.json()["data"]["localListVersion"] == 9
    await client.close()


@pytest.mark.parametrize("too_large", [2**31, 2**63])
async def test_a_local_list_version_beyond_ocpps_integer_is_refused_or_not_kept(
    csms: RunningCsms, too_large: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """OCPP's integer has 32 bits: the API refuses a larger listVersion, and a charger that
    reports one is answered as usual but its number is not kept (on both backends alike)."""
    client = await connect(csms, "CP-HUGE")
    body = {"listVersion": too_large, "updateType": "Full", "idTags": [{"idTag": "A"}]}
    refused = await csms.api().post(action_url("CP-HUGE", "send-local-list"), json=body)
    assert refused.status_code == 422, refused.text
    [error] = error_of(refused)["details"]["errors"]
    assert error["field"] == "listVersion"
    with pytest.raises(TimeoutError):  # nothing reached the charger
        await client.recv(timeout=0.2)
    await act(
        csms,
        client,
        "CP-HUGE",
        "send-local-list",
        {**body, "listVersion": 2**31 - 1},
        {"status": "Accepted"},
    )
    configuration = csms.api().get("/api/v1/charge-points/CP-HUGE/configuration")
    assert (await configuration).json()["data"]["localListVersion"] == 2**31 - 1

    capsys.readouterr()
    _, data = await act(
        csms, client, "CP-HUGE", "get-local-list-version", {}, {"listVersion": too_large}
    )
    assert data["response"] == {"listVersion": too_large}  # the answer is on record...
    configuration = csms.api().get("/api/v1/charge-points/CP-HUGE/configuration")
    # ...but no number the charger cannot hold is kept, nor the one before, now known wrong.
    assert (await configuration).json()["data"]["localListVersion"] is None
    assert "local list version out of range" in capsys.readouterr().out
    await client.close()


async def test_event_stream_and_metrics(csms: RunningCsms) -> None:
    await csms.register("CP-LIVE")
    api = csms.api()
    received: list[dict[str, Any]] = []

    async def listen() -> None:
        async with api.stream(
            "GET", "/api/v1/events", params={"chargePointId": "CP-LIVE"}
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    received.append(json.loads(line.removeprefix("data:")))
                    if received[-1]["type"] == "command.completed":
                        return

    listener = asyncio.create_task(listen())
    async with asyncio.timeout(10):
        await csms.system.services.events.wait_for_subscriber()
        client = await connect(csms, "CP-LIVE-2")  # another charger: filtered out
        live = await RawClient.connect(csms.ocpp_url, "CP-LIVE")
        await live.boot()
        await live.result(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
        )
        await act(csms, live, "CP-LIVE", "clear-cache", {}, {"status": "Accepted"})
        await listener
    types = [event["type"] for event in received]
    assert types[0] == "charger.connected"
    assert "connector.status" in types and types[-1] == "command.completed"
    assert all(event["chargePointId"] == "CP-LIVE" for event in received)
    status = next(e for e in received if e["type"] == "connector.status")
    assert status["status"] == "Preparing" and status["timestamp"].endswith("Z")

    metrics = (await csms.api(token="viewer").get("/metrics")).text
    assert 'csms_chargers_connected{ocpp_version="1.6"} 2.0' in metrics
    assert 'csms_ocpp_frames_total{action="BootNotification",direction="in"}' in metrics
    assert 'csms_commands_total{action="clear-cache",result="Accepted"} 1.0' in metrics
    assert "csms_ocpp_handler_seconds_bucket" in metrics
    assert "csms_db_write_seconds_count" in metrics
    await client.close()
    await live.close()
