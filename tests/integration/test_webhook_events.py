"""Webhooks fed by the central system itself: a real server, a bundled simulator charging, and a
real HTTP receiver on 127.0.0.1. The receiver gets what the live event stream shows, signed both
ways, in order; one that fails and then recovers still gets everything; one that never answers
delays no charger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from csms.config import DatabaseSettings, WebhookSettings
from csms.domain.events import data_json
from csms.domain.models import Role, TokenSource
from csms.services.events import Event
from simulators import ChargePoint201Simulator
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.ocpp_client import RawClient
from tests.webhook_receiver import WAIT, Receiver, check_signatures, receiving

TAG = "HOOK-TAG"


@pytest.fixture
async def fast_retries(database: DatabaseSettings) -> AsyncIterator[RunningCsms]:
    """A central system whose webhooks retry within a fraction of a second."""
    settings = make_settings(database).model_copy(
        update={"webhooks": WebhookSettings(retry_first_delay_s=0.05, request_timeout_s=30)}
    )
    running = await start_csms(settings)
    try:
        yield running
    finally:
        await stop_csms(running)


async def subscribe(csms: RunningCsms, receiver: Receiver, events: list[str]) -> str:
    """A webhook made by an admin through the API; its secret."""
    admin = await csms.system.services.api_tokens.create(
        "test-admin", Role.ADMIN, source=TokenSource.CLI
    )
    response = await csms.api(admin.token).post(
        "/api/v1/webhooks", json={"url": receiver.url, "events": events}
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["data"]["secret"]
    return secret


def as_sent(event: Event) -> dict[str, Any]:
    """A live event as a webhook body carries it."""
    data = {"chargePointId": event.charge_point_id, **data_json(event.data)}
    return {"type": event.type, "data": orjson.loads(orjson.dumps(data))}


async def test_a_charging_session_reaches_a_receiver_that_fails_then_recovers(
    fast_retries: RunningCsms,
) -> None:
    csms = fast_retries
    async with receiving(500, 503, None, 204) as receiver:
        receiver.release.set()  # the third request gets no answer: the connection just closes
        secret = await subscribe(csms, receiver, ["*"])
        await csms.register("HOOK-SIM", password="sim-password-123")
        await csms.add_id_tag(TAG)
        sim = ChargePoint201Simulator(
            "HOOK-SIM",
            csms.ocpp_url,
            "sim-password-123",
            evses=1,
            meter_interval=0.2,
            reconnect_initial=0.1,
            reconnect_max=0.5,
        )
        sim.job_step_seconds = 0.05
        live: list[Event] = []
        async with csms.system.services.events.subscribe("HOOK-SIM") as stream:
            await sim.start()
            try:
                await sim.wait_booted(timeout=5)
                api = csms.api()
                start = await api.post(
                    "/api/v1/charge-points/HOOK-SIM/actions/start",
                    json={"idTag": TAG, "evseId": 1},
                )
                assert start.status_code == 200 and start.json()["data"]["status"] == "Accepted"
                async with asyncio.timeout(WAIT):
                    while True:  # until a few meter values came in the session
                        live.append(await stream.get())
                        if sum(e.type == "meter.values" for e in live) >= 3:
                            break
                transaction_id = next(
                    e.data["transactionId"] for e in live if e.type == "transaction.started"
                )
                stop = await api.post(
                    "/api/v1/charge-points/HOOK-SIM/actions/stop",
                    json={"transactionId": transaction_id},
                )
                assert stop.status_code == 200 and stop.json()["data"]["status"] == "Accepted"
                async with asyncio.timeout(WAIT):
                    while not any(e.type == "transaction.ended" for e in live):
                        live.append(await stream.get())
            finally:
                await sim.stop()
            async with asyncio.timeout(WAIT):
                while not any(e.type == "charger.disconnected" for e in live):
                    live.append(await stream.get())

        await receiver.wait_for_events(len(live))
        for request in receiver.requests:
            check_signatures(secret, request)
        got = [{"type": b["type"], "data": b["data"]} for b in receiver.events]
        sent = [as_sent(e) for e in live]
        # Everything the live stream showed, and nothing else: the same data, in the same order
        # (two changes of one charger committed in the same batch may come in either order).
        assert sorted(got, key=repr) == sorted(sent, key=repr)
        types = [b["type"] for b in got]
        for before, after in [
            ("charger.connected", "transaction.started"),
            ("transaction.started", "transaction.ended"),
            ("transaction.ended", "charger.disconnected"),
        ]:
            assert types.index(before) < types.index(after), types
        assert {"connector.status", "command.completed", "meter.values"} <= set(types)
        # The failures were retried in place: the same event first, nothing overtook it.
        assert [r.event_id for r in receiver.requests[:4]] == [receiver.requests[0].event_id] * 4


async def test_a_receiver_that_never_answers_delays_no_charger(
    fast_retries: RunningCsms,
) -> None:
    csms = fast_retries  # each request may hang for 30 s
    async with receiving(None) as receiver:
        await subscribe(csms, receiver, ["*"])
        await csms.register("HOOK-HB")
        client = await RawClient.connect(csms.ocpp_url, "HOOK-HB")
        try:
            await client.boot()
            await receiver.wait_for(1)  # the first event is held by the receiver from now on
            slowest = 0.0
            for n in range(20):
                started = time.perf_counter()
                async with asyncio.timeout(WAIT):
                    heartbeat = await client.call("Heartbeat", {})
                    status = await client.call(
                        "StatusNotification",
                        {
                            "connectorId": 1,
                            "errorCode": "NoError",
                            "status": "Available" if n % 2 else "Preparing",
                        },
                    )
                slowest = max(slowest, time.perf_counter() - started)
                assert heartbeat[0] == 3 and status[0] == 3
        finally:
            await client.close()
        # Every exchange went through while the receiver sat on its first request; a charger
        # waiting on a receiver would have stalled for the whole 30 s request timeout.
        assert slowest < WAIT / 2
        assert len(receiver.requests) == 1
        pending = await csms.system.store.webhooks.due(
            (await csms.system.store.webhooks.pending_webhooks())[0],
            csms.system.services.chargers.now(),
            1000,
        )
        assert sum(row.type == "connector.status" for row in pending) >= 20
