"""The id-tags table: create, read, partial update, delete."""

from __future__ import annotations

from typing import Any

import httpx

ID_TAG_KEYS = {"idTagUid", "type", "status", "expireAt", "parentIdTag", "label"}


async def test_create_with_defaults_and_read(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/id-tags", json={"idTagUid": "04A2B3C4"})
    assert response.status_code == 201
    tag = response.json()["data"]
    assert tag == {
        "idTagUid": "04A2B3C4",
        "type": "Central",
        "status": "enabled",
        "expireAt": None,
        "parentIdTag": None,
        "label": None,
    }

    response = await api.post(
        "/api/v1/id-tags",
        json={
            "idTagUid": "RFID-2",
            "type": "ISO14443",
            "status": "blocked",
            "expireAt": "2030-01-01T10:00:00+02:00",
            "parentIdTag": "FLEET",
            "label": "van 2",
        },
    )
    assert response.status_code == 201
    tag = response.json()["data"]
    assert tag["expireAt"] == "2030-01-01T08:00:00.000Z"  # normalised to UTC
    assert tag["type"] == "ISO14443" and tag["status"] == "blocked"

    tag = (await api.get("/api/v1/id-tags/RFID-2")).json()["data"]
    assert set(tag) == ID_TAG_KEYS
    assert tag["parentIdTag"] == "FLEET" and tag["label"] == "van 2"

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
        {"idTagUid": "A", "colour": "red"},
    ]
    for body in bad:
        response = await api.post("/api/v1/id-tags", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["details"]["errors"], body
    response = await api.post("/api/v1/id-tags", json={"idTagUid": "A", "status": "active"})
    assert response.json()["error"]["details"]["errors"][0]["field"] == "status"
    assert (await api.post("/api/v1/id-tags", json={"idTagUid": "x" * 36})).status_code == 201


async def test_patch_is_partial_and_null_clears_expiry(api: httpx.AsyncClient) -> None:
    await api.post(
        "/api/v1/id-tags",
        json={
            "idTagUid": "TAG-1",
            "expireAt": "2030-01-01T00:00:00Z",
            "label": "first",
            "parentIdTag": "GROUP",
        },
    )

    response = await api.patch("/api/v1/id-tags/TAG-1", json={"status": "disabled"})
    assert response.status_code == 200
    tag = response.json()["data"]
    assert tag["status"] == "disabled"
    assert tag["expireAt"] == "2030-01-01T00:00:00.000Z" and tag["label"] == "first"
    assert tag["parentIdTag"] == "GROUP" and tag["type"] == "Central"

    tag = (await api.patch("/api/v1/id-tags/TAG-1", json={"expireAt": None})).json()["data"]
    assert tag["expireAt"] is None and tag["status"] == "disabled" and tag["label"] == "first"

    tag = (
        await api.patch(
            "/api/v1/id-tags/TAG-1",
            json={
                "label": None,
                "parentIdTag": None,
                "type": "eMAID",
                "status": "enabled",
                "expireAt": "2031-05-05T05:05:05.5Z",
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
    }
    assert (await api.get("/api/v1/id-tags/TAG-1")).json()["data"] == tag

    for body in ({"status": "bogus"}, {"status": None}, {"type": None}, {"idTagUid": "X"}):
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
