"""The OCPP message log as operators read it."""

from __future__ import annotations

from datetime import timedelta

import httpx

from csms.domain.models import LoggedFrame, MessageExchange
from tests.api.conftest import T0, ApiHarness

MESSAGE_KEYS = {
    "id",
    "chargePointId",
    "direction",
    "messageType",
    "uniqueId",
    "action",
    "payload",
    "timestamp",
}


async def _seed(harness: ApiHarness) -> None:
    await harness.store.message_log.append_exchanges(
        [
            MessageExchange(
                "CP-1",
                "m1",
                "BootNotification",
                LoggedFrame(
                    "in",
                    2,
                    T0,
                    '[2,"m1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"X1"}]',
                ),
                LoggedFrame(
                    "out",
                    3,
                    T0 + timedelta(seconds=1),
                    '[3,"m1",{"status":"Accepted","currentTime":"2025-03-01T12:00:00.123Z",'
                    '"interval":300}]',
                ),
            ),
            MessageExchange(
                "CP-2",
                "h1",
                "Heartbeat",
                LoggedFrame("in", 2, T0 + timedelta(seconds=2), '[2,"h1","Heartbeat",{}]'),
            ),
            MessageExchange(
                "CP-1",
                "r1",
                "Reset",
                LoggedFrame(
                    "out", 2, T0 + timedelta(seconds=3), '[2,"r1","Reset",{"type":"Soft"}]'
                ),
                LoggedFrame(
                    "in",
                    4,
                    T0 + timedelta(seconds=4),
                    '[4,"r1","NotSupported","no reset here",{}]',
                ),
            ),
        ]
    )


async def test_messages_oldest_first_with_payloads(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await _seed(harness)
    response = await api.get("/api/v1/ocpp-messages")
    assert response.status_code == 200
    data = response.json()["data"]
    items = data["items"]
    assert data["hasMore"] is False and len(items) == 5
    assert all(set(m) == MESSAGE_KEYS for m in items)
    assert [m["uniqueId"] for m in items] == ["m1", "m1", "h1", "r1", "r1"]
    assert [m["messageType"] for m in items] == ["Call", "CallResult", "Call", "Call", "CallError"]
    assert items[0]["payload"] == {"chargePointVendor": "Acme", "chargePointModel": "X1"}
    assert items[1]["payload"]["status"] == "Accepted"
    assert items[4]["payload"]["errorCode"] == "NotSupported"
    assert items[0]["timestamp"] == "2025-03-01T12:00:00.123Z"
    assert items[0]["chargePointId"] == "CP-1" and items[0]["direction"] == "in"


async def test_message_filters_and_paging(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    await _seed(harness)

    async def unique_ids(**params: str | int) -> tuple[list[str], bool]:
        response = await api.get("/api/v1/ocpp-messages", params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return [f"{m['direction']}:{m['uniqueId']}" for m in data["items"]], data["hasMore"]

    assert await unique_ids(chargePointId="CP-2") == (["in:h1"], False)
    assert await unique_ids(chargePointId="cp-2") == (["in:h1"], False)
    assert await unique_ids(action="Reset") == (["out:r1", "in:r1"], False)
    assert await unique_ids(direction="out") == (["out:m1", "out:r1"], False)
    assert await unique_ids(chargePointId="CP-1", direction="in") == (["in:m1", "in:r1"], False)
    assert await unique_ids(since="2025-03-01T12:00:02.123Z") == (
        ["in:h1", "out:r1", "in:r1"],
        False,
    )
    assert await unique_ids(since="2025-03-01T14:00:03.123+02:00") == (["out:r1", "in:r1"], False)
    assert await unique_ids(since="2025-03-01T12:00:04") == (["in:r1"], False)  # naive: UTC

    first = (await api.get("/api/v1/ocpp-messages?limit=2")).json()["data"]
    assert first["hasMore"] is True
    last_id = first["items"][-1]["id"]
    rest = (await api.get(f"/api/v1/ocpp-messages?limit=3&startingAfter={last_id}")).json()
    assert [m["uniqueId"] for m in rest["data"]["items"]] == ["h1", "r1", "r1"]
    assert rest["data"]["hasMore"] is False

    for query in ("direction=sideways", "since=yesterday", "startingAfter=abc", "limit=0"):
        response = await api.get(f"/api/v1/ocpp-messages?{query}")
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "validation_error"


async def test_buffered_frames_are_visible(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    harness.message_log.record("CP-9", "in", 2, "b1", "Heartbeat", '[2,"b1","Heartbeat",{}]')
    items = (await api.get("/api/v1/ocpp-messages")).json()["data"]["items"]
    assert [m["uniqueId"] for m in items] == ["b1"]
