"""Meter values across chargers, security events and events through the API: written by the
services the OCPP handlers use, read by filter, window and cursor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from csms.domain.charger_events import NOTIFY_EVENT, SECURITY_EVENT, STATUS_ERROR
from csms.domain.clock import format_timestamp
from csms.domain.models import MeterSample
from csms.domain.transactions import TransactionStart
from tests.api.conftest import T0, ApiHarness

START = format_timestamp(T0)
END = format_timestamp(T0 + timedelta(hours=1))


def sample(
    minutes: float, value: str, measurand: str = "Energy.Active.Import.Register"
) -> MeterSample:
    unit = "Wh" if measurand.startswith("Energy") else "W"
    return MeterSample(T0 + timedelta(minutes=minutes), value, measurand=measurand, unit=unit)


async def read_all(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following the cursor."""
    items: list[dict[str, Any]] = []
    while True:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        items += data["items"]
        if not data["hasMore"]:
            return items
        params["startingAfter"] = data["items"][-1]["id"]


async def fleet(harness: ApiHarness) -> None:
    """Network n1 ⊃ site top ⊃ site child; site other outside it. CP-1 on top, CP-2 on child,
    CP-3 on other; samples in and out of transactions, on both sides of [T0, T0 + 1 h)."""
    api = harness.client()
    for body in (
        {"id": "n1", "name": "N1"},
        {"id": "n2", "name": "N2"},
    ):
        assert (await api.post("/api/v1/networks", json=body)).status_code == 201
    for body in (
        {"id": "top", "name": "Top", "networkId": "n1"},
        {"id": "child", "name": "Child", "parentSiteId": "top"},
        {"id": "other", "name": "Other", "networkId": "n2"},
    ):
        assert (await api.post("/api/v1/sites", json=body)).status_code == 201
    await harness.register("CP-1", siteId="top")
    await harness.register("CP-2", siteId="child")
    await harness.register("CP-3", siteId="other")
    tx = harness.ctx.transactions
    await tx.start(TransactionStart("CP-1", 1, 1, "TAG", T0, 0.0), [sample(0, "1-start")])
    await tx.meter_values(
        "CP-1",
        1,
        1,
        None,
        [sample(5, "1-tx"), sample(5, "1-power", "Power.Active.Import"), sample(60, "1-end")],
    )
    await tx.meter_values("CP-1", 2, 0, None, [sample(7, "1-evse2"), sample(-0.001, "early")])
    await tx.meter_values("CP-2", 1, 1, None, [sample(3, "two")])
    await tx.meter_values("CP-3", 1, 1, None, [sample(59.999, "three")])


def values(items: list[dict[str, Any]]) -> list[Any]:
    return [item["value"] for item in items]


async def test_meter_values_by_charger_site_network_and_filters(harness: ApiHarness) -> None:
    await fleet(harness)
    api = harness.client("viewer")
    window = {"start": START, "end": END}
    everything = await read_all(api, "/api/v1/meter-values", **window)
    # By charger, then time; the window [start, end) keeps 0 and 59.999, not 60 nor -0.001.
    assert values(everything) == ["1-start", "1-tx", "1-power", "1-evse2", "two", "three"]
    first = everything[0]
    assert first == {
        "id": first["id"],
        "chargePointId": "CP-1",
        "evseId": 1,
        "connectorId": 1,
        "transactionId": first["transactionId"],
        "timestamp": START,
        "measurand": "Energy.Active.Import.Register",
        "phase": None,
        "unit": "Wh",
        "value": "1-start",
        "context": "Sample.Periodic",
        "location": "Outlet",
    }
    transaction_ids = [item["transactionId"] for item in everything]
    assert transaction_ids[:3] == [first["transactionId"]] * 3 and first["transactionId"]
    assert transaction_ids[3:] == [None, None, None]
    # Pages of any size give the same list.
    for limit in (1, 2, 4):
        assert await read_all(api, "/api/v1/meter-values", limit=limit, **window) == everything

    async def only(**params: Any) -> list[Any]:
        return values(await read_all(api, "/api/v1/meter-values", limit=2, **window, **params))

    assert await only(chargePointId="cp-1", evseId=2) == ["1-evse2"]
    assert await only(siteId="top") == ["1-start", "1-tx", "1-power", "1-evse2", "two"]
    assert await only(siteId="child") == ["two"]
    assert await only(networkId="n1") == ["1-start", "1-tx", "1-power", "1-evse2", "two"]
    assert await only(networkId="n2") == ["three"]
    assert await only(measurand="Power.Active.Import") == ["1-power"]
    # A filter that names nothing matches nothing.
    for params in ({"chargePointId": "CP-X"}, {"siteId": "nowhere"}, {"networkId": "n9"}):
        assert await only(**params) == []
    # The window's edges: its start is in it, its end is not.
    edges = {
        "start": format_timestamp(T0 + timedelta(minutes=5)),
        "end": format_timestamp(T0 + timedelta(minutes=7)),
    }
    assert values(await read_all(api, "/api/v1/meter-values", **edges)) == ["1-tx", "1-power"]


