"""OCPP 2.0.1 transactions: energy, replays, gaps, out-of-order delivery, restarts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.config import DatabaseSettings
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.integration.test_v201_messages import V201, boot, iso, register, tx_event
from tests.ocpp_client import RawClient

T0 = datetime(2026, 4, 5, 6, 7, 8, 901000, tzinfo=UTC)


@pytest.fixture
async def station(csms: RunningCsms) -> RawClient:
    await csms.register("CS-TX")
    client = await RawClient.connect(csms.ocpp_url, "CS-TX", subprotocols=V201)
    await boot(client)
    return client


async def get_tx(csms: RunningCsms, tx_id: str) -> dict[str, Any]:
    response = await csms.api().get(f"/api/v1/transactions/{tx_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_a_full_transaction_through_the_api(csms: RunningCsms, station: RawClient) -> None:
    await csms.add_id_tag("RFID-1", type="ISO14443")
    tx_id = str(uuid.uuid4())
    token = {"idToken": "RFID-1", "type": "ISO14443"}
    started = await station.result(
        "TransactionEvent",
        tx_event(
            "Started",
            tx_id,
            0,
            T0,
            triggerReason="Authorized",
            idToken=token,
            evse={"id": 2, "connectorId": 1},
            transactionInfo={"chargingState": "Charging"},
            meterValue=[register(10_000.0, T0, "Transaction.Begin")],
        ),
    )
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert (
        await station.result(
            "TransactionEvent",
            tx_event(
                "Updated",
                tx_id,
                1,
                T0 + timedelta(minutes=10),
                meterValue=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=10)),
                        "sampledValue": [
                            {
                                "value": 12.5,
                                "measurand": "Energy.Active.Import.Register",
                                "unitOfMeasure": {"unit": "Wh", "multiplier": 3},
                            },
                            {
                                "value": 7400,
                                "measurand": "Power.Active.Import",
                                "unitOfMeasure": {"unit": "W"},
                            },
                        ],
                    }
                ],
            ),
        )
        == {}
    )
    active = await get_tx(csms, tx_id)
    assert active["status"] == "active" and active["meterStartWh"] == 10_000
    assert active["meterStopWh"] is None and active["energyWh"] is None
    ended = await station.result(
        "TransactionEvent",
        tx_event(
            "Ended",
            tx_id,
            2,
            T0 + timedelta(minutes=30),
            triggerReason="StopAuthorized",
            idToken=token,
            transactionInfo={"stoppedReason": "Local", "chargingState": "Idle"},
            meterValue=[register(16_500.0, T0 + timedelta(minutes=30), "Transaction.End")],
        ),
    )
    assert ended["idTokenInfo"]["status"] == "Accepted"

    tx = await get_tx(csms, tx_id)
    assert tx.pop("id").startswith("tx_")
    assert tx == {
        "transactionId": tx_id,
        "chargePointId": "CS-TX",
        "evseId": 2,
        "connectorId": 1,
        "idTag": "RFID-1",
        "status": "completed",
        "startedAt": iso(T0),
        "stoppedAt": iso(T0 + timedelta(minutes=30)),
        "meterStartWh": 10_000.0,
        "meterStopWh": 16_500.0,
        "energyWh": 6_500.0,
        "stopReason": "Local",
        "priority": None,
    }
    samples = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    registers = [
        (s["context"], s["value"])
        for s in samples
        if s["measurand"] == "Energy.Active.Import.Register"
    ]
    assert registers == [
        ("Transaction.Begin", 10_000),
        ("Sample.Periodic", 12_500),
        ("Transaction.End", 16_500),
    ]
    listed = (await csms.api().get("/api/v1/charge-points/CS-TX")).json()["data"][
        "activeTransactions"
    ]
    assert listed == []


async def test_replays_change_nothing(csms: RunningCsms, station: RawClient) -> None:
    tx_id = str(uuid.uuid4())
    started = tx_event(
        "Started",
        tx_id,
        0,
        T0,
        evse={"id": 1, "connectorId": 1},
        meterValue=[register(100.0, T0, "Transaction.Begin")],
    )
    ended = tx_event(
        "Ended",
        tx_id,
        1,
        T0 + timedelta(hours=1),
        offline=True,
        transactionInfo={"stoppedReason": "EVDisconnected"},
        meterValue=[register(900.0, T0 + timedelta(hours=1), "Transaction.End")],
    )
    for payload in (started, started, ended):
        assert await station.result("TransactionEvent", payload) == {}
    before = await get_tx(csms, tx_id)
    # The offline Ended delivered twice, and a late Updated: nothing moves.
    assert await station.result("TransactionEvent", ended) == {}
    assert (
        await station.result(
            "TransactionEvent",
            tx_event(
                "Ended",
                tx_id,
                1,
                T0 + timedelta(hours=2),
                meterValue=[register(5_000.0, T0 + timedelta(hours=2), "Transaction.End")],
            ),
        )
        == {}
    )
    after = await get_tx(csms, tx_id)
    assert after == before and after["energyWh"] == 800 and after["stopReason"] == "EVDisconnected"
    samples = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    assert len(samples) == 2


async def test_out_of_order_delivery_and_a_missing_started(
    csms: RunningCsms, station: RawClient
) -> None:
    """Started dropped by the station; Ended arrives before an Updated (E04.FR.07, E11.FR.07)."""
    tx_id = str(uuid.uuid4())
    assert (
        await station.result(
            "TransactionEvent",
            tx_event(
                "Updated",
                tx_id,
                1,
                T0 + timedelta(minutes=1),
                evse={"id": 1, "connectorId": 1},
                meterValue=[register(2_000.0, T0 + timedelta(minutes=1))],
            ),
        )
        == {}
    )
    assert (
        await station.result(
            "TransactionEvent",
            tx_event(
                "Ended",
                tx_id,
                3,
                T0 + timedelta(minutes=3),
                meterValue=[register(2_600.0, T0 + timedelta(minutes=3))],
            ),
        )
        == {}
    )
    assert (
        await station.result(
            "TransactionEvent",
            tx_event(
                "Updated",
                tx_id,
                2,
                T0 + timedelta(minutes=2),
                meterValue=[register(2_300.0, T0 + timedelta(minutes=2))],
            ),
        )
        == {}
    )
    tx = await get_tx(csms, tx_id)
    assert tx["status"] == "completed"
    assert tx["startedAt"] == iso(T0 + timedelta(minutes=1))
    assert tx["meterStartWh"] == 2_000 and tx["meterStopWh"] == 2_600 and tx["energyWh"] == 600
    assert tx["stopReason"] == "Local"  # omitted stoppedReason means Local
    assert tx["evseId"] == 1
    # The gap seen on the way (seqNo 2 missing when 3 arrived) was asked about.
    assert [c[2] for c in station.server_calls] == ["GetTransactionStatus"]


async def test_a_seq_no_gap_is_followed_up_with_get_transaction_status(
    csms: RunningCsms, station: RawClient
) -> None:
    tx_id = str(uuid.uuid4())
    assert (
        await station.result(
            "TransactionEvent", tx_event("Started", tx_id, 0, T0, evse={"id": 1, "connectorId": 1})
        )
        == {}
    )
    # seqNo 1 and 2 never arrived.
    await station.send_raw(
        json.dumps(
            [
                2,
                "gap-1",
                "TransactionEvent",
                tx_event("Updated", tx_id, 3, T0 + timedelta(minutes=3)),
            ]
        )
    )
    answer = await station.recv()
    assert answer[:3] == [3, "gap-1", {}]  # the event itself is answered first
    follow_up = await station.recv()
    assert follow_up[0] == 2 and follow_up[2] == "GetTransactionStatus"
    assert follow_up[3] == {"transactionId": tx_id}
    await station.send_raw(
        json.dumps([3, follow_up[1], {"ongoingIndicator": True, "messagesInQueue": True}])
    )
    # The connection carries on and the late events still count.
    assert (
        await station.result(
            "TransactionEvent", tx_event("Updated", tx_id, 1, T0 + timedelta(minutes=1))
        )
        == {}
    )


async def test_a_refused_token_in_a_transaction_event_is_answered_not_rejected(
    csms: RunningCsms, station: RawClient
) -> None:
    tx_id = str(uuid.uuid4())
    answer = await station.call(
        "TransactionEvent",
        tx_event(
            "Started",
            tx_id,
            0,
            T0,
            triggerReason="Authorized",
            idToken={"idToken": "NOBODY", "type": "ISO14443"},
            evse={"id": 1, "connectorId": 1},
        ),
    )
    assert answer[0] == 3 and answer[2]["idTokenInfo"]["status"] == "Invalid"
    assert (await get_tx(csms, tx_id))["status"] == "active"


async def test_a_transaction_with_a_card_registered_without_a_type(
    csms: RunningCsms, station: RawClient
) -> None:
    await csms.add_id_tag("CARD-UID")
    tx_id = str(uuid.uuid4())
    started = await station.result(
        "TransactionEvent",
        tx_event(
            "Started",
            tx_id,
            0,
            T0,
            triggerReason="Authorized",
            idToken={"idToken": "CARD-UID", "type": "ISO14443"},
            evse={"id": 1, "connectorId": 1},
        ),
    )
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert (await get_tx(csms, tx_id))["idTag"] == "CARD-UID"


async def test_a_transaction_started_before_a_restart_ends_after_it(
    database: DatabaseSettings,
) -> None:
    first = await start_csms(make_settings(database))
    tx_id = str(uuid.uuid4())
    try:
        await first.register("CS-RESTART")
        client = await RawClient.connect(first.ocpp_url, "CS-RESTART", subprotocols=V201)
        await boot(client)
        await client.result(
            "TransactionEvent",
            tx_event(
                "Started",
                tx_id,
                0,
                T0,
                evse={"id": 1, "connectorId": 1},
                meterValue=[register(500.0, T0, "Transaction.Begin")],
            ),
        )
    finally:
        await stop_csms(first)
    second = await start_csms(make_settings(database))
    try:
        client = await RawClient.connect(second.ocpp_url, "CS-RESTART", subprotocols=V201)
        # No new BootNotification: the station was accepted before the restart.
        await client.result(
            "TransactionEvent",
            tx_event(
                "Ended",
                tx_id,
                1,
                T0 + timedelta(minutes=5),
                meterValue=[register(1_250.0, T0 + timedelta(minutes=5), "Transaction.End")],
            ),
        )
        tx = await get_tx(second, tx_id)
        assert tx["status"] == "completed" and tx["energyWh"] == 750
        await client.close()
    finally:
        await stop_csms(second)
