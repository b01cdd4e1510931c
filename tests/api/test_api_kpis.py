"""KPIs through the API, over history written with known times (the contract's example among
them: a charger offline from 10:00 to 10:30 in a 10:00-12:00 window has connectivity 0.75)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from csms.domain.models import ConnectorState
from tests.api.conftest import ApiHarness


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 1, hour, minute, tzinfo=UTC)


WINDOW = {"start": "2025-03-01T10:00:00Z", "end": "2025-03-01T12:00:00Z"}


async def _history(harness: ApiHarness) -> httpx.AsyncClient:
    harness.clock.now = at(8)  # registered before the window
    api = harness.client()
    assert (await api.post("/api/v1/networks", json={"id": "net", "name": "Net"})).is_success
    depot = {"id": "depot", "name": "Depot", "networkId": "net"}
    assert (await api.post("/api/v1/sites", json=depot)).is_success
    await harness.register("K1", siteId="depot")
    await harness.register("K2", siteId="depot")
    record = harness.store.chargers.record_connection
    await record("K1", ocpp_version="1.6", connected=True, at=at(9, 30))
    await record("K1", ocpp_version="1.6", connected=False, at=at(10))
    await record("K1", ocpp_version="1.6", connected=True, at=at(10, 30))
    await record("K2", ocpp_version="2.0.1", connected=True, at=at(9))
    status = harness.store.chargers.record_connector_status
    await status("K2", ConnectorState(1, 1, "Available", None, at(9)))
    await status("K2", ConnectorState(1, 1, "Faulted", "GroundFailure", at(11)))
    await status("K2", ConnectorState(1, 1, "Available", None, at(11, 30)))
    harness.clock.now = at(13)
    return harness.client("viewer")


async def test_connectivity_and_uptime_of_a_charger_and_a_site(harness: ApiHarness) -> None:
    api = await _history(harness)
    one = await api.get("/api/v1/kpis/connectivity", params={"chargePointId": "K1", **WINDOW})
    assert one.status_code == 200, one.text
    assert one.json()["data"] == {
        "value": 0.75,
        "start": "2025-03-01T10:00:00.000Z",
        "end": "2025-03-01T12:00:00.000Z",
        "items": [{"chargePointId": "K1", "evseId": None, "connectorId": None, "value": 0.75}],
    }
    site = (
        await api.get("/api/v1/kpis/connectivity", params={"siteId": "depot", **WINDOW})
    ).json()["data"]
    assert site["value"] == 0.875
    network = await api.get("/api/v1/kpis/connectivity", params={"networkId": "net", **WINDOW})
    assert network.json()["data"]["value"] == 0.875
    uptime = (await api.get("/api/v1/kpis/uptime", params={"siteId": "depot", **WINDOW})).json()[
        "data"
    ]
    # K1 has no connector known: its uptime is its connectivity; K2's connector was Faulted
    # for half an hour of the two.
    assert uptime["value"] == 0.75
    assert {(i["chargePointId"], i["connectorId"], i["value"]) for i in uptime["items"]} == {
        ("K1", None, 0.75),
        ("K2", 1, 0.75),
    }
    everyone = await api.get(
        "/api/v1/kpis/uptime", params={**WINDOW, "aggregateByConnector": "false"}
    )
    assert everyone.json()["data"]["value"] == 0.75


async def test_series(harness: ApiHarness) -> None:
    api = await _history(harness)
    response = await api.get(
        "/api/v1/kpis/connectivity/series",
        params={"chargePointId": "K1", "resolution": "1h", **WINDOW},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["points"] == [
        {"time": "2025-03-01T10:00:00.000Z", "value": 0.5},
        {"time": "2025-03-01T11:00:00.000Z", "value": 1.0},
    ]
    uptime = await api.get(
        "/api/v1/kpis/uptime/series",
        params={"chargePointId": "K2", "resolution": "15m", **WINDOW},
    )
    values = [p["value"] for p in uptime.json()["data"]["points"]]
    assert values == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]


async def test_bad_requests_are_4xx(harness: ApiHarness) -> None:
    api = await _history(harness)
    both = await api.get("/api/v1/kpis/uptime", params={"chargePointId": "K1", "siteId": "depot"})
    assert both.status_code == 422
    assert both.json()["error"]["details"]["field"] == "siteId"
    assert (await api.get("/api/v1/kpis/uptime", params={"siteId": "nowhere"})).status_code == 404
    assert (
        await api.get("/api/v1/kpis/connectivity", params={"chargePointId": "NOPE"})
    ).status_code == 404
    backwards = await api.get(
        "/api/v1/kpis/connectivity", params={"start": WINDOW["end"], "end": WINDOW["start"]}
    )
    assert backwards.status_code == 422
    bad_step = await api.get("/api/v1/kpis/uptime/series", params={"resolution": "5m"})
    assert bad_step.status_code == 422
    too_many = await api.get(
        "/api/v1/kpis/uptime/series",
        params={"resolution": "1m", "start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"},
    )
    assert too_many.status_code == 422