async def test_meter_values_refuse_bad_input(harness: ApiHarness) -> None:
    await fleet(harness)
    api = harness.client()
    path = "/api/v1/meter-values"

    async def refused(params: dict[str, Any], field: str) -> None:
        response = await api.get(path, params=params)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in {e["field"] for e in error["details"]["errors"]}, error

    await refused({"end": END}, "start")
    await refused({"start": START}, "end")
    await refused({"start": END, "end": START}, "end")
    await refused({"start": START, "end": START}, "end")
    too_long = format_timestamp(T0 + timedelta(days=31, milliseconds=1))
    await refused({"start": START, "end": too_long}, "end")
    await refused({"start": START, "end": END, "chargePointId": "CP-1", "siteId": "top"}, "siteId")
    await refused({"start": START, "end": END, "siteId": "top", "networkId": "n1"}, "networkId")
    await refused({"start": START, "end": END, "limit": 0}, "limit")
    await refused({"start": START, "end": END, "limit": 1001}, "limit")
    await refused({"start": START, "end": END, "startingAfter": -1}, "startingAfter")
    await refused({"start": START, "end": END, "startingAfter": 10**9}, "startingAfter")
    await refused({"start": "yesterday", "end": END}, "start")
    # A cursor from another charger's list.
    (of_cp3,) = await read_all(api, path, start=START, end=END, chargePointId="CP-3")
    cp3_id = of_cp3["id"]
    params = {"start": START, "end": END, "chargePointId": "CP-1", "startingAfter": cp3_id}
    await refused(params, "startingAfter")
    anonymous = harness.client(token=None)
    assert (await anonymous.get(path, params={"start": START, "end": END})).status_code == 401
    # 31 days exactly is allowed.
    month = format_timestamp(T0 + timedelta(days=31))
    assert (await api.get(path, params={"start": START, "end": month})).status_code == 200


