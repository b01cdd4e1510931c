"""End to end: what chargers report over OCPP reaches GET .../events and .../security-events, and
their MeterValues reach GET /meter-values (a real server, chargers over loopback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from csms.domain.clock import format_timestamp
from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient

NOW = datetime.now(UTC).replace(microsecond=0)


def at(minutes: int) -> str:
    return format_timestamp(NOW + timedelta(minutes=minutes))


async def items(csms: RunningCsms, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await csms.api("viewer").get(f"/api/v1/{path}", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]["items"]
    return found


async def test_v16_status_errors_security_events_and_meter_values(csms: RunningCsms) -> None:
    await csms.register("CP-16")
    client = await RawClient.connect(csms.ocpp_url, "CP-16")
    await client.boot()
    for minutes, status, error, vendor in (
        (1, "Available", "NoError", None),  # no error: not an event
        (2, "Faulted", "GroundFailure", "RCD-7"),
        (3, "Available", "NoError", "W-1"),  # a vendor code beside NoError: an event
    ):
        payload = {"connectorId": 1, "status": status, "errorCode": error, "timestamp": at(minutes)}
        if vendor is not None:
            payload.update(vendorErrorCode=vendor, vendorId="acme", info="seen")
        assert await client.result("StatusNotification", payload) == {}
    security = {"type": "InvalidFirmwareSignature", "timestamp": at(4), "techInfo": "bad sig"}
    assert await client.result("SecurityEventNotification", security) == {}
    meter = {"timestamp": at(5), "sampledValue": [{"value": "1234.5"}]}
    assert await client.result("MeterValues", {"connectorId": 1, "meterValue": [meter]}) == {}
    await client.close()

    events = await items(csms, "charge-points/CP-16/events")
    assert [
        (e["source"], e["timestamp"], e["status"], e["errorCode"], e["vendorErrorCode"])
        for e in events
    ] == [
        ("StatusNotification", at(3), "Available", "NoError", "W-1"),
        ("StatusNotification", at(2), "Faulted", "GroundFailure", "RCD-7"),
    ]
    assert (events[1]["vendorId"], events[1]["info"], events[1]["connectorId"]) == (
        "acme",
        "seen",
        1,
    )
    (reported,) = await items(csms, "charge-points/CP-16/security-events")
    assert (reported["type"], reported["timestamp"], reported["techInfo"]) == (
        "InvalidFirmwareSignature",
        at(4),
        "bad sig",
    )
    (sample,) = await items(csms, "meter-values", start=at(0), end=at(10), chargePointId="CP-16")
    assert (sample["value"], sample["transactionId"], sample["evseId"]) == (1234.5, None, 1)


async def test_v201_notify_event_is_one_event_per_event_data(csms: RunningCsms) -> None:
    await csms.register("CS-201")
    station = await RawClient.connect(csms.ocpp_url, "CS-201", subprotocols=("ocpp2.0.1",))
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    assert (await station.result("BootNotification", boot))["status"] == "Accepted"

    def event_data(event_id: int, minutes: int, **extra: Any) -> dict[str, Any]:
        return {
            "eventId": event_id,
            "timestamp": at(minutes),
            "trigger": "Alerting",
            "actualValue": "true",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Problem"},
            **extra,
        }

    notify = {
        "generatedAt": at(3),
        "seqNo": 0,
        "eventData": [event_data(1, 1), event_data(2, 2, cleared=True, techCode="E1")],
    }
    assert await station.result("NotifyEvent", notify) == {}
    await station.close()

    events = await items(csms, "charge-points/CS-201/events")
    assert [(e["eventId"], e["timestamp"], e["cleared"], e["techCode"]) for e in events] == [
        (2, at(2), True, "E1"),
        (1, at(1), None, None),
    ]
    assert {(e["source"], e["component"], e["evseId"]) for e in events} == {
        ("NotifyEvent", "Connector", 1)
    }
    kept = await csms.system.services.reports.list_reports("CS-201", "event")
    assert [(r.data["eventId"], r.data["seqNo"], r.data["generatedAt"]) for r in kept] == [
        (1, 0, at(3)),
        (2, 0, at(3)),
    ]
