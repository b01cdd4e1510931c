"""Networks, sites and the site tree through the API (in-process, real SQLite store)."""

from __future__ import annotations

from typing import Any

import httpx

from csms.domain.models import ConnectorState
from tests.api.conftest import T0, ApiHarness

ADDRESS = {"streetName": "Main St", "city": "Utrecht", "postalCode": "3511", "countryCode": "NL"}


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_network_crud(api: httpx.AsyncClient) -> None:
    network = await created(
        await api.post(
            "/api/v1/networks",
            json={"name": "City", "type": "public", "physicalAddress": ADDRESS},
        )
    )
    assert network["id"].startswith("net_") and network["name"] == "City"
    assert network["physicalAddress"] == ADDRESS and network["contactDetails"] is None
    assert network["createdAt"] == network["updatedAt"] and network["createdAt"].endswith("Z")
    named = await created(await api.post("/api/v1/networks", json={"id": "fleet", "name": "Fleet"}))
    assert named["id"] == "fleet"
    error = await error_of(
        await api.post("/api/v1/networks", json={"id": "fleet", "name": "Again"}), 409
    )
    assert error["code"] == "conflict" and error["details"]["field"] == "id"

    response = await api.patch(
        f"/api/v1/networks/{network['id']}",
        json={"contactDetails": {"email": "ops@example.com"}, "type": None},
    )
    patched = response.json()["data"]
    assert patched["contactDetails"] == {"email": "ops@example.com"} and patched["type"] is None
    assert patched["physicalAddress"] == ADDRESS and patched["updatedAt"] > network["updatedAt"]

    page = (await api.get("/api/v1/networks", params={"limit": 1})).json()["data"]
    assert [n["id"] for n in page["items"]] == ["fleet"] and page["hasMore"] is True
    assert (await api.get("/api/v1/networks/nope")).status_code == 404
    for bad in ({"name": ""}, {"name": "x", "physicalAddress": {"city": "c"}}, {"bogus": 1}):
        error = await error_of(await api.post("/api/v1/networks", json=bad), 422)
        assert error["code"] == "validation_error"
    assert (await api.delete("/api/v1/networks/fleet")).status_code == 204
    assert (await api.get("/api/v1/networks/fleet")).status_code == 404


async def test_sites_nest_and_refuse_cycles_and_unknown_parents(api: httpx.AsyncClient) -> None:
    await created(await api.post("/api/v1/networks", json={"id": "n1", "name": "N1"}))
    await created(await api.post("/api/v1/networks", json={"id": "n2", "name": "N2"}))
    region = await created(
        await api.post("/api/v1/sites", json={"id": "region", "name": "R", "networkId": "n1"})
    )
    assert region["type"] == "site" and region["parentSiteId"] is None
    city = await created(
        await api.post(
            "/api/v1/sites",
            json={"id": "city", "name": "C", "type": "area", "parentSiteId": "region"},
        )
    )
    assert city["type"] == "area" and city["networkId"] is None  # inherited, not copied
    await created(
        await api.post("/api/v1/sites", json={"id": "depot", "name": "D", "parentSiteId": "city"})
    )

    cases = [
        ("post", "/api/v1/sites", {"name": "x", "parentSiteId": "ghost"}, "parentSiteId"),
        ("post", "/api/v1/sites", {"name": "x", "networkId": "ghost"}, "networkId"),
        (
            "post",
            "/api/v1/sites",
            {"name": "x", "parentSiteId": "city", "networkId": "n2"},
            "networkId",
        ),
        ("patch", "/api/v1/sites/region", {"parentSiteId": "depot"}, "parentSiteId"),
        ("patch", "/api/v1/sites/region", {"parentSiteId": "region"}, "parentSiteId"),
    ]
    for method, url, body, field in cases:
        error = await error_of(await api.request(method, url, json=body), 422)
        assert error["code"] == "validation_error" and error["details"]["field"] == field, body
    # Nothing half-written: the region is still at the top, no stray site was added.
    assert (await api.get("/api/v1/sites/region")).json()["data"]["parentSiteId"] is None
    listed = (await api.get("/api/v1/sites", params={"limit": 100})).json()["data"]["items"]
    assert [s["id"] for s in listed] == ["city", "depot", "region"]
    below = (await api.get("/api/v1/sites", params={"parentSiteId": "region"})).json()["data"]
    assert [s["id"] for s in below["items"]] == ["city"]

    moved = await api.patch("/api/v1/sites/depot", json={"parentSiteId": "region", "name": "Depot"})
    assert moved.status_code == 200 and moved.json()["data"]["parentSiteId"] == "region"
    assert (await api.patch("/api/v1/sites/nope", json={"name": "x"})).status_code == 404


