"""API tokens over HTTP: admin-only list / create / revoke, the token shown once, expiry and
revocation answered 401 at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from csms.domain.clock import format_timestamp
from tests.api.conftest import ApiHarness

TOKEN_KEYS = {"id", "role", "label", "createdAt", "expiresAt", "lastUsedAt", "source"}
BASE = "/api/v1/api-tokens"


async def _create(harness: ApiHarness, **body: Any) -> dict[str, Any]:
    response = await harness.client("admin").post(BASE, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def _bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", BASE), ("POST", BASE), ("DELETE", f"{BASE}/tok_unknown")],
)
async def test_only_an_admin_may_use_the_token_routes(
    harness: ApiHarness, method: str, path: str
) -> None:
    body = {"role": "viewer"} if method == "POST" else None
    answers: dict[str, tuple[int, str]] = {}
    for who in (None, "viewer", "operator"):
        response = await harness.client(who).request(method, path, json=body)
        answers[str(who)] = (response.status_code, response.json()["error"]["code"])
    assert answers == {
        "None": (401, "unauthorized"),
        "viewer": (403, "forbidden"),
        "operator": (403, "forbidden"),
    }
    admin = await harness.client("admin").request(method, path, json=body)
    expected = {"GET": 200, "POST": 201, "DELETE": 404}[method]  # the id is unknown: 404
    assert admin.status_code == expected, admin.text


async def test_an_operator_is_told_why(harness: ApiHarness) -> None:
    response = await harness.client("operator").get(BASE)
    error = response.json()["error"]
    assert error["details"] == {"role": "operator"} and "admin" in error["message"]


async def test_create_shows_the_token_once_and_it_works_with_its_role(
    harness: ApiHarness,
) -> None:
    created = await _create(harness, role="viewer", label="wallboard")
    assert set(created) == TOKEN_KEYS | {"token"}
    assert created["id"].startswith("tok_") and not created["id"][4:].isdigit()
    assert (created["role"], created["label"], created["source"]) == ("viewer", "wallboard", "api")
    assert created["expiresAt"] is None and created["lastUsedAt"] is None
    assert created["createdAt"].endswith("Z")
    token = created["token"]
    assert len(token) >= 32

    as_new = harness.client(_bearer(token))
    assert (await as_new.get("/api/v1/charge-points")).status_code == 200
    write = await as_new.post("/api/v1/id-tags", json={"idTagUid": "T"})
    assert write.status_code == 403  # a viewer token

    # The list shows the record, never the token nor its hash.
    listed = (await harness.client("admin").get(BASE)).json()["data"]
    [item] = [t for t in listed["items"] if t["id"] == created["id"]]
    assert set(item) == TOKEN_KEYS
    assert token not in str(listed)
    assert item["label"] == "wallboard" and item["source"] == "api"
    # Used once just now: the list shows it, though the database is written only later.
    assert item["lastUsedAt"] is not None and item["lastUsedAt"] > created["createdAt"]


async def test_an_admin_token_created_through_the_api_can_manage_tokens(
    harness: ApiHarness,
) -> None:
    created = await _create(harness, role="admin")
    assert created["label"] is None
    response = await harness.client(_bearer(created["token"])).get(BASE)
    assert response.status_code == 200


async def test_the_list_is_paged_by_id(harness: ApiHarness) -> None:
    for n in range(3):
        await _create(harness, role="operator", label=f"t{n}")
    admin = harness.client("admin")
    everything = (await admin.get(BASE)).json()["data"]
    ids = [t["id"] for t in everything["items"]]
    assert len(ids) == 6 and ids == sorted(ids) and not everything["hasMore"]  # 3 + harness's 3
    assert {t["source"] for t in everything["items"]} == {"api", "cli"}

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["startingAfter"] = cursor
        page = (await admin.get(BASE, params=params)).json()["data"]
        seen += [t["id"] for t in page["items"]]
        if not page["hasMore"]:
            break
        cursor = seen[-1]
    assert seen == ids


async def test_a_deleted_token_is_refused_at_once_and_deleting_again_is_404(
    harness: ApiHarness,
) -> None:
    created = await _create(harness, role="operator", label="short-lived")
    as_it = harness.client(_bearer(created["token"]))
    assert (await as_it.get("/api/v1/charge-points")).status_code == 200  # now in the cache

    admin = harness.client("admin")
    response = await admin.delete(f"{BASE}/{created['id']}")
    assert response.status_code == 204 and response.content == b""
    response = await as_it.get("/api/v1/charge-points")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    ids = [t["id"] for t in (await admin.get(BASE)).json()["data"]["items"]]
    assert created["id"] not in ids

    response = await admin.delete(f"{BASE}/{created['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert created["id"] in response.json()["error"]["message"]


async def test_an_expired_token_is_refused(harness: ApiHarness) -> None:
    expires = harness.clock.now + timedelta(minutes=10)
    created = await _create(harness, role="operator", expiresAt=format_timestamp(expires))
    assert created["expiresAt"] == format_timestamp(expires)
    as_it = harness.client(_bearer(created["token"]))
    assert (await as_it.get("/api/v1/charge-points")).status_code == 200
    harness.clock.now = expires  # the harness's clock moves a second per reading: now past it
    response = await as_it.get("/api/v1/charge-points")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    # The record is still listed (an admin may see what expired), with its expiry.
    listed = (await harness.client("admin").get(BASE)).json()["data"]["items"]
    [item] = [t for t in listed if t["id"] == created["id"]]
    assert item["expiresAt"] == format_timestamp(expires)


async def test_an_expiry_in_the_past_is_a_422_naming_the_field(harness: ApiHarness) -> None:
    past = format_timestamp(harness.clock.now - timedelta(days=1))
    response = await harness.client("admin").post(BASE, json={"role": "viewer", "expiresAt": past})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["field"] == "expiresAt"
    assert "future" in error["message"]
    listed = (await harness.client("admin").get(BASE)).json()["data"]["items"]
    assert len(listed) == 3  # nothing was created


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"role": "root"},
        {"role": "viewer", "label": ""},
        {"role": "viewer", "name": "x"},  # unknown field
        {"role": "viewer", "expiresAt": "soon"},
    ],
)
async def test_bad_bodies_are_422(harness: ApiHarness, body: dict[str, Any]) -> None:
    response = await harness.client("admin").post(BASE, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
