"""Transactions survive retries, offline replays and restarts without double counting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from csms.config import DatabaseSettings
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.ocpp_client import RawClient


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_replayed_start_after_reconnect_returns_the_same_transaction(
    csms: RunningCsms,
) -> None:
    await csms.register("CP-REPLAY")
    client = await RawClient.connect(csms.ocpp_url, "CP-REPLAY")
    await client.boot()
    start = {
        "connectorId": 1,
        "idTag": "TAG",
        "meterStart": 700,
        "timestamp": iso(datetime.now(UTC) - timedelta(minutes=3)),
    }
    first = await client.result("StartTransaction", start)
    await client.close()
    # The charger never saw the answer, reconnects and sends the same message again.
    again = await RawClient.connect(csms.ocpp_url, "CP-REPLAY")
    second = await again.result("StartTransaction", start)
    assert second["transactionId"] == first["transactionId"]
    listed = (
        await csms.api().get("/api/v1/transactions", params={"chargePointId": "CP-REPLAY"})
    ).json()["data"]["items"]
    assert len(listed) == 1
    # A new session on the same connector with other values is a new transaction.
    other = await again.result("StartTransaction", {**start, "meterStart": 900})
    assert other["transactionId"] != first["transactionId"]
    await again.close()


async def test_retried_stop_changes_nothing_the_second_time(csms: RunningCsms) -> None:
    await csms.register("CP-STOP")
    client = await RawClient.connect(csms.ocpp_url, "CP-STOP")
    await client.boot()
    started = datetime.now(UTC) - timedelta(hours=2)
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 1000,
                "timestamp": iso(started),
            },
        )
    )["transactionId"]
    stop = {
        "transactionId": tx_id,
        "meterStop": 4000,
        "timestamp": iso(started + timedelta(hours=1)),
        "transactionData": [
            {
                "timestamp": iso(started + timedelta(hours=1)),
                "sampledValue": [{"value": "4000", "context": "Transaction.End"}],
            }
        ],
    }
    await client.result("StopTransaction", stop)
    before = (await csms.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    # Retried (same) and late-with-other-values stops: neither changes the billed energy.
    await client.result("StopTransaction", stop)
    await client.result(
        "StopTransaction", {**stop, "meterStop": 9000, "timestamp": iso(datetime.now(UTC))}
    )
    after = (await csms.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    assert after == before
    assert after["energyWh"] == 3000
    samples = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    assert len(samples) == 1
    await client.close()


async def test_offline_messages_keep_their_own_timestamps(csms: RunningCsms) -> None:
    """Queued while offline and sent back-to-back on reconnect (TC_039)."""
    await csms.register("CP-OFFLINE")
    client = await RawClient.connect(csms.ocpp_url, "CP-OFFLINE")
    await client.boot()
    started = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    stopped = started + timedelta(minutes=20)
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 10,
                "timestamp": iso(started),
            },
        )
    )["transactionId"]
    await client.result(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                {
                    "timestamp": iso(started + timedelta(minutes=10)),
                    "sampledValue": [{"value": "1510"}],
                }
            ],
        },
    )
    await client.result(
        "StopTransaction",
        {
            "transactionId": tx_id,
            "meterStop": 3010,
            "timestamp": iso(stopped),
            "reason": "Local",
        },
    )
    tx = (await csms.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    assert tx["startedAt"] == "2026-01-02T03:04:05.678Z"
    assert tx["stoppedAt"] == "2026-01-02T03:24:05.678Z"
    assert tx["energyWh"] == 3000
    samples = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    assert [s["timestamp"] for s in samples] == ["2026-01-02T03:14:05.678Z"]
    await client.close()


async def test_transaction_survives_a_server_restart(database: DatabaseSettings) -> None:
    first = await start_csms(make_settings(database))
    try:
        await first.register("CP-RESTART")
        client = await RawClient.connect(first.ocpp_url, "CP-RESTART")
        await client.boot()
        tx_id = (
            await client.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "TAG",
                    "meterStart": 2000,
                    "timestamp": iso(datetime.now(UTC)),
                },
            )
        )["transactionId"]
    finally:
        await stop_csms(first)

    second = await start_csms(make_settings(database))
    try:
        detail = (await second.api().get("/api/v1/charge-points/CP-RESTART")).json()["data"]
        assert detail["connected"] is False
        assert detail["activeTransactions"] == [str(tx_id)]
        # Reconnect (no new boot: it was Accepted before the restart) and finish the session.
        client = await RawClient.connect(second.ocpp_url, "CP-RESTART")
        await client.result(
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 2600,
                "timestamp": iso(datetime.now(UTC)),
            },
        )
        tx = (await second.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
        assert tx["status"] == "completed" and tx["energyWh"] == 600
        await client.close()
    finally:
        await stop_csms(second)


async def test_concurrent_chargers_all_commit(csms: RunningCsms) -> None:
    """Group commit: writes of many chargers at once all land, each acknowledged after commit."""
    chargers = [f"CP-BULK-{i}" for i in range(20)]
    for cp_id in chargers:
        await csms.register(cp_id)
    clients = [await RawClient.connect(csms.ocpp_url, cp_id) for cp_id in chargers]
    await asyncio.gather(*(c.boot() for c in clients))
    base = datetime.now(UTC)
    tx_ids = await asyncio.gather(
        *(
            c.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "TAG",
                    "meterStart": 0,
                    "timestamp": iso(base),
                },
            )
            for c in clients
        )
    )

    async def meter(client: RawClient, tx_id: int) -> None:
        for n in range(10):
            await client.result(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx_id,
                    "meterValue": [
                        {
                            "timestamp": iso(base + timedelta(seconds=n + 1)),
                            "sampledValue": [{"value": str(100 * (n + 1))}],
                        }
                    ],
                },
            )

    await asyncio.gather(
        *(meter(c, t["transactionId"]) for c, t in zip(clients, tx_ids, strict=True))
    )
    for result in tx_ids:
        samples = (
            await csms.api().get(f"/api/v1/transactions/{result['transactionId']}/meter-values")
        ).json()["data"]
        assert len(samples["items"]) == 10
    for client in clients:
        await client.close()


async def test_transaction_id_minus_one_is_answered_and_reconciled(csms: RunningCsms) -> None:
    """A charger that never got an id sends -1 (OCPP 1.6 errata 3.18): answer as if valid."""
    await csms.register("CP-MINUS")
    client = await RawClient.connect(csms.ocpp_url, "CP-MINUS")
    await client.boot()
    now = datetime.now(UTC)
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 0,
                "timestamp": iso(now),
            },
        )
    )["transactionId"]
    # The charger lost the answer: its meter values carry -1 and land on the running session.
    assert (
        await client.result(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": -1,
                "meterValue": [
                    {
                        "timestamp": iso(now + timedelta(seconds=5)),
                        "sampledValue": [{"value": "50"}],
                    }
                ],
            },
        )
        == {}
    )
    assert (
        await client.result(
            "StopTransaction",
            {
                "transactionId": -1,
                "meterStop": 60,
                "timestamp": iso(now + timedelta(seconds=9)),
                "transactionData": [
                    {
                        "timestamp": iso(now + timedelta(seconds=9)),
                        "sampledValue": [{"value": "60", "context": "Transaction.End"}],
                    }
                ],
            },
        )
        == {}
    )
    samples = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    assert [s["value"] for s in samples] == [50]
    await client.close()