async def test_deleting_what_still_has_children_is_a_conflict(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await created(await api.post("/api/v1/networks", json={"id": "n", "name": "N"}))
    await created(
        await api.post("/api/v1/sites", json={"id": "top", "name": "T", "networkId": "n"})
    )
    await created(
        await api.post("/api/v1/sites", json={"id": "low", "name": "L", "parentSiteId": "top"})
    )
    await harness.register("CP-1", siteId="low")

    for url in ("/api/v1/networks/n", "/api/v1/sites/top", "/api/v1/sites/low"):
        error = await error_of(await api.delete(url), 409)
        assert error["code"] == "conflict", url
    assert (await api.patch("/api/v1/charge-points/CP-1", json={"siteId": None})).status_code == 200
    for url in ("/api/v1/sites/low", "/api/v1/sites/top", "/api/v1/networks/n"):
        assert (await api.delete(url)).status_code == 204, url
    assert (await api.delete("/api/v1/sites/low")).status_code == 404


def counts(node: dict[str, Any]) -> tuple[int, int, int]:
    return node["onlineSocket"], node["offlineSocket"], node["errorSocket"]


async def _connect(harness: ApiHarness, cp_id: str, *statuses: tuple[int, str]) -> None:
    chargers = harness.ctx.chargers
    await chargers.connected(cp_id, "1.6", registered=True)
    for connector_id, status in statuses:
        await chargers.connector_status(
            cp_id, ConnectorState(connector_id, connector_id, status, "NoError", T0)
        )


async def test_the_tree_rolls_up_live_socket_counts(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await created(await api.post("/api/v1/networks", json={"id": "n1", "name": "Network"}))
    await created(
        await api.post(
            "/api/v1/sites",
            json={"id": "r", "name": "Region", "networkId": "n1", "externalId": "X-1"},
        )
    )
    await created(
        await api.post("/api/v1/sites", json={"id": "d", "name": "Depot", "parentSiteId": "r"})
    )
    await harness.register("CP-A", siteId="d")
    await harness.register("CP-B", siteId="r")
    await harness.register("CP-C")
    await _connect(harness, "CP-A", (0, "Available"), (1, "Charging"), (2, "Faulted"))
    await _connect(harness, "CP-B", (1, "Available"))
    await harness.ctx.chargers.disconnected("CP-B", "1.6", 1006)

    async def tree(**params: Any) -> list[dict[str, Any]]:
        response = await api.get("/api/v1/site-tree", params=params)
        assert response.status_code == 200, response.text
        nodes: list[dict[str, Any]] = response.json()["data"]
        return nodes

    network, unassigned = await tree()
    assert (network["id"], network["groupName"], network["groupType"]) == (
        "n1",
        "Network",
        "network",
    )
    region = network["subgroups"][0]
    depot = region["subgroups"][0]
    assert region["externalId"] == "X-1" and region["chargers"] == ["CP-B"]
    assert depot["chargers"] == ["CP-A"] and depot["groupType"] == "site"
    assert counts(depot) == (1, 0, 1)
    assert counts(region) == counts(network) == (1, 1, 1)
    assert unassigned["id"] == "unassigned" and unassigned["chargers"] == ["CP-C"]
    assert counts(unassigned) == (0, 0, 0)

    # Live: the next read shows a status change and a disconnect.
    await harness.ctx.chargers.connector_status(
        "CP-A", ConnectorState(2, 2, "Available", "NoError", T0)
    )
    assert counts((await tree())[0]) == (2, 1, 0)
    await harness.ctx.chargers.disconnected("CP-A", "1.6", 1000)
    assert counts((await tree())[0]) == (0, 3, 0)

    brief = await tree(excludeDetails="true")
    assert brief[0] == {
        "id": "n1",
        "name": "Network",
        "type": "network",
        "subgroups": [
            {
                "id": "r",
                "name": "Region",
                "type": "site",
                "subgroups": [{"id": "d", "name": "Depot", "type": "site", "subgroups": []}],
            }
        ],
    }
    only = await tree(networkId="n1")
    assert [n["id"] for n in only] == ["n1"]
    assert (await api.get("/api/v1/site-tree", params={"networkId": "nope"})).status_code == 404


async def test_charge_points_filter_by_site_subtree_network_and_model(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await created(await api.post("/api/v1/networks", json={"id": "n1", "name": "N1"}))
    await created(await api.post("/api/v1/sites", json={"id": "r", "name": "R", "networkId": "n1"}))
    await created(
        await api.post("/api/v1/sites", json={"id": "d", "name": "D", "parentSiteId": "r"})
    )
    await created(await api.post("/api/v1/sites", json={"id": "o", "name": "O"}))
    await harness.register("CP-1", siteId="d")
    await harness.register("CP-2", siteId="r")
    await harness.register("CP-3", siteId="o")
    await harness.register("CP-4")

    async def ids(**params: str) -> list[str]:
        response = await api.get("/api/v1/charge-points", params=params)
        assert response.status_code == 200, response.text
        return [cp["id"] for cp in response.json()["data"]["items"]]

    assert await ids(siteId="r") == ["CP-1", "CP-2"]
    assert await ids(siteId="d") == ["CP-1"]
    assert await ids(networkId="n1") == ["CP-1", "CP-2"]
    assert await ids(networkId="n1", siteId="o") == []
    assert await ids(siteId="ghost") == []
    assert await ids() == ["CP-1", "CP-2", "CP-3", "CP-4"]
