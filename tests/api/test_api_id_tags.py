"""The id-tags table: create, read, partial update, delete, filters."""

from __future__ import annotations

from typing import Any

import httpx

from csms.domain.clock import format_timestamp
from tests.api.conftest import ApiHarness

ID_TAG_KEYS = {
    "idTagUid",
    "type",
    "status",
    "expireAt",
    "parentIdTag",
    "label",
    "userId",
    "externalId",
    "createdAt",
    "lastUpdatedAt",
}


async def test_create_with_defaults_and_read(harness: ApiHarness) -> None:
    api = harness.client()
    response = await api.post("/api/v1/id-tags", json={"idTagUid": "04A2B3C4"})
    assert response.status_code == 201
    tag = response.json()["data"]
    created = format_timestamp(harness.clock.now)  # the add is the request's last clock reading
    assert tag == {
        "idTagUid": "04A2B3C4",
        "type": None,  # no type: matches the value whatever 2.0.1 type the charger presents
        "status": "enabled",
        "expireAt": None,
        "parentIdTag": None,
        "label": None,
        "userId": None,
        "externalId": None,
        "createdAt": created,
        "lastUpdatedAt": created,
    }
    assert (await api.get("/api/v1/id-tags/04a2b3c4")).json()["data"] == tag

    response = await api.post(
        "/api/v1/id-tags",
        json={
            "idTagUid": "RFID-2",
            "type": "ISO14443",
            "status": "blocked",
            "expireAt": "2030-01-01T10:00:00+02:00",
            "parentIdTag": "FLEET",
            "label": "van 2",
            "userId": "alice@example.com",
            "externalId": "crm-42",
        },
    )
    assert response.status_code == 201
    tag = response.json()["data"]
    assert tag["expireAt"] == "2030-01-01T08:00:00.000Z"  # normalised to UTC
    assert tag["type"] == "ISO14443" and tag["status"] == "blocked"
    assert tag["createdAt"] == tag["lastUpdatedAt"] == format_timestamp(harness.clock.now)
    assert tag["createdAt"] > created

    tag = (await api.get("/api/v1/id-tags/RFID-2")).json()["data"]
    assert set(tag) == ID_TAG_KEYS
    assert tag["parentIdTag"] == "FLEET" and tag["label"] == "van 2"
    assert tag["userId"] == "alice@example.com" and tag["externalId"] == "crm-42"

    response = await api.post(
        "/api/v1/id-tags", json={"idTagUid": "NAIVE", "expireAt": "2030-06-01T00:00:00"}
    )
    assert response.json()["data"]["expireAt"] == "2030-06-01T00:00:00.000Z"

    response = await api.post("/api/v1/id-tags", json={"idTagUid": "04A2B3C4"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"

    response = await api.get("/api/v1/id-tags/UNKNOWN")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_validation(api: httpx.AsyncClient) -> None:
    bad: list[dict[str, Any]] = [
        {},
        {"idTagUid": ""},
        {"idTagUid": "x" * 37},
        {"idTagUid": "A", "status": "active"},
        {"idTagUid": "A", "expireAt": "next tuesday"},
        {"idTagUid": "A", "type": ""},
        {"idTagUid": "A", "type": "x" * 21},
        {"idTagUid": "A", "userId": ""},
        {"idTagUid": "A", "userId": "u" * 256},
        {"idTagUid": "A", "externalId": ""},
        {"idTagUid": "A", "externalId": "e" * 65},
        {"idTagUid": "A", "createdAt": "2030-01-01T00:00:00Z"},  # read-only
        {"idTagUid": "A", "lastUpdatedAt": "2030-01-01T00:00:00Z"},
        {"idTagUid": "A", "colour": "red"},
    ]
    for body in bad:
        response = await api.post("/api/v1/id-tags", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["details"]["errors"], body
    response = await api.post("/api/v1/id-tags", json={"idTagUid": "A", "status": "active"})
    assert response.json()["error"]["details"]["errors"][0]["field"] == "status"
    response = await api.post("/api/v1/id-tags", json={"idTagUid": "A", "externalId": "e" * 65})
    assert response.json()["error"]["details"]["errors"][0]["field"] == "externalId"
    assert (await api.post("/api/v1/id-tags", json={"idTagUid": "x" * 36})).status_code == 201
    longest = {"idTagUid": "LONG", "userId": "u" * 255, "externalId": "e" * 64, "type": None}
    response = await api.post("/api/v1/id-tags", json=longest)
    assert response.status_code == 201
    tag = response.json()["data"]
    assert (tag["userId"], tag["externalId"], tag["type"]) == ("u" * 255, "e" * 64, None)


async def test_patch_is_partial_and_null_clears_expiry(harness: ApiHarness) -> None:
    api = harness.client()
    response = await api.post(
        "/api/v1/id-tags",
        json={
            "idTagUid": "TAG-1",
            "expireAt": "2030-01-01T00:00:00Z",
            "label": "first",
            "parentIdTag": "GROUP",
            "userId": "alice",
            "externalId": "crm-1",
        },
    )
    created = response.json()["data"]["createdAt"]

    response = await api.patch("/api/v1/id-tags/TAG-1", json={"status": "disabled"})
    assert response.status_code == 200
    tag = response.json()["data"]
    assert tag["status"] == "disabled"
    assert tag["expireAt"] == "2030-01-01T00:00:00.000Z" and tag["label"] == "first"
    assert tag["parentIdTag"] == "GROUP" and tag["type"] is None
    assert (tag["userId"], tag["externalId"]) == ("alice", "crm-1")
    assert tag["createdAt"] == created
    assert (
        tag["lastUpdatedAt"] == format_timestamp(harness.clock.now)
        and created < tag["lastUpdatedAt"]
    )
    first_update = tag["lastUpdatedAt"]

    tag = (await api.patch("/api/v1/id-tags/TAG-1", json={"expireAt": None})).json()["data"]
    assert tag["expireAt"] is None and tag["status"] == "disabled" and tag["label"] == "first"
    assert tag["createdAt"] == created and tag["lastUpdatedAt"] > first_update

    # An empty PATCH changes nothing but still counts as an update.
    before = tag
    tag = (await api.patch("/api/v1/id-tags/TAG-1", json={})).json()["data"]
    assert tag == {**before, "lastUpdatedAt": format_timestamp(harness.clock.now)}
    assert tag["lastUpdatedAt"] > before["lastUpdatedAt"]

    tag = (
        await api.patch(
            "/api/v1/id-tags/TAG-1",
            json={
                "label": None,
                "parentIdTag": None,
                "type": "eMAID",
                "status": "enabled",
                "expireAt": "2031-05-05T05:05:05.5Z",
                "userId": "bob",
                "externalId": None,
            },
        )
    ).json()["data"]
    assert tag == {
        "idTagUid": "TAG-1",
        "type": "eMAID",
        "status": "enabled",
        "expireAt": "2031-05-05T05:05:05.500Z",
        "parentIdTag": None,
        "label": None,
        "userId": "bob",
        "externalId": None,
        "createdAt": created,
        "lastUpdatedAt": format_timestamp(harness.clock.now),
    }
    assert (await api.get("/api/v1/id-tags/TAG-1")).json()["data"] == tag

    # null clears the type (the tag matches any 2.0.1 type again) and the user.
    tag = (await api.patch("/api/v1/id-tags/TAG-1", json={"type": None, "userId": None})).json()[
        "data"
    ]
    assert (tag["type"], tag["userId"], tag["status"]) == (None, None, "enabled")
    assert (await api.get("/api/v1/id-tags/TAG-1")).json()["data"] == tag

    for body in (
        {"status": "bogus"},
        {"status": None},
        {"type": ""},
        {"userId": ""},
        {"externalId": "e" * 65},
        {"createdAt": "2030-01-01T00:00:00Z"},
        {"lastUpdatedAt": "2030-01-01T00:00:00Z"},
        {"idTagUid": "X"},
    ):
        response = await api.patch("/api/v1/id-tags/TAG-1", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"

    assert (await api.patch("/api/v1/id-tags/NOPE", json={"label": "x"})).status_code == 404


async def test_delete_and_paging(api: httpx.AsyncClient) -> None:
    for uid in ("C", "A", "E", "B", "D"):
        assert (await api.post("/api/v1/id-tags", json={"idTagUid": uid})).status_code == 201
    first = (await api.get("/api/v1/id-tags?limit=2")).json()["data"]
    assert [t["idTagUid"] for t in first["items"]] == ["A", "B"] and first["hasMore"] is True
    rest = (await api.get("/api/v1/id-tags?limit=3&startingAfter=B")).json()["data"]
    assert [t["idTagUid"] for t in rest["items"]] == ["C", "D", "E"] and rest["hasMore"] is False
    assert (await api.get("/api/v1/id-tags?limit=1001")).status_code == 422

    response = await api.delete("/api/v1/id-tags/C")
    assert response.status_code == 204 and response.content == b""
    assert (await api.get("/api/v1/id-tags/C")).status_code == 404
    assert (await api.delete("/api/v1/id-tags/C")).status_code == 404


async def test_list_filters_by_user_and_status(api: httpx.AsyncClient) -> None:
    tags = [
        ("T5", "alice", "enabled"),
        ("T1", "alice", "blocked"),
        ("T3", "bob", "enabled"),
        ("T2", "alice", "enabled"),
        ("T4", None, "disabled"),
        ("T6", "alice", "disabled"),
    ]
    for uid, user_id, status in tags:
        body = {"idTagUid": uid, "status": status, "userId": user_id}
        assert (await api.post("/api/v1/id-tags", json=body)).status_code == 201

    async def uids(query: str) -> tuple[list[str], bool]:
        response = await api.get(f"/api/v1/id-tags?{query}")
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return [t["idTagUid"] for t in data["items"]], data["hasMore"]

    assert await uids("userId=alice") == (["T1", "T2", "T5", "T6"], False)
    assert await uids("userId=alice&limit=2") == (["T1", "T2"], True)
    assert await uids("userId=alice&limit=2&startingAfter=T2") == (["T5", "T6"], False)
    assert await uids("userId=ALICE") == ([], False)
    assert await uids("status=enabled") == (["T2", "T3", "T5"], False)
    assert await uids("status=disabled&limit=1") == (["T4"], True)
    assert await uids("status=blocked") == (["T1"], False)
    assert await uids("userId=alice&status=enabled") == (["T2", "T5"], False)
    assert await uids("userId=bob&status=blocked") == ([], False)

    for query in ("status=active", "status=Enabled", "status=", f"userId={'u' * 256}"):
        response = await api.get(f"/api/v1/id-tags?{query}")
        assert response.status_code == 422, query
        error = response.json()["error"]
        assert error["code"] == "validation_error", query
    response = await api.get("/api/v1/id-tags?status=active")
    assert response.json()["error"]["details"]["errors"][0]["field"] == "status"


async def test_openapi_documents_the_new_fields_and_filters(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/id-tags"]["get"]["parameters"]}
    assert "exact" in parameters["userId"]["description"]
    assert "enabled" in parameters["status"]["description"]
    out = spec["components"]["schemas"]["IdTagOut"]["properties"]
    assert "read-only" in out["createdAt"]["description"]
    assert "PATCH" in out["lastUpdatedAt"]["description"]
    assert "whatever type" in out["type"]["description"]
    create = spec["components"]["schemas"]["IdTagCreate"]["properties"]
    assert {"userId", "externalId", "type"} <= set(create)
    assert "createdAt" not in create
