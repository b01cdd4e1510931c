"""A charger's connection and status history through the API: written by the charger service's
own writes, read by window and paged."""

from __future__ import annotations

from datetime import timedelta

from csms.domain.models import ConnectorState
from tests.api.conftest import T0, ApiHarness


async def test_connection_and_status_history(harness: ApiHarness) -> None:
    await harness.register("CP-H")
    chargers = harness.ctx.chargers
    await chargers.connected("CP-H", "1.6", registered=True)
    await chargers.connector_status("CP-H", ConnectorState(1, 1, "Available", "NoError", T0))
    await chargers.connector_status(
        "CP-H", ConnectorState(1, 1, "Faulted", "GroundFailure", T0 + timedelta(seconds=30))
    )
    await chargers.disconnected("CP-H", "1.6", 1006)
    await chargers.connected("CP-H", "1.6", registered=True)
    api = harness.client("viewer")

    response = await api.get("/api/v1/charge-points/cp-h/connection-history")
    assert response.status_code == 200, response.text
    items = response.json()["data"]["items"]
    assert [(i["reason"], i["disconnectedAt"] is None) for i in items] == [
        ("connection_lost", False),
        (None, True),
    ]
    assert items[0]["connectedAt"] < items[0]["disconnectedAt"] <= items[1]["connectedAt"]
    page = await api.get(
        "/api/v1/charge-points/CP-H/connection-history",
        params={"limit": 1, "startingAfter": items[0]["id"]},
    )
    assert [i["id"] for i in page.json()["data"]["items"]] == [items[1]["id"]]

    response = await api.get(
        "/api/v1/charge-points/CP-H/status-history", params={"start": "2025-03-01T00:00:00Z"}
    )
    assert response.status_code == 200, response.text
    assert [
        {k: i[k] for k in ("evseId", "connectorId", "status", "errorCode", "from", "to")}
        for i in response.json()["data"]["items"]
    ] == [
        {
            "evseId": 1,
            "connectorId": 1,
            "status": "Available",
            "errorCode": "NoError",
            "from": "2025-03-01T12:00:00.123Z",
            "to": "2025-03-01T12:00:30.123Z",
        },
        {
            "evseId": 1,
            "connectorId": 1,
            "status": "Faulted",
            "errorCode": "GroundFailure",
            "from": "2025-03-01T12:00:30.123Z",
            "to": None,
        },
    ]
    # A window before anything happened; another EVSE.
    empty = await api.get(
        "/api/v1/charge-points/CP-H/status-history",
        params={"start": "2025-02-01T00:00:00Z", "end": "2025-02-02T00:00:00Z"},
    )
    assert empty.json()["data"] == {"items": [], "hasMore": False}
    other = await api.get("/api/v1/charge-points/CP-H/status-history", params={"evseId": 2})
    assert other.json()["data"]["items"] == []


async def test_bad_windows_and_unknown_chargers_are_4xx(harness: ApiHarness) -> None:
    await harness.register("CP-H")
    api = harness.client()
    backwards = await api.get(
        "/api/v1/charge-points/CP-H/connection-history",
        params={"start": "2025-03-02T00:00:00Z", "end": "2025-03-01T00:00:00Z"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"]["field"] == "end"
    garbage = await api.get(
        "/api/v1/charge-points/CP-H/status-history", params={"start": "yesterday"}
    )
    assert garbage.status_code == 422
    missing = await api.get("/api/v1/charge-points/NOPE/status-history")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
