"""Alerts through the API: raised by the service from bus events, read, filtered and paged,
acknowledged and resolved by operators (viewers only read), errors in the envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest

from csms.domain.alerts import AlertName, Occurrence, Target
from csms.domain.clock import format_timestamp
from tests.api.conftest import T0, ApiHarness

ALERT_KEYS = {
    "id",
    "name",
    "category",
    "urgency",
    "status",
    "chargePointId",
    "evseId",
    "connectorId",
    "triggeredAt",
    "acknowledgedAt",
    "acknowledgedBy",
    "resolvedAt",
    "resolvedBy",
    "notes",
    "details",
}
CALL_ERROR = {"code": "charger_error", "message": "m", "details": {"code": "NotImplemented"}}


@pytest.fixture
async def alerts(harness: ApiHarness) -> AsyncIterator[ApiHarness]:
    """Three chargers on a site tree, each with an alert raised through the bus:
    CP-1 (site top) FAULTED on 1/1, CP-2 (site below) CALL_ERROR, CP-3 (no site)
    SECURITY_EVENT; ids 1, 2, 3."""
    api = harness.client()
    assert (await api.post("/api/v1/sites", json={"id": "top", "name": "T"})).status_code == 201
    below = {"id": "below", "name": "B", "parentSiteId": "top"}
    assert (await api.post("/api/v1/sites", json=below)).status_code == 201
    await harness.register("CP-1", siteId="top")
    await harness.register("CP-2", siteId="below")
    await harness.register("CP-3")
    service, events = harness.ctx.alerts, harness.ctx.events
    await service.start()
    try:
        at = format_timestamp(T0)
        events.publish(
            "connector.status", "CP-1", evseId=1, connectorId=1, status="Faulted", updatedAt=at
        )
        events.publish("command.completed", "CP-2", commandId=9, action="reset", error=CALL_ERROR)
        events.publish("charger.security_event", "CP-3", type="InvalidTLSVersion", timestamp=at)
        await service.settled()
        yield harness
    finally:
        await service.stop(timeout=1)


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


async def _names(api: httpx.AsyncClient, **params: Any) -> list[str]:
    return [a["name"] for a in _items(await api.get("/api/v1/alerts", params=params))]


async def test_the_list_has_the_contract_shape_newest_first_and_paged(
    alerts: ApiHarness,
) -> None:
    api = alerts.client("viewer")
    response = await api.get("/api/v1/alerts")
    body = response.json()
    assert set(body) == {"data"} and set(body["data"]) == {"items", "hasMore"}
    items = body["data"]["items"]
    assert [a["id"] for a in items] == [3, 2, 1] and body["data"]["hasMore"] is False
    assert all(set(a) == ALERT_KEYS for a in items)
    faulted = items[2]
    assert faulted["name"] == "FAULTED" and faulted["category"] == "hardware"
    assert (faulted["urgency"], faulted["status"]) == ("high", "Triggered")
    assert (faulted["chargePointId"], faulted["evseId"], faulted["connectorId"]) == ("CP-1", 1, 1)
    assert faulted["triggeredAt"].endswith("Z") and faulted["resolvedAt"] is None
    assert faulted["details"]["status"] == "Faulted" and faulted["details"]["count"] == 1
    security = items[0]
    assert (security["category"], security["evseId"]) == ("security", None)
    assert security["details"]["type"] == "InvalidTLSVersion"

    first = await api.get("/api/v1/alerts", params={"limit": 2})
    assert [a["id"] for a in first.json()["data"]["items"]] == [3, 2]
    assert first.json()["data"]["hasMore"] is True
    rest = await api.get("/api/v1/alerts", params={"limit": 2, "startingAfter": 2})
    assert [a["id"] for a in rest.json()["data"]["items"]] == [1]
    assert rest.json()["data"]["hasMore"] is False
    one = await api.get("/api/v1/alerts/1")
    assert one.status_code == 200 and one.json()["data"] == faulted


async def test_filters(alerts: ApiHarness) -> None:
    api = alerts.client()
    assert await _names(api, chargePointId="cp-1") == ["FAULTED"]
    assert await _names(api, siteId="top") == ["CALL_ERROR", "FAULTED"]
    assert await _names(api, siteId="below") == ["CALL_ERROR"]
    assert await _names(api, siteId="nowhere") == []
    assert await _names(api, name="CALL_ERROR") == ["CALL_ERROR"]
    assert await _names(api, name=["CALL_ERROR", "FAULTED"]) == ["CALL_ERROR", "FAULTED"]
    assert await _names(api, urgency="high") == ["SECURITY_EVENT", "FAULTED"]
    assert await _names(api, urgency="low") == ["CALL_ERROR"]
    patch = {"status": "Acknowledged"}
    assert (await api.patch("/api/v1/alerts/2", json=patch)).status_code == 200
    assert await _names(api, status="Acknowledged") == ["CALL_ERROR"]
    assert await _names(api, status=["Triggered", "Acknowledged"]) == [
        "SECURITY_EVENT",
        "CALL_ERROR",
        "FAULTED",
    ]
    assert await _names(api, status="Resolved") == []


async def test_the_window_keeps_what_was_active_during_it(alerts: ApiHarness) -> None:
    # An alert from two days before, straight into the store: still open, it is listed.
    target = Target("CP-3", 1, 1)
    old = Occurrence(AlertName.GROUND_FAILURE, target, T0 - timedelta(days=2))
    old_id = (await alerts.store.alerts.raise_alert(old)).alert.id
    api = alerts.client()
    assert old_id in [a["id"] for a in _items(await api.get("/api/v1/alerts"))]
    # Resolved a day and a half before: no longer in the last 24 h, still in windows before.
    resolved_at = T0 - timedelta(days=1, hours=12)
    await alerts.store.alerts.resolve_open(AlertName.GROUND_FAILURE, target, resolved_at)
    assert old_id not in [a["id"] for a in _items(await api.get("/api/v1/alerts"))]
    start = format_timestamp(T0 - timedelta(days=2, hours=1))
    assert await _names(api, start=start) == ["GROUND_FAILURE"]  # the 24 h after start
    window = {"start": start, "end": format_timestamp(T0 + timedelta(days=1))}
    assert len(await _names(api, **window)) == 4
    assert await _names(api, end=format_timestamp(T0 - timedelta(days=1))) == ["GROUND_FAILURE"]
    assert await _names(api, end=format_timestamp(T0 - timedelta(days=2))) == []  # exclusive
    assert (await alerts.client().get(f"/api/v1/alerts/{old_id}")).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        # These may be repeated: the field names the position of the value too.
        ({"status": "Open"}, "status.0"),
        ({"name": ["FAULTED", "ON_FIRE"]}, "name.1"),
        ({"urgency": "urgent"}, "urgency.0"),
        ({"limit": 1001}, "limit"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2025-03-02T00:00:00Z", "end": "2025-03-01T00:00:00Z"}, "end"),
    ],
)
async def test_bad_query_values_are_a_422_naming_the_field(
    api: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await api.get("/api/v1/alerts", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [e["field"] for e in error["details"]["errors"]] == [field]


async def test_operators_acknowledge_then_resolve_and_each_change_is_an_event(
    alerts: ApiHarness,
) -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    for type_ in ("alert.updated", "alert.resolved"):

        def note(cp_id: str | None, data: Mapping[str, Any], type_: str = type_) -> None:
            published.append((type_, dict(data)))

        alerts.ctx.events.listen(type_, note)
    api = alerts.client()
    acknowledged = await api.patch(
        "/api/v1/alerts/1", json={"status": "Acknowledged", "notes": "crew sent"}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    data = acknowledged.json()["data"]
    assert (data["status"], data["notes"], data["acknowledgedBy"]) == (
        "Acknowledged",
        "crew sent",
        "ops",
    )
    assert data["acknowledgedAt"].endswith("Z") and data["resolvedAt"] is None
    resolved = await api.patch("/api/v1/alerts/1", json={"status": "Resolved"})
    data = resolved.json()["data"]
    assert (data["status"], data["notes"], data["resolvedBy"]) == ("Resolved", "crew sent", "ops")
    assert data["resolvedAt"] is not None
    assert [(t, d["id"], d["status"]) for t, d in published] == [
        ("alert.updated", 1, "Acknowledged"),
        ("alert.resolved", 1, "Resolved"),
    ]
    assert published[1][1] == data  # the event carries the API shape

    back = await api.patch("/api/v1/alerts/1", json={"status": "Acknowledged"})
    assert back.status_code == 422
    assert back.json()["error"]["details"]["field"] == "status"
    assert "Resolved" in back.json()["error"]["message"]

    # The cause persists: its next report raises a new alert.
    alerts.ctx.events.publish(
        "connector.status",
        "CP-1",
        evseId=1,
        connectorId=1,
        status="Faulted",
        updatedAt=format_timestamp(T0 + timedelta(seconds=1)),
    )
    await alerts.ctx.alerts.settled()
    assert [
        a["id"] for a in _items(await api.get("/api/v1/alerts", params={"name": "FAULTED"}))
    ] == [
        4,
        1,
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "Triggered"}, "status"),
        ({"status": "Done"}, "status"),
        ({}, "status"),
        ({"status": "Resolved", "notes": "x" * 2001}, "notes"),
        ({"status": "Resolved", "note": "typo"}, "note"),
    ],
)
async def test_bad_bodies_are_a_422_naming_the_field(
    alerts: ApiHarness, body: dict[str, Any], field: str
) -> None:
    response = await alerts.client().patch("/api/v1/alerts/1", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert [e["field"] for e in response.json()["error"]["details"]["errors"]] == [field]


async def test_unknown_alerts_and_viewers_writes(alerts: ApiHarness) -> None:
    api = alerts.client()
    missing = await api.get("/api/v1/alerts/99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    missing = await api.patch("/api/v1/alerts/99", json={"status": "Resolved"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    viewer = alerts.client("viewer")
    forbidden = await viewer.patch("/api/v1/alerts/1", json={"status": "Resolved"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert (await viewer.get("/api/v1/alerts/1")).json()["data"]["status"] == "Triggered"
    assert (await alerts.client(None).get("/api/v1/alerts")).status_code == 401


async def test_the_openapi_document_lists_the_alert_routes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/alerts"]) == {"get"}
    assert set(paths["/api/v1/alerts/{alert_id}"]) == {"get", "patch"}
