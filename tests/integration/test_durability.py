"""kill -9 under load: every acknowledged state change is stored exactly once, on both backends.

Simulated chargers (half 1.6, half 2.0.1) run transactions back to back against a real
``csms serve`` process; it is killed with SIGKILL while calls are in flight. Then:

1. what the server acknowledged before it died is in the database, exactly once;
2. after a restart the chargers resend everything they sent (as chargers replay their queues
   after a reconnect, acknowledged or not): now every message is stored, and still once;
3. a webhook whose receiver held its first request while the load ran (so a backlog built up
   behind it) gets, after the restart, the event of every stored message: none lost, none from
   a replay, in order per charger.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from csms.app import open_store
from csms.config import DatabaseSettings
from csms.domain.clock import format_timestamp
from csms.domain.history import SERVER_STOPPED
from csms.domain.paging import Page
from csms.domain.webhooks import Webhook, new_secret
from csms.store.repositories import Store
from tests.conftest import make_settings
from tests.ocpp_client import RawClient
from tests.processes import environment, free_port, start_server
from tests.store.conftest import intervals
from tests.webhook_receiver import Receiver, receiving

CHARGERS = 16  # half 1.6, half 2.0.1
LOAD_SECONDS = 1.5
T0 = datetime(2026, 5, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sent:
    cp_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class Journal:
    """What each charger sent, in order, and the answers it got."""

    sent: dict[str, list[Sent]] = field(default_factory=dict)
    acked: list[tuple[Sent, dict[str, Any]]] = field(default_factory=list)


def stamp(cp_index: int, n: int, second: int) -> str:
    # Unique per charger, transaction and step, with milliseconds.
    return format_timestamp(
        T0 + timedelta(days=cp_index, hours=n, seconds=second, milliseconds=7 * cp_index)
    )


async def _call(client: RawClient, journal: Journal, message: Sent) -> dict[str, Any] | None:
    journal.sent.setdefault(message.cp_id, []).append(message)
    try:
        answer = await client.call(message.action, message.payload)
    except (ConnectionClosed, OSError, TimeoutError):
        return None
    assert answer[0] == 3, answer
    journal.acked.append((message, answer[2]))
    result: dict[str, Any] = answer[2]
    return result


async def _charger_16(url: str, index: int, journal: Journal) -> None:
    cp_id = f"DUR16-{index}"
    client = await RawClient.connect(url, cp_id)
    await client.boot()
    for n in range(1000):  # bounded: the server dies long before
        start = {
            "connectorId": 1,
            "idTag": "TAG",
            "meterStart": n * 1000,
            "timestamp": stamp(index, n, 0),
        }
        answer = await _call(client, journal, Sent(cp_id, "StartTransaction", start))
        if answer is None:
            return
        tid = answer["transactionId"]
        for k in (1, 2, 3):
            sample = {"value": str(n * 1000 + k), "measurand": "Energy.Active.Import.Register"}
            payload = {
                "connectorId": 1,
                "transactionId": tid,
                "meterValue": [{"timestamp": stamp(index, n, k), "sampledValue": [sample]}],
            }
            if await _call(client, journal, Sent(cp_id, "MeterValues", payload)) is None:
                return
        stop = {
            "transactionId": tid,
            "meterStop": n * 1000 + 4,
            "timestamp": stamp(index, n, 4),
            "reason": "Local",
        }
        if await _call(client, journal, Sent(cp_id, "StopTransaction", stop)) is None:
            return


def _event(index: int, n: int, seq_no: int) -> dict[str, Any]:
    event_type = "Started" if seq_no == 0 else "Ended" if seq_no == 4 else "Updated"
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": stamp(index, n, seq_no),
        "triggerReason": "Authorized" if seq_no == 0 else "MeterValuePeriodic",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": f"T{index}-{n}"},
        "meterValue": [
            {
                "timestamp": stamp(index, n, seq_no),
                "sampledValue": [{"value": n * 1000 + seq_no}],
            }
        ],
    }
    if seq_no == 0:
        payload["evse"] = {"id": 1, "connectorId": 1}
        payload["idToken"] = {"idToken": "TAG", "type": "Central"}
    if seq_no == 4:
        payload["transactionInfo"]["stoppedReason"] = "Local"
    return payload


async def _charger_201(url: str, index: int, journal: Journal) -> None:
    cp_id = f"DUR201-{index}"
    client = await RawClient.connect(url, cp_id, subprotocols=("ocpp2.0.1",))
    await client.result(
        "BootNotification",
        {"chargingStation": {"vendorName": "Test", "model": "Raw"}, "reason": "PowerUp"},
    )
    for n in range(1000):
        for seq_no in range(5):
            message = Sent(cp_id, "TransactionEvent", _event(index, n, seq_no))
            if await _call(client, journal, message) is None:
                return


async def _replay(url: str, journal: Journal) -> None:
    """Every charger reconnects and resends all it ever sent, in order."""

    async def one(cp_id: str, messages: list[Sent]) -> None:
        subprotocols = ("ocpp2.0.1",) if cp_id.startswith("DUR201") else ("ocpp1.6",)
        client = await RawClient.connect(url, cp_id, subprotocols=subprotocols)
        for message in messages:
            answer = await client.call(message.action, message.payload)
            assert answer[0] == 3, answer
        await client.close()

    async with asyncio.timeout(60):
        await asyncio.gather(*(one(cp_id, msgs) for cp_id, msgs in journal.sent.items()))


async def _verify(store: Store, messages: list[Sent], transaction_ids: dict[int, str]) -> int:
    """Every message in ``messages`` is stored exactly once; returns how many were checked."""
    stored_samples: dict[tuple[str, str], list[str]] = {}
    for message in messages:
        p = message.payload
        if message.action == "StartTransaction":
            tid = transaction_ids[id(message)]
            [tx] = await store.transactions.find_transactions(tid, cp_id=message.cp_id)
            assert tx.meter_start_wh == p["meterStart"]
            assert format_timestamp(tx.started_at) == p["timestamp"]
        elif message.action == "StopTransaction":
            [tx] = await store.transactions.find_transactions(
                str(p["transactionId"]), cp_id=message.cp_id
            )
            assert not tx.active and tx.meter_stop_wh == p["meterStop"]
        elif message.action == "TransactionEvent":
            tid = p["transactionInfo"]["transactionId"]
            [tx] = await store.transactions.find_transactions(tid, cp_id=message.cp_id)
            assert p["seqNo"] in tx.seq_nos
            if p["eventType"] == "Ended":
                assert not tx.active and tx.energy_wh == 4
        if message.action in ("MeterValues", "TransactionEvent"):
            tid = (
                str(p["transactionId"])
                if message.action == "MeterValues"
                else p["transactionInfo"]["transactionId"]
            )
            key = (message.cp_id, tid)
            if key not in stored_samples:
                [tx] = await store.transactions.find_transactions(tid, cp_id=message.cp_id)
                page = await store.transactions.list_meter_values(tx.pk, Page(1000))
                stored_samples[key] = [format_timestamp(s.timestamp) for _, s in page.items]
            timestamp = p["meterValue"][0]["timestamp"]
            assert stored_samples[key].count(timestamp) == 1, (key, timestamp)
    return len(messages)


async def _open(database: DatabaseSettings) -> Store:
    store = open_store(make_settings(database))
    await store.open()
    return store


async def test_every_acknowledged_message_survives_kill_9_exactly_once(
    database: DatabaseSettings, tmp_path: Path
) -> None:
    ocpp_port, api_port = free_port(), free_port()
    env = environment(
        tmp_path,
        ocpp_port,
        api_port,
        database,
        CSMS_LOG_LEVEL="warning",
    )
    url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
    journal = Journal()
    async with receiving(None) as receiver:  # holds the first request: a backlog builds
        await _prepare(database, receiver)
        await _run(env, url, journal, database, receiver)


async def _prepare(database: DatabaseSettings, receiver: Receiver) -> None:
    """The chargers registered (no authentication) and the webhook subscribed."""
    store = await _open(database)
    try:
        for i in range(CHARGERS):
            await store.chargers.add_charge_point(
                f"DUR16-{i}" if i % 2 else f"DUR201-{i}",
                name=None,
                password_hash=None,
                security_profile=0,
                site_id=None,
                created_at=NOW,
            )
        hook = Webhook("wh_kill", receiver.url, HOOK_EVENTS, True, None, NOW, new_secret())
        await store.webhooks.add_webhook(hook)
    finally:
        await store.close()


async def _run(
    env: dict[str, str],
    url: str,
    journal: Journal,
    database: DatabaseSettings,
    receiver: Receiver,
) -> None:
    server = await start_server(env)
    try:
        chargers = [
            asyncio.create_task(
                _charger_16(url, i, journal) if i % 2 else _charger_201(url, i, journal)
            )
            for i in range(CHARGERS)
        ]
        await asyncio.sleep(LOAD_SECONDS)
        server.kill()  # SIGKILL, with calls in flight
        await server.wait()
        async with asyncio.timeout(30):
            await asyncio.gather(*chargers)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()

    sent = [m for messages in journal.sent.values() for m in messages]
    acked = [m for m, _ in journal.acked]
    assert len(acked) > 100, "the load was too light to mean anything"
    assert len(sent) > len(acked), "nothing was in flight when the server was killed"
    transaction_ids = {
        id(m): str(answer["transactionId"])
        for m, answer in journal.acked
        if m.action == "StartTransaction"
    }
    store = await _open(database)
    try:
        assert await _verify(store, acked, transaction_ids) == len(acked)
    finally:
        await store.close()

    # Restart; every charger replays everything: all is stored, nothing twice.
    assert len(receiver.requests) == 1  # it held the first; the rest waited in the outbox
    receiver.script = [204]
    receiver.release.set()
    server = await start_server(env)
    try:
        await _replay(url, journal)
        _check_deliveries(await _delivered(receiver, journal), journal)
    finally:
        server.terminate()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                await server.wait()
        if server.returncode is None:
            server.kill()
            await server.wait()
    store = await _open(database)
    try:
        # A start that was never acknowledged got its id in the replay: find it by its key.
        for message in sent:
            if message.action == "StartTransaction" and id(message) not in transaction_ids:
                listed = await store.transactions.list_transactions(Page(1000), cp_id=message.cp_id)
                [tx] = [
                    t
                    for t in listed.items
                    if format_timestamp(t.started_at) == message.payload["timestamp"]
                ]
                transaction_ids[id(message)] = tx.transaction_id
        assert await _verify(store, sent, transaction_ids) == len(sent)
        for cp_id, messages in journal.sent.items():
            # One transaction per start sent: a 1.6 start by its timestamp, a 2.0.1 one by id.
            transactions = {
                m.payload["transactionInfo"]["transactionId"]
                if m.action == "TransactionEvent"
                else m.payload["timestamp"]
                for m in messages
                if m.action in ("StartTransaction", "TransactionEvent")
            }
            stored = await store.transactions.list_transactions(Page(1000), cp_id=cp_id)
            assert len(stored.items) == len(transactions), cp_id
        # The history: the connection the kill cut was closed by the next start, when the
        # charger was last heard; the replay's was closed by the graceful stop; none is open.
        connections, _ = await intervals(
            store, T0 - timedelta(days=1), datetime.now(UTC) + timedelta(hours=1)
        )
        by_charger: dict[str, list[str | None]] = {}
        for interval in sorted(connections, key=lambda c: c.connected_at):
            assert interval.disconnected_at is not None, interval
            assert interval.disconnected_at >= interval.connected_at, interval
            by_charger.setdefault(interval.charge_point_id, []).append(interval.reason)
        assert set(by_charger) == set(journal.sent)
        for reasons in by_charger.values():
            assert reasons[0] == SERVER_STOPPED and SERVER_STOPPED not in reasons[1:], reasons
    finally:
        await store.close()


HOOK_EVENTS = ("transaction.started", "transaction.ended", "meter.values")
NOW = datetime.now(UTC)


def _expected(journal: Journal) -> dict[str, tuple[list[str], int, int]]:
    """Per charger: the timestamps of every meter sample it sent, in order, and how many
    transactions it started and ended."""
    expected = {}
    for cp_id, messages in journal.sent.items():
        stamps = [
            m.payload["meterValue"][0]["timestamp"] for m in messages if "meterValue" in m.payload
        ]
        starts = sum(
            m.action == "StartTransaction"
            or (m.action == "TransactionEvent" and m.payload["eventType"] == "Started")
            for m in messages
        )
        ends = sum(
            m.action == "StopTransaction"
            or (m.action == "TransactionEvent" and m.payload["eventType"] == "Ended")
            for m in messages
        )
        expected[cp_id] = (stamps, starts, ends)
    return expected


async def _delivered(receiver: Receiver, journal: Journal) -> list[dict[str, Any]]:
    """Every event the receiver got, each once, once it holds as many as the messages sent
    cause (bounded: the backlog drains in seconds)."""
    wanted = sum(
        len(stamps) + starts + ends for stamps, starts, ends in _expected(journal).values()
    )
    await receiver.wait_for_events(wanted, timeout=90)
    return receiver.events


def _check_deliveries(events: list[dict[str, Any]], journal: Journal) -> None:
    for cp_id, (stamps, starts, ends) in _expected(journal).items():
        mine = [e for e in events if e["data"]["chargePointId"] == cp_id]
        delivered = [
            e["data"]["samples"][0]["timestamp"] for e in mine if e["type"] == "meter.values"
        ]
        # Every sample sent, each once, in the order sent (no event lost, none from a replay).
        assert delivered == stamps, cp_id
        started = [e["data"]["transactionId"] for e in mine if e["type"] == "transaction.started"]
        ended = [e["data"]["transactionId"] for e in mine if e["type"] == "transaction.ended"]
        assert (len(started), len(ended)) == (starts, ends), cp_id
        assert len(set(started)) == starts and ended == started[: len(ended)], cp_id
