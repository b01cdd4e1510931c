"""Every OCPP 2.0.1 message a station sends: answered, and what it says is stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient

V201 = ("ocpp2.0.1",)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


BOOT: dict[str, Any] = {
    "reason": "PowerUp",
    "chargingStation": {
        "model": "Wallbox-201",
        "vendorName": "Acme",
        "serialNumber": "SN-201",
        "firmwareVersion": "2.0",
        "modem": {"iccid": "8931", "imsi": "2620"},
    },
}


async def boot(client: RawClient) -> dict[str, Any]:
    return await client.result("BootNotification", BOOT)


@pytest.fixture
async def station(csms: RunningCsms) -> RawClient:
    await csms.register("CS-201")
    client = await RawClient.connect(csms.ocpp_url, "CS-201", subprotocols=V201)
    assert client.ws.subprotocol == "ocpp2.0.1"
    await boot(client)
    return client


def tx_event(
    event_type: str, tx_id: str, seq_no: int, moment: datetime, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": iso(moment),
        "seqNo": seq_no,
        "triggerReason": extra.pop("triggerReason", "MeterValuePeriodic"),
        "transactionInfo": {"transactionId": tx_id, **extra.pop("transactionInfo", {})},
    }
    payload.update(extra)
    return payload


def register(value: float, moment: datetime, context: str = "Sample.Periodic") -> dict[str, Any]:
    return {
        "timestamp": iso(moment),
        "sampledValue": [
            {"value": value, "context": context, "measurand": "Energy.Active.Import.Register"}
        ],
    }


async def test_boot_is_answered_from_the_store_and_boot_info_kept(
    csms: RunningCsms, station: RawClient
) -> None:
    detail = (await csms.api().get("/api/v1/charge-points/CS-201")).json()["data"]
    assert detail["ocppVersion"] == "2.0.1"
    assert detail["bootInfo"]["vendor"] == "Acme"
    assert detail["bootInfo"]["model"] == "Wallbox-201"
    assert detail["bootInfo"]["serialNumber"] == "SN-201"
    assert detail["bootInfo"]["iccid"] == "8931" and detail["bootInfo"]["imsi"] == "2620"
    heartbeat = await station.result("Heartbeat", {})
    assert heartbeat["currentTime"].endswith("Z")


async def test_pending_and_rejected_boot(csms: RunningCsms) -> None:
    await csms.register("CS-PENDING")
    await csms.api().patch(
        "/api/v1/charge-points/CS-PENDING", json={"registrationStatus": "Pending"}
    )
    client = await RawClient.connect(csms.ocpp_url, "CS-PENDING", subprotocols=V201)
    answer = await boot(client)
    assert answer["status"] == "Pending"
    # B01.FR.10 / TC_B_30: nothing but BootNotification before the boot is accepted.
    for action, payload in (
        ("Heartbeat", {}),
        (
            "StatusNotification",
            {
                "timestamp": iso(datetime.now(UTC)),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
            },
        ),
        ("Authorize", {"idToken": {"idToken": "X", "type": "Central"}}),
    ):
        refused = await client.call(action, payload)
        assert refused[0] == 4 and refused[2] == "SecurityError", refused
    await csms.api().patch(
        "/api/v1/charge-points/CS-PENDING", json={"registrationStatus": "Rejected"}
    )
    # Rejected by the operator: the live session ends, and the charger reconnects to hear it.
    async with asyncio.timeout(5):
        await client.ws.wait_closed()
    client = await RawClient.connect(csms.ocpp_url, "CS-PENDING", subprotocols=V201)
    assert (await boot(client))["status"] == "Rejected"
    assert (await client.call("Heartbeat", {}))[2] == "SecurityError"
    await csms.api().patch("/api/v1/charge-points/CS-PENDING", json={"registrationStatus": None})
    assert (await boot(client))["status"] == "Accepted"
    assert (await client.call("Heartbeat", {}))[0] == 3
    await client.close()


async def test_status_notification_per_evse_and_connector(
    csms: RunningCsms, station: RawClient
) -> None:
    now = datetime.now(UTC)
    for evse, status in ((1, "Available"), (2, "Occupied")):
        assert (
            await station.result(
                "StatusNotification",
                {
                    "timestamp": iso(now),
                    "connectorStatus": status,
                    "evseId": evse,
                    "connectorId": 1,
                },
            )
            == {}
        )
    detail = (await csms.api().get("/api/v1/charge-points/CS-201")).json()["data"]
    statuses = {
        (e["evseId"], c["connectorId"]): c["status"]
        for e in detail["evses"]
        for c in e["connectors"]
    }
    assert statuses == {(1, 1): "Available", (2, 1): "Occupied"}


async def test_authorize_matches_value_and_type(csms: RunningCsms, station: RawClient) -> None:
    await csms.add_id_tag(
        "CARD-1",
        type="ISO14443",
        parentIdTag="FLEET-A",
        expireAt=iso(datetime.now(UTC) + timedelta(days=1)),
    )
    await csms.add_id_tag("CARD-2", type="ISO14443", status="blocked")
    accepted = await station.result(
        "Authorize", {"idToken": {"idToken": "CARD-1", "type": "ISO14443"}}
    )
    info = accepted["idTokenInfo"]
    assert info["status"] == "Accepted"
    assert info["cacheExpiryDateTime"].endswith("Z")
    assert info["groupIdToken"]["idToken"] == "FLEET-A"
    wrong_type = await station.result(
        "Authorize", {"idToken": {"idToken": "CARD-1", "type": "eMAID"}}
    )
    assert wrong_type["idTokenInfo"]["status"] == "Invalid"
    blocked = await station.result(
        "Authorize", {"idToken": {"idToken": "CARD-2", "type": "ISO14443"}}
    )
    assert blocked["idTokenInfo"]["status"] == "Blocked"


async def test_a_card_registered_by_uid_matches_whatever_type_the_reader_presents(
    csms: RunningCsms, station: RawClient
) -> None:
    await csms.add_id_tag("04A2B3C4")  # no type: how an operator registers a card

    async def status(token_type: str) -> str:
        answer = await station.result(
            "Authorize", {"idToken": {"idToken": "04a2b3c4", "type": token_type}}
        )
        result: str = answer["idTokenInfo"]["status"]
        return result

    assert await status("ISO14443") == "Accepted"  # an RFID reader's type: was Invalid
    assert await status("ISO15693") == "Accepted"
    assert await status("Central") == "Accepted"

    # Typed by PATCH, the record matches that type only; null makes it match any type again.
    tag = csms.api()
    assert (await tag.patch("/api/v1/id-tags/04A2B3C4", json={"type": "ISO15693"})).is_success
    assert await status("ISO14443") == "Invalid"
    assert await status("ISO15693") == "Accepted"
    assert (await tag.patch("/api/v1/id-tags/04A2B3C4", json={"type": None})).is_success
    assert await status("ISO14443") == "Accepted"


async def test_meter_values_firmware_log_security_and_data_transfer(
    csms: RunningCsms, station: RawClient
) -> None:
    now = datetime.now(UTC)
    assert (
        await station.result(
            "MeterValues", {"evseId": 0, "meterValue": [register(123456.0, now, "Sample.Clock")]}
        )
        == {}
    )
    assert (
        await station.result(
            "FirmwareStatusNotification", {"status": "Downloading", "requestId": 7}
        )
        == {}
    )
    assert (
        await station.result("LogStatusNotification", {"status": "Uploading", "requestId": 8}) == {}
    )
    assert (
        await station.result(
            "SecurityEventNotification",
            {"type": "FirmwareUpdated", "timestamp": iso(now), "techInfo": "v2"},
        )
        == {}
    )
    assert (await station.result("DataTransfer", {"vendorId": "acme"}))["status"] == (
        "UnknownVendorId"
    )
    detail = (await csms.api().get("/api/v1/charge-points/CS-201")).json()["data"]
    assert detail["firmwareStatus"] == "Downloading"
    assert detail["diagnosticsStatus"] == "Uploading"
    security = await csms.system.services.reports.list_reports("CS-201", "security_event")
    assert security[0].data["type"] == "FirmwareUpdated"


async def test_notify_report_parts_build_the_device_model(
    csms: RunningCsms, station: RawClient
) -> None:
    now = iso(datetime.now(UTC))
    async with csms.system.services.events.subscribe("CS-201") as events:
        assert (
            await station.result(
                "NotifyReport",
                {
                    "requestId": 5,
                    "generatedAt": now,
                    "seqNo": 0,
                    "tbc": True,
                    "reportData": [
                        {
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                            "variableAttribute": [
                                {"type": "Actual", "value": "300", "mutability": "ReadWrite"}
                            ],
                            "variableCharacteristics": {
                                "dataType": "integer",
                                "unit": "s",
                                "supportsMonitoring": False,
                            },
                        }
                    ],
                },
            )
            == {}
        )
        assert (
            await station.result(
                "NotifyReport",
                {
                    "requestId": 5,
                    "generatedAt": now,
                    "seqNo": 1,
                    "tbc": False,
                    "reportData": [
                        {
                            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                            "variable": {"name": "ConnectorType"},
                            "variableAttribute": [{"value": "cType2", "mutability": "ReadOnly"}],
                        }
                    ],
                },
            )
            == {}
        )
        completed = await events.get()
        assert completed.type == "report.completed" and completed.data["requestId"] == 5
    model = await csms.system.services.reports.device_model("CS-201")
    by_name = {(v.component, v.variable): v for v in model}
    heartbeat = by_name[("OCPPCommCtrlr", "HeartbeatInterval")]
    assert heartbeat.value == "300" and heartbeat.mutability == "ReadWrite"
    assert heartbeat.data_type == "integer"
    connector = by_name[("Connector", "ConnectorType")]
    assert (connector.evse_id, connector.connector_id, connector.value) == (1, 1, "cType2")


async def test_event_and_charging_reports_are_answered_and_kept(
    csms: RunningCsms, station: RawClient
) -> None:
    now = iso(datetime.now(UTC))
    assert (
        await station.result(
            "NotifyEvent",
            {
                "generatedAt": now,
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": now,
                        "trigger": "Delta",
                        "actualValue": "Faulted",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            },
        )
        == {}
    )
    assert (
        await station.result(
            "NotifyChargingLimit",
            {
                "evseId": 1,
                "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True},
            },
        )
        == {}
    )
    needs = await station.result(
        "NotifyEVChargingNeeds",
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "acChargingParameters": {
                    "energyAmount": 20000,
                    "evMinCurrent": 6,
                    "evMaxCurrent": 32,
                    "evMaxVoltage": 400,
                },
            },
        },
    )
    assert needs["status"] == "Rejected"  # no ISO 15118 schedule will follow from us
    assert (
        await station.result(
            "ReportChargingProfiles",
            {
                "requestId": 3,
                "chargingLimitSource": "CSO",
                "evseId": 1,
                "chargingProfile": [
                    {
                        "id": 9,
                        "stackLevel": 0,
                        "chargingProfilePurpose": "TxDefaultProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": [
                            {
                                "id": 1,
                                "chargingRateUnit": "W",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                            }
                        ],
                    }
                ],
            },
        )
        == {}
    )
    kinds = {r.kind for r in await csms.system.services.reports.list_reports("CS-201")}
    assert {"event", "charging_limit", "ev_charging_needs", "charging_profiles"} <= kinds


async def test_malformed_frames_get_the_2_0_1_codes(csms: RunningCsms, station: RawClient) -> None:
    await station.send_raw("not json at all")
    answer = await station.recv()
    assert answer[:3] == [4, "-1", "RpcFrameworkError"] and answer[4] == {}
    await station.send_raw('[9, "m-1", "Heartbeat", {}]')
    assert (await station.recv())[:3] == [4, "m-1", "MessageTypeNotSupported"]
    assert (await station.call("BrewCoffee", {}))[2] == "NotImplemented"
    assert (
        await station.call(
            "RequestStartTransaction",
            {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1},
        )
    )[2] == "NotSupported"
    assert (await station.call("Authorize", {}))[2] == "OccurrenceConstraintViolation"
    assert (await station.call("Authorize", {"idToken": {"idToken": 5, "type": "Central"}}))[
        2
    ] == "TypeConstraintViolation"
    assert (await station.call("Authorize", {"idToken": {"idToken": "X", "type": "Bogus"}}))[
        2
    ] == "PropertyConstraintViolation"
    assert (await station.call("Heartbeat", {"extra": 1}))[2] == "FormatViolation"
    # customData is tolerated everywhere (TC_P_03).
    assert (await station.call("Heartbeat", {"customData": {"vendorId": "acme", "x": 1}}))[0] == 3
    # The connection carries on.
    assert (await station.call("Heartbeat", {}))[0] == 3
