"""Webhooks over the API: admin only, the secret once, validation, the attempts log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from csms.domain.webhooks import Attempt, DeliveryStatus, OutboxRow, event_body, signing_key
from tests.api.conftest import T0, ApiHarness

BASE = "/api/v1/webhooks"


async def _create(harness: ApiHarness, **fields: Any) -> dict[str, Any]:
    body = {"url": "https://receiver.example/hooks", **fields}
    response = await harness.client("admin").post(BASE, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_create_shows_the_secret_once(harness: ApiHarness) -> None:
    created = await _create(
        harness, events=["transaction.ended", "alert.triggered"], description="billing"
    )
    assert created["id"].startswith("wh_")
    assert created["secret"].startswith("whsec_") and len(signing_key(created["secret"])) == 32
    assert created["events"] == ["transaction.ended", "alert.triggered"]
    assert created["enabled"] is True and created["description"] == "billing"
    assert created["createdAt"].endswith("Z")
    admin = harness.client("admin")
    shown = (await admin.get(f"{BASE}/{created['id']}")).json()["data"]
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = (await admin.get(BASE)).json()["data"]
    assert listed == {"items": [shown], "hasMore": False}
    default = await _create(harness)
    assert default["events"] == ["*"] and default["description"] is None


async def test_paging(harness: ApiHarness) -> None:
    ids = sorted([(await _create(harness))["id"] for _ in range(3)])
    admin = harness.client("admin")
    first = (await admin.get(BASE, params={"limit": 2})).json()["data"]
    assert [item["id"] for item in first["items"]] == ids[:2] and first["hasMore"]
    rest = (await admin.get(BASE, params={"limit": 2, "startingAfter": ids[1]})).json()["data"]
    assert [item["id"] for item in rest["items"]] == ids[2:] and not rest["hasMore"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://receiver.example/x"}, "url"),
        ({"url": "receiver.example/hooks"}, "url"),
        ({"url": "https://receiver.example/", "events": ["transaction.exploded"]}, "events"),
        ({"url": "https://receiver.example/", "events": ["*", "meter.values"]}, "events"),
    ],
)
async def test_bad_urls_and_events_are_422_naming_the_field(
    harness: ApiHarness, body: dict[str, Any], field: str
) -> None:
    response = await harness.client("admin").post(BASE, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"]["field"] == field


@pytest.mark.parametrize(
    "body",
    [{}, {"url": "https://x.example/", "events": []}, {"url": "https://x.example/", "x": 1}],
)
async def test_malformed_bodies_are_422(harness: ApiHarness, body: dict[str, Any]) -> None:
    response = await harness.client("admin").post(BASE, json=body)
    assert response.status_code == 422, response.text


async def test_update_rotate_delete(harness: ApiHarness) -> None:
    created = await _create(harness, description="old")
    admin = harness.client("admin")
    url = f"{BASE}/{created['id']}"
    response = await admin.patch(
        url, json={"url": "http://10.0.0.7:8000/in", "events": ["meter.values"], "enabled": False}
    )
    assert response.status_code == 200, response.text
    changed = response.json()["data"]
    assert changed["url"] == "http://10.0.0.7:8000/in" and changed["events"] == ["meter.values"]
    assert changed["enabled"] is False and changed["description"] == "old"
    assert "secret" not in changed
    cleared = (await admin.patch(url, json={"description": None})).json()["data"]
    assert cleared["description"] is None and cleared["url"] == "http://10.0.0.7:8000/in"
    bad = await admin.patch(url, json={"url": "gopher://x"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "url"
    assert (await admin.patch(url, json={"enabled": None})).status_code == 422

    rotated = (await admin.post(f"{url}/rotate-secret")).json()["data"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    stored = await harness.store.webhooks.get_webhook(created["id"])
    assert stored is not None and stored.secret == rotated["secret"]

    assert (await admin.delete(url)).status_code == 204
    for response in (
        await admin.get(url),
        await admin.patch(url, json={"enabled": True}),
        await admin.delete(url),
        await admin.post(f"{url}/rotate-secret"),
        await admin.get(f"{url}/deliveries"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"


async def test_deliveries_newest_first(harness: ApiHarness) -> None:
    created = await _create(harness)
    hook_id = created["id"]
    store = harness.store.webhooks
    body = event_body("evt_1", "charger.connected", T0, {"ocppVersion": "1.6"})
    await store.enqueue([OutboxRow(hook_id, "evt_1", "charger.connected", "CP1", body, T0)])
    entry = (await store.due(hook_id, T0, 1))[0]
    for attempt, (status, code) in enumerate(
        [(DeliveryStatus.RETRYING, None), (DeliveryStatus.DELIVERED, 200)], start=1
    ):
        at = T0 + timedelta(seconds=attempt)
        await store.record_attempt(
            Attempt(
                outbox_id=entry.id,
                webhook_id=hook_id,
                event_id="evt_1",
                type="charger.connected",
                attempt=attempt,
                status=status,
                response_code=code,
                error="ConnectError: refused" if code is None else None,
                at=at,
                next_attempt_at=at if status is DeliveryStatus.RETRYING else None,
            )
        )
    admin = harness.client("admin")
    page = (await admin.get(f"{BASE}/{hook_id}/deliveries", params={"limit": 1})).json()["data"]
    assert page["hasMore"] is True
    [newest] = page["items"]
    assert {k: v for k, v in newest.items() if k != "id"} == {
        "eventId": "evt_1",
        "type": "charger.connected",
        "attempt": 2,
        "status": "delivered",
        "responseCode": 200,
        "error": None,
        "at": "2025-03-01T12:00:02.123Z",
    }
    rest = (
        await admin.get(f"{BASE}/{hook_id}/deliveries", params={"startingAfter": newest["id"]})
    ).json()["data"]
    assert [(d["attempt"], d["status"], d["responseCode"]) for d in rest["items"]] == [
        (1, "retrying", None)
    ]
    assert rest["items"][0]["error"] == "ConnectError: refused" and not rest["hasMore"]


@pytest.mark.parametrize("role", ["operator", "viewer"])
async def test_admin_only(harness: ApiHarness, role: str) -> None:
    created = await _create(harness)
    client = harness.client(role)
    url = f"{BASE}/{created['id']}"
    for response in (
        await client.get(BASE),
        await client.post(BASE, json={"url": "https://x.example/"}),
        await client.get(url),
        await client.patch(url, json={"enabled": False}),
        await client.delete(url),
        await client.post(f"{url}/rotate-secret"),
        await client.get(f"{url}/deliveries"),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    assert (await harness.client(None).get(BASE)).status_code == 401
