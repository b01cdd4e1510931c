"""Operator actions through the HTTP API: the exact OCPP call each version's charger receives,
what the API answers, and the state that follows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import RunningCsms
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient

PROFILE: dict[str, Any] = {
    "chargingProfileId": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.5},
            {"startPeriod": 3600, "limit": 10, "numberPhases": 1},
        ],
    },
}
MAX_PROFILE: dict[str, Any] = {
    **PROFILE,
    "chargingProfileId": 8,
    "chargingProfilePurpose": "ChargePointMaxProfile",
}
START_PROFILE: dict[str, Any] = {
    **PROFILE,
    "chargingProfileId": 9,
    "chargingProfilePurpose": "TxProfile",
}


@dataclass
class Charger:
    cp_id: str
    version: str
    client: RawClient


@pytest.fixture(params=["1.6", "2.0.1"])
async def charger(request: pytest.FixtureRequest, csms: RunningCsms) -> AsyncIterator[Charger]:
    """A booted raw charger of the OCPP version the test is parametrised with."""
    version: str = request.param
    cp_id = "CP-CMD16" if version == "1.6" else "CS-CMD201"
    await csms.register(cp_id)
    client = await RawClient.connect(csms.ocpp_url, cp_id, subprotocols=[f"ocpp{version}"])
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    yield Charger(cp_id, version, client)
    await client.close()


async def exchange(
    csms: RunningCsms,
    charger: Charger,
    action: str,
    body: dict[str, Any],
    answer: dict[str, Any],
    **params: Any,
) -> tuple[list[Any], httpx.Response]:
    """POST the action, receive the CALL as the charger, answer it; return both sides."""
    request = asyncio.create_task(
        csms.api().post(
            f"/api/v1/charge-points/{charger.cp_id}/actions/{action}", json=body, params=params
        )
    )
    call = await charger.client.recv()
    assert call[0] == 2, call
    await charger.client.send_raw(json.dumps([3, call[1], answer]))
    return call, await request


# action, body, {version: (expected OCPP action, expected payload, the charger's answer)}
CASES: list[tuple[str, dict[str, Any], dict[str, tuple[str, dict[str, Any], dict[str, Any]]]]] = [
    (
        "start",
        {"idTag": "TAG-1", "evseId": 2, "chargingProfile": START_PROFILE},
        {
            "1.6": (
                "RemoteStartTransaction",
                {
                    "idTag": "TAG-1",
                    "connectorId": 2,
                    "chargingProfile": {
                        **START_PROFILE,
                        "chargingSchedule": {**START_PROFILE["chargingSchedule"]},
                    },
                },
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "RequestStartTransaction",
                {
                    "idToken": {"idToken": "TAG-1", "type": "Central"},
                    "evseId": 2,
                    "chargingProfile": {
                        "id": 9,
                        "stackLevel": 1,
                        "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": [
                            {
                                "id": 9,
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [
                                    {"startPeriod": 0, "limit": 16.5},
                                    {"startPeriod": 3600, "limit": 10, "numberPhases": 1},
                                ],
                            }
                        ],
                    },
                },
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "stop",
        {"transactionId": "42"},
        {
            "1.6": ("RemoteStopTransaction", {"transactionId": 42}, {"status": "Accepted"}),
            "2.0.1": ("RequestStopTransaction", {"transactionId": "42"}, {"status": "Rejected"}),
        },
    ),
    (
        "reset",
        {"type": "Soft"},
        {
            "1.6": ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
            "2.0.1": ("Reset", {"type": "OnIdle"}, {"status": "Scheduled"}),
        },
    ),
    (
        "reset",
        {"type": "Hard"},
        {
            "1.6": ("Reset", {"type": "Hard"}, {"status": "Accepted"}),
            "2.0.1": ("Reset", {"type": "Immediate"}, {"status": "Accepted"}),
        },
    ),
    (
        "change-availability",
        {"type": "Inoperative", "evseId": 1, "connectorId": 1},
        {
            "1.6": (
                "ChangeAvailability",
                {"connectorId": 1, "type": "Inoperative"},
                {"status": "Scheduled"},
            ),
            "2.0.1": (
                "ChangeAvailability",
                {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}},
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "change-availability",
        {"type": "Operative"},
        {
            "1.6": (
                "ChangeAvailability",
                {"connectorId": 0, "type": "Operative"},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "ChangeAvailability",
                {"operationalStatus": "Operative"},
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "unlock-connector",
        {"evseId": 1, "connectorId": 1},
        {
            "1.6": ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
            "2.0.1": ("UnlockConnector", {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}),
        },
    ),
    (
        "set-charging-profile",
        {"evseId": 0, "chargingProfile": MAX_PROFILE},
        {
            "1.6": (
                "SetChargingProfile",
                {"connectorId": 0, "csChargingProfiles": MAX_PROFILE},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "SetChargingProfile",
                {
                    "evseId": 0,
                    "chargingProfile": {
                        "id": 8,
                        "stackLevel": 1,
                        "chargingProfilePurpose": "ChargingStationMaxProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": [
                            {
                                "id": 8,
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [
                                    {"startPeriod": 0, "limit": 16.5},
                                    {"startPeriod": 3600, "limit": 10, "numberPhases": 1},
                                ],
                            }
                        ],
                    },
                },
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "clear-charging-profile",
        {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
        {
            "1.6": (
                "ClearChargingProfile",
                {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "ClearChargingProfile",
                {
                    "chargingProfileCriteria": {
                        "evseId": 1,
                        "chargingProfilePurpose": "TxDefaultProfile",
                    }
                },
                {"status": "Unknown"},
            ),
        },
    ),
    (
        "get-composite-schedule",
        {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"},
        {
            "1.6": (
                "GetCompositeSchedule",
                {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
                {"status": "Rejected"},
            ),
            "2.0.1": (
                "GetCompositeSchedule",
                {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"},
                {"status": "Rejected"},
            ),
        },
    ),
    (
        "update-firmware",
        {"url": "https://fw.example/v2.bin", "retrieveAfter": "2026-01-01T00:00:00Z", "retries": 3},
        {
            "1.6": (
                "UpdateFirmware",
                {
                    "location": "https://fw.example/v2.bin",
                    "retrieveDate": "2026-01-01T00:00:00.000Z",
                    "retries": 3,
                },
                {},
            ),
            "2.0.1": (
                "UpdateFirmware",
                {
                    "retries": 3,
                    "firmware": {
                        "location": "https://fw.example/v2.bin",
                        "retrieveDateTime": "2026-01-01T00:00:00.000Z",
                    },
                },
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "get-diagnostics",
        {"location": "ftp://logs.example/", "retries": 1},
        {
            "1.6": (
                "GetDiagnostics",
                {"location": "ftp://logs.example/", "retries": 1},
                {"fileName": "diag.zip"},
            ),
            "2.0.1": (
                "GetLog",
                {
                    "logType": "DiagnosticsLog",
                    "retries": 1,
                    "log": {"remoteLocation": "ftp://logs.example/"},
                },
                {"status": "Accepted", "filename": "diag.zip"},
            ),
        },
    ),
    (
        "trigger-message",
        {"type": "StatusNotification", "evseId": 1, "connectorId": 1},
        {
            "1.6": (
                "TriggerMessage",
                {"requestedMessage": "StatusNotification", "connectorId": 1},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "TriggerMessage",
                {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "get-configuration",
        {"keys": ["HeartbeatInterval"]},
        {
            "1.6": (
                "GetConfiguration",
                {"key": ["HeartbeatInterval"]},
                {
                    "configurationKey": [
                        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                    ]
                },
            ),
        },
    ),
    (
        "get-configuration",
        {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]},
        {
            "2.0.1": (
                "GetVariables",
                {
                    "getVariableData": [
                        {
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
                {
                    "getVariableResult": [
                        {
                            "attributeStatus": "Accepted",
                            "attributeValue": "300",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            ),
        },
    ),
    (
        "set-configuration",
        {"name": "HeartbeatInterval", "value": "120", "componentName": "OCPPCommCtrlr"},
        {
            "1.6": (
                "ChangeConfiguration",
                {"key": "HeartbeatInterval", "value": "120"},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "SetVariables",
                {
                    "setVariableData": [
                        {
                            "attributeValue": "120",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
                {
                    "setVariableResult": [
                        {
                            "attributeStatus": "Accepted",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            ),
        },
    ),
    (
        "reserve",
        {"idTag": "TAG-R", "expiryDate": "2030-01-01T10:00:00Z", "evseId": 1, "reservationId": 77},
        {
            "1.6": (
                "ReserveNow",
                {
                    "connectorId": 1,
                    "expiryDate": "2030-01-01T10:00:00.000Z",
                    "idTag": "TAG-R",
                    "reservationId": 77,
                },
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "ReserveNow",
                {
                    "id": 77,
                    "expiryDateTime": "2030-01-01T10:00:00.000Z",
                    "idToken": {"idToken": "TAG-R", "type": "Central"},
                    "evseId": 1,
                },
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "cancel-reservation",
        {"reservationId": 77},
        {
            "1.6": ("CancelReservation", {"reservationId": 77}, {"status": "Rejected"}),
            "2.0.1": ("CancelReservation", {"reservationId": 77}, {"status": "Rejected"}),
        },
    ),
    (
        "send-local-list",
        {
            "listVersion": 5,
            "updateType": "Full",
            "idTags": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}, {"idTag": "B"}],
        },
        {
            "1.6": (
                "SendLocalList",
                {
                    "listVersion": 5,
                    "updateType": "Full",
                    "localAuthorizationList": [
                        {"idTag": "A", "idTagInfo": {"status": "Accepted"}},
                        {"idTag": "B"},
                    ],
                },
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "SendLocalList",
                {
                    "versionNumber": 5,
                    "updateType": "Full",
                    "localAuthorizationList": [
                        {
                            "idToken": {"idToken": "A", "type": "Central"},
                            "idTokenInfo": {"status": "Accepted"},
                        },
                        {"idToken": {"idToken": "B", "type": "Central"}},
                    ],
                },
                {"status": "Accepted"},
            ),
        },
    ),
    (
        "get-local-list-version",
        {},
        {
            "1.6": ("GetLocalListVersion", {}, {"listVersion": 5}),
            "2.0.1": ("GetLocalListVersion", {}, {"versionNumber": 5}),
        },
    ),
    (
        "clear-cache",
        {},
        {
            "1.6": ("ClearCache", {}, {"status": "Accepted"}),
            "2.0.1": ("ClearCache", {}, {"status": "Rejected"}),
        },
    ),
    (
        "data-transfer",
        {"vendorId": "com.acme", "messageId": "ping", "data": "hello"},
        {
            "1.6": (
                "DataTransfer",
                {"vendorId": "com.acme", "messageId": "ping", "data": "hello"},
                {"status": "Accepted", "data": "pong"},
            ),
            "2.0.1": (
                "DataTransfer",
                {"vendorId": "com.acme", "messageId": "ping", "data": "hello"},
                {"status": "UnknownMessageId"},
            ),
        },
    ),
]

# Fields the central system generates: present, unique per command, not predictable.
GENERATED = {"remoteStartId", "requestId"}


MATRIX = [
    pytest.param(version, action, body, call, id=f"{version}-{action}-{i}")
    for i, (action, body, per_version) in enumerate(CASES)
    for version, call in per_version.items()
]


@pytest.mark.parametrize(("charger", "action", "body", "expected"), MATRIX, indirect=["charger"])
async def test_action_becomes_the_right_call(
    csms: RunningCsms,
    charger: Charger,
    action: str,
    body: dict[str, Any],
    expected: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    ocpp_action, payload, answer = expected
    call, response = await exchange(csms, charger, action, body, answer)
    assert call[2] == ocpp_action
    sent = {k: v for k, v in call[3].items() if k not in GENERATED}
    assert sent == payload
    for generated in GENERATED & call[3].keys():
        assert isinstance(call[3][generated], int) and call[3][generated] > 0
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["action"] == action and data["ocppAction"] == ocpp_action
    assert data["response"] == answer
    expected_status = answer.get("status")
    if ocpp_action == "SetVariables":
        expected_status = answer["setVariableResult"][0]["attributeStatus"]
    assert data["status"] == expected_status
    # The audit trail has it all.
    record = (await csms.api().get(f"/api/v1/commands/{data['commandId']}")).json()["data"]
    assert record["state"] == "completed" and record["requestedBy"] == "test-operator"
    assert record["ocppAction"] == ocpp_action and record["ocppPayload"] == call[3]
    assert record["response"] == answer and record["durationMs"] >= 0


async def test_signed_firmware_uses_the_1_6_security_extension(csms: RunningCsms) -> None:
    await csms.register("CP-SIGNED")
    client = await RawClient.connect(csms.ocpp_url, "CP-SIGNED")
    await client.boot()
    charger = Charger("CP-SIGNED", "1.6", client)
    call, response = await exchange(
        csms,
        charger,
        "update-firmware",
        {
            "url": "https://fw.example/s.bin",
            "signed": True,
            "signingCertificate": "-----CERT",
            "signature": "c2ln",
        },
        {"status": "Accepted"},
    )
    assert call[2] == "SignedUpdateFirmware"
    assert call[3]["firmware"]["signingCertificate"] == "-----CERT"
    assert isinstance(call[3]["requestId"], int)
    assert response.json()["data"]["status"] == "Accepted"
    await client.close()


async def test_the_id_token_type_sent_is_the_records_else_central(csms: RunningCsms) -> None:
    await csms.register("CS-TYPES")
    client = await RawClient.connect(csms.ocpp_url, "CS-TYPES", subprotocols=["ocpp2.0.1"])
    await client.result("BootNotification", BOOT_201)
    charger = Charger("CS-TYPES", "2.0.1", client)
    await csms.add_id_tag("CARD-T", type="ISO14443")
    await csms.add_id_tag("UID-ONLY")  # no type

    accepted = {"status": "Accepted"}
    call, _ = await exchange(csms, charger, "start", {"idTag": "card-t", "evseId": 1}, accepted)
    assert call[3]["idToken"] == {"idToken": "card-t", "type": "ISO14443"}
    call, _ = await exchange(csms, charger, "start", {"idTag": "UID-ONLY"}, accepted)
    assert call[3]["idToken"] == {"idToken": "UID-ONLY", "type": "Central"}
    reserve = {"idTag": "CARD-T", "expiryDate": "2030-01-01T10:00:00Z", "evseId": 1}
    call, _ = await exchange(csms, charger, "reserve", reserve, accepted)
    assert call[3]["idToken"] == {"idToken": "CARD-T", "type": "ISO14443"}
    local_list = {
        "listVersion": 2,
        "updateType": "Full",
        "idTags": [{"idTag": "CARD-T"}, {"idTag": "UID-ONLY"}, {"idTag": "UNKNOWN"}],
    }
    call, _ = await exchange(csms, charger, "send-local-list", local_list, accepted)
    assert [e["idToken"]["type"] for e in call[3]["localAuthorizationList"]] == [
        "ISO14443",
        "Central",
        "Central",
    ]
    await client.close()
