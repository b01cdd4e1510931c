"""The model catalogue and EVSE records through the API (in-process, real SQLite store)."""

from __future__ import annotations

from typing import Any

import httpx

from csms.domain.models import BootInfo, ConnectorState
from tests.api.conftest import T0, ApiHarness

OUTLET = {
    "id": 1,
    "connectionType": "type2",
    "format": "SOCKET",
    "maxAmperage": 32,
    "maxVoltage": 230,
    "maxPowerWatts": 22000,
}
VOLT = {"vendor": "Acme", "model": "Volt 22", "powerType": "AC_3_PHASE", "connectors": [OUTLET]}


async def add_model(harness: ApiHarness, **fields: Any) -> dict[str, Any]:
    response = await harness.client("admin").post(
        "/api/v1/charging-station-models", json={**VOLT, **fields}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_models_are_created_by_admins_listed_renamed_and_archived(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    model = await add_model(harness, friendlyName="The Volt")
    assert model["id"].startswith("model_") and model["isArchived"] is False
    assert model["connectors"] == [OUTLET] and model["imageUrl"] is None

    response = await api.post("/api/v1/charging-station-models", json=VOLT)
    assert response.status_code == 403  # an operator may not write the catalogue
    duplicate = await harness.client("admin").post(
        "/api/v1/charging-station-models", json={**VOLT, "vendor": "ACME"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["details"] == {"field": "model"}
    bad = await harness.client("admin").post(
        "/api/v1/charging-station-models", json={**VOLT, "powerType": "AC_2_PHASE"}
    )
    assert bad.status_code == 422

    renamed = await api.patch(
        f"/api/v1/charging-station-models/{model['id']}", json={"friendlyName": "Volt"}
    )
    assert renamed.status_code == 200 and renamed.json()["data"]["friendlyName"] == "Volt"
    not_renames: list[dict[str, Any]] = [{"vendor": "Other"}, {"connectors": []}]
    for body in not_renames:
        response = await api.patch(f"/api/v1/charging-station-models/{model['id']}", json=body)
        assert response.status_code == 422, body  # only friendlyName may change

    other = await add_model(harness, vendor="Other", model="X")

    async def ids(**params: str) -> list[str]:
        response = await api.get("/api/v1/charging-station-models", params=params)
        assert response.status_code == 200, response.text
        return sorted(m["id"] for m in response.json()["data"]["items"])

    assert await ids() == sorted([model["id"], other["id"]])
    assert await ids(vendor="acme") == [model["id"]]
    assert await ids(model="X") == [other["id"]]

    archive = f"/api/v1/charging-station-models/{model['id']}/archive"
    assert (await api.post(archive)).status_code == 403
    archived = await harness.client("admin").post(archive)
    assert archived.status_code == 200 and archived.json()["data"]["isArchived"] is True
    assert await ids() == [other["id"]]
    assert await ids(isArchived="true") == [model["id"]]
    assert (await api.get(f"/api/v1/charging-station-models/{model['id']}")).status_code == 200
    await add_model(harness)  # vendor+model are free again once the old one is archived
    missing = await harness.client("admin").post("/api/v1/charging-station-models/nope/archive")
    assert missing.status_code == 404


async def test_chargers_link_by_patch_or_at_boot_and_archived_models_keep_links(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    model = await add_model(harness)
    await harness.register("CP-1")
    await harness.register("CP-2")
    await harness.ctx.chargers.boot("CP-1", "1.6", BootInfo(vendor="acme", model="VOLT 22"))
    cp = (await api.get("/api/v1/charge-points/CP-1")).json()["data"]
    assert cp["modelId"] == model["id"] and cp["registrationStatus"] == "Accepted"
    listed = await api.get("/api/v1/charge-points", params={"modelId": model["id"]})
    assert [c["id"] for c in listed.json()["data"]["items"]] == ["CP-1"]

    await harness.client("admin").post(f"/api/v1/charging-station-models/{model['id']}/archive")
    cp = (await api.get("/api/v1/charge-points/CP-1")).json()["data"]
    assert cp["modelId"] == model["id"]  # kept
    refused = await api.patch("/api/v1/charge-points/CP-2", json={"modelId": model["id"]})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "modelId"
    await harness.ctx.chargers.boot("CP-2", "1.6", BootInfo(vendor="Acme", model="Volt 22"))
    cp2 = (await api.get("/api/v1/charge-points/CP-2")).json()["data"]
    assert cp2["modelId"] is None  # an archived model takes no new links
    unknown = await api.patch("/api/v1/charge-points/CP-2", json={"modelId": "ghost"})
    assert unknown.status_code == 422


async def test_evse_records_default_from_the_model_and_show_live_status(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    model = await add_model(harness)
    await harness.register("CP-1", modelId=model["id"], externalId="asset-9")
    assert (await api.get("/api/v1/charge-points/CP-1/evses/1")).status_code == 404
    await harness.ctx.chargers.connector_status(
        "CP-1", ConnectorState(1, 1, "Charging", "NoError", T0)
    )
    evse = (await api.get("/api/v1/charge-points/CP-1/evses/1")).json()["data"]
    assert evse == {
        "evseId": 1,
        "label": None,
        "physicalReference": None,
        "currentType": "ac",
        "powerOptions": {
            "maxPower": 22000.0,
            "maxVoltage": 230.0,
            "maxAmperage": 32.0,
            "phases": 3,
            "phaseRotation": None,
            "connectedPhase": None,
        },
        "connectors": [
            {
                "connectorId": 1,
                "type": "type2",
                "format": "SOCKET",
                "status": "Charging",
                "errorCode": "NoError",
                "updatedAt": "2025-03-01T12:00:00.123Z",
            }
        ],
    }
    response = await api.patch(
        "/api/v1/charge-points/CP-1/evses/1",
        json={
            "label": "Bay 1",
            "physicalReference": "P-001",
            "powerOptions": {"maxAmperage": 16, "phases": 1, "connectedPhase": "L2"},
        },
    )
    assert response.status_code == 200, response.text
    patched = response.json()["data"]
    assert patched["label"] == "Bay 1" and patched["physicalReference"] == "P-001"
    options = patched["powerOptions"]
    assert (options["maxAmperage"], options["phases"], options["connectedPhase"]) == (16, 1, "L2")
    assert options["maxVoltage"] == 230.0  # still the model's
    cleared = await api.patch(
        "/api/v1/charge-points/CP-1/evses/1", json={"powerOptions": {"maxAmperage": None}}
    )
    assert cleared.json()["data"]["powerOptions"]["maxAmperage"] == 32.0

    connector = await api.patch(
        "/api/v1/charge-points/CP-1/evses/1/connectors/2", json={"type": "ccs2", "format": "CABLE"}
    )
    assert connector.status_code == 200
    got = [
        (c["connectorId"], c["type"], c["format"], c["status"])
        for c in connector.json()["data"]["connectors"]
    ]
    assert got == [(1, "type2", "SOCKET", "Charging"), (2, "ccs2", "CABLE", None)]
    # An EVSE the charger has not reported can be described ahead of time.
    ahead = await api.patch("/api/v1/charge-points/CP-1/evses/2", json={"currentType": "dc"})
    assert ahead.status_code == 200 and ahead.json()["data"]["currentType"] == "dc"
    listed = (await api.get("/api/v1/charge-points/CP-1/evses")).json()["data"]
    assert [e["evseId"] for e in listed] == [1, 2]

    bad_bodies: list[dict[str, Any]] = [
        {"powerOptions": {"phases": 2}},
        {"powerOptions": {"phaseRotation": "XYZ"}},
        {"powerOptions": {"connectedPhase": "L4"}},
        {"powerOptions": {"maxAmperage": -1}},
        {"powerOptions": None},
        {"currentType": "ac/dc"},
        {"bogus": 1},
    ]
    for body in bad_bodies:
        response = await api.patch("/api/v1/charge-points/CP-1/evses/1", json=body)
        assert response.status_code == 422, body
    assert (await api.patch("/api/v1/charge-points/CP-1/evses/0", json={})).status_code == 422
    missing = await api.patch("/api/v1/charge-points/NOPE/evses/1", json={"label": "x"})
    assert missing.status_code == 404
    assert (await api.get("/api/v1/charge-points/NOPE/evses")).status_code == 404