async def test_security_events_and_events_newest_first(harness: ApiHarness) -> None:
    await harness.register("CP-E")
    reports = harness.ctx.reports

    def at(minutes: float) -> str:
        return format_timestamp(T0 + timedelta(minutes=minutes))

    await reports.record(
        "CP-E",
        SECURITY_EVENT,
        {"type": "FirmwareUpdated", "timestamp": at(1), "techInfo": "v2"},
        T0 + timedelta(minutes=1),
    )
    await reports.record(
        "CP-E",
        SECURITY_EVENT,
        {"type": "ResetOrReboot", "timestamp": at(3)},
        T0 + timedelta(minutes=3),
    )
    notify: dict[str, Any] = {
        "generatedAt": at(10),
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 7,
                "timestamp": at(2),
                "trigger": "Alerting",
                "actualValue": "true",
                "techCode": "E12",
                "cleared": False,
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
                "variable": {"name": "Problem", "instance": "x"},
            },
            {
                "eventId": 8,
                "timestamp": at(4),
                "trigger": "Delta",
                "cause": 7,
                "actualValue": "Faulted",
                "eventNotificationType": "PreconfiguredMonitor",
                "component": {"name": "ChargingStation"},
                "variable": {"name": "AvailabilityState"},
                "transactionId": "T-9",
                "variableMonitoringId": 3,
            },
        ],
    }
    parts = [
        (T0 + timedelta(minutes=minutes), {**event, "generatedAt": at(10), "seqNo": 0})
        for minutes, event in zip((2, 4), notify["eventData"], strict=True)
    ]
    await reports.record_parts("CP-E", NOTIFY_EVENT, parts, notify)
    status = {"connectorId": 1, "status": "Faulted", "errorCode": "GroundFailure", "info": "RCD"}
    await reports.record("CP-E", STATUS_ERROR, status, T0 + timedelta(minutes=3))
    api = harness.client("viewer")

    security = await read_all(api, "/api/v1/charge-points/cp-e/security-events", limit=1)
    assert [{k: v for k, v in s.items() if k != "id"} for s in security] == [
        {
            "type": "ResetOrReboot",
            "timestamp": at(3),
            "techInfo": None,
            "receivedAt": security[0]["receivedAt"],
        },
        {
            "type": "FirmwareUpdated",
            "timestamp": at(1),
            "techInfo": "v2",
            "receivedAt": security[1]["receivedAt"],
        },
    ]
    assert all(s["receivedAt"] for s in security)

    events = await read_all(api, "/api/v1/charge-points/CP-E/events", limit=1)
    assert [(e["source"], e["timestamp"]) for e in events] == [
        ("NotifyEvent", at(4)),
        ("StatusNotification", at(3)),
        ("NotifyEvent", at(2)),
    ]
    nulls = {key: None for key in events[0]}
    assert events[2] == {
        **nulls,
        "id": events[2]["id"],
        "source": "NotifyEvent",
        "timestamp": at(2),
        "receivedAt": events[2]["receivedAt"],
        "evseId": 1,
        "connectorId": 2,
        "eventId": 7,
        "trigger": "Alerting",
        "eventNotificationType": "HardWiredNotification",
        "component": "Connector",
        "variable": "Problem",
        "variableInstance": "x",
        "actualValue": "true",
        "techCode": "E12",
        "cleared": False,
    }
    assert {k: events[0][k] for k in ("cause", "transactionId", "variableMonitoringId")} == {
        "cause": 7,
        "transactionId": "T-9",
        "variableMonitoringId": 3,
    }
    assert events[1] == {
        **nulls,
        "id": events[1]["id"],
        "source": "StatusNotification",
        "timestamp": at(3),
        "receivedAt": events[1]["receivedAt"],
        "evseId": 1,
        "connectorId": 1,
        "status": "Faulted",
        "errorCode": "GroundFailure",
        "info": "RCD",
    }
    # A window: [start, end).
    window = await read_all(api, "/api/v1/charge-points/CP-E/events", start=at(2), end=at(4))
    assert [e["timestamp"] for e in window] == [at(3), at(2)]
    only_start = await read_all(api, "/api/v1/charge-points/CP-E/events", start=at(3))
    assert [e["timestamp"] for e in only_start] == [at(4), at(3)]


async def test_event_lists_refuse_bad_input(harness: ApiHarness) -> None:
    await harness.register("CP-E")
    await harness.register("CP-F")
    await harness.ctx.reports.record("CP-F", SECURITY_EVENT, {"type": "X"}, T0)
    (other,) = await read_all(harness.client(), "/api/v1/charge-points/CP-F/security-events")
    api = harness.client()
    for kind in ("security-events", "events"):
        path = f"/api/v1/charge-points/CP-E/{kind}"
        assert (await api.get(f"/api/v1/charge-points/CP-X/{kind}")).status_code == 404
        assert (await harness.client(token=None).get(path)).status_code == 401
        backwards = await api.get(path, params={"start": END, "end": START})
        assert backwards.status_code == 422
        assert backwards.json()["error"]["details"]["field"] == "end"
        foreign = await api.get(path, params={"startingAfter": other["id"]})
        assert foreign.status_code == 422
        assert foreign.json()["error"]["details"]["field"] == "startingAfter"
        assert (await api.get(path, params={"limit": 1001})).status_code == 422
        empty = await api.get(path)
        assert empty.json()["data"] == {"items": [], "hasMore": False}
