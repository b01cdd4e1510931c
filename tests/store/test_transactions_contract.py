"""The store contract for transactions and meter values, on every backend: each message applied
in one write, replays recognised by unique keys, also when several writers race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from csms.domain.errors import NotFound
from csms.domain.models import MeterSample, Reservation, StoredChargingProfile
from csms.domain.paging import Page
from csms.domain.transactions import TransactionEvent, TransactionStart, TransactionStop
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from tests.databases import PostgresServer
from tests.store.conftest import NOW, add_charge_point

EVERYTHING: Page[int] = Page(100)


def start(meter: float = 100.0, cp_id: str = "CP", connector: int = 1) -> TransactionStart:
    return TransactionStart(cp_id, connector, connector, "TAG", NOW, meter)


def event(seq_no: int, event_type: str = "Updated", **extra: object) -> TransactionEvent:
    fields: dict[str, object] = {
        "charge_point_id": "CS",
        "transaction_id": "T-1",
        "event_type": event_type,
        "seq_no": seq_no,
        "timestamp": NOW + timedelta(minutes=seq_no),
        "trigger_reason": "MeterValuePeriodic",
        **extra,
    }
    return TransactionEvent(**fields)  # type: ignore[arg-type]


def energy(wh: float, minutes: float, **extra: str) -> MeterSample:
    return MeterSample(NOW + timedelta(minutes=minutes), str(wh), **extra)


async def test_a_start_is_created_once_and_its_id_is_a_positive_integer(store: Store) -> None:
    first, created = await store.transactions.start_transaction(start(), [energy(100, 0)])
    again, created_again = await store.transactions.start_transaction(start())
    assert created and not created_again
    assert again == first and first.id == f"tx_{first.pk}"
    assert first.transaction_id == str(first.pk) and first.pk > 0
    other, _ = await store.transactions.start_transaction(start(meter=200))
    assert other.transaction_id != first.transaction_id
    assert await store.transactions.get_transaction(first.pk) == first


async def test_a_stop_ends_once_and_keeps_the_samples_of_unknown_transactions(
    store: Store,
) -> None:
    tx, _ = await store.transactions.start_transaction(start())
    stop = TransactionStop("CP", tx.transaction_id, NOW + timedelta(hours=1), 1100.0, "Local")
    done = await store.transactions.stop_transaction(stop, [energy(1100, 60)])
    assert done is not None and done.ended and done.transaction.energy_wh == 1000
    stored = await store.transactions.get_transaction(tx.pk)
    assert stored == done.transaction and not stored.active
    replay = await store.transactions.stop_transaction(
        TransactionStop("cp", tx.transaction_id, NOW + timedelta(hours=2), 5000.0, "Remote"),
        [energy(1100, 60)],
    )
    assert replay is not None and not replay.ended and replay.transaction == stored
    assert len((await store.transactions.list_meter_values(tx.pk, Page())).items) == 1
    unknown = TransactionStop("CP", "-1", NOW, 1.0, None)
    assert await store.transactions.stop_transaction(unknown, [energy(5, 1)]) is None


async def test_events_create_update_and_end_a_transaction_once_each(store: Store) -> None:
    ended = event(3, "Ended", stopped_reason="EVDisconnected", energy_register_wh=4000.0)
    outcome = await store.transactions.record_transaction_event(ended, [energy(4000, 3)])
    # seqNos need not start at 0 (the counter may run on across transactions): no gap yet.
    assert outcome.created and outcome.ended and outcome.missing_seq_nos == ()
    started = event(0, "Started", evse_id=2, connector_id=1, id_tag="TAG", energy_register_wh=1.0)
    outcome = await store.transactions.record_transaction_event(started, [energy(1, 0)])
    assert not outcome.created and not outcome.duplicate and outcome.missing_seq_nos == (1, 2)
    duplicate = await store.transactions.record_transaction_event(started, [energy(1, 0)])
    assert duplicate.duplicate and duplicate.transaction == outcome.transaction
    tx = outcome.transaction
    assert (tx.evse_id, tx.connector_id, tx.id_tag, tx.stop_reason) == (
        2,
        1,
        "TAG",
        "EVDisconnected",
    )
    assert tx.started_at == NOW and tx.energy_wh == 3999.0
    assert await store.transactions.get_transaction(tx.pk) == tx
    samples = (await store.transactions.list_meter_values(tx.pk, Page())).items
    assert [s.value for _, s in samples] == ["1", "4000"]


async def test_samples_go_to_the_named_transaction_or_to_what_runs_on_their_evse(
    store: Store,
) -> None:
    on_1, _ = await store.transactions.start_transaction(start(connector=1))
    on_2, _ = await store.transactions.start_transaction(start(connector=2))
    tx = store.transactions
    assert await tx.add_meter_values("CP", 1, 1, on_1.transaction_id, [energy(1, 1)]) == 1
    assert await tx.add_meter_values("CP", 2, 2, "-1", [energy(2, 2)]) == 1  # 1.6: no id yet
    assert await tx.add_meter_values("cp", 2, 0, None, [energy(3, 3)]) == 1  # 2.0.1: EVSE only
    assert await tx.add_meter_values("CP", 0, 0, None, [energy(4, 4)]) == 1  # the whole station
    # The same sample again (a retried message) is stored once.
    assert await tx.add_meter_values("CP", 1, 1, on_1.transaction_id, [energy(1, 1)]) == 0
    values = [
        [s.value for _, s in (await tx.list_meter_values(t.pk, Page())).items] for t in (on_1, on_2)
    ]
    assert values == [["1"], ["2", "3"]]


async def test_meter_values_come_in_time_order_with_a_cursor(store: Store) -> None:
    tx, _ = await store.transactions.start_transaction(start())
    samples = [
        energy(3, 3),
        energy(1, 1),
        MeterSample(NOW + timedelta(minutes=2), "16.5", "Current.Import", "A", phase="L1"),
        MeterSample(NOW + timedelta(minutes=2), "abc==", format="SignedData"),
        energy(0.5, 0, context="Transaction.Begin", location="EV"),
    ]
    assert await store.transactions.add_meter_values("CP", 1, 1, tx.transaction_id, samples) == 5
    first = await store.transactions.list_meter_values(tx.pk, Page(3))
    assert [s.value for _, s in first.items] == ["0.5", "1", "16.5"] and first.has_more
    assert first.items[0][1] == samples[4] and first.items[2][1] == samples[2]
    rest = await store.transactions.list_meter_values(tx.pk, Page(3, first.items[-1][0]))
    assert [s.value for _, s in rest.items] == ["abc==", "3"] and not rest.has_more
    assert rest.items[0][1].format == "SignedData"
    with pytest.raises(NotFound):
        await store.transactions.list_meter_values(tx.pk + 1000, Page())


async def test_transactions_by_charger_id_window_and_cursor(store: Store) -> None:
    a, _ = await store.transactions.start_transaction(start(cp_id="A"))
    b1 = await store.transactions.record_transaction_event(
        event(0, "Started", charge_point_id="B", transaction_id="1", id_tag="tag")
    )
    c1 = await store.transactions.record_transaction_event(
        event(0, "Started", charge_point_id="C", transaction_id="1")
    )
    await store.transactions.stop_transaction(
        TransactionStop("A", a.transaction_id, NOW + timedelta(minutes=30), 200.0, None)
    )
    shared = await store.transactions.find_transactions("1")
    assert {t.charge_point_id for t in shared} == {"B", "C"} | ({"A"} if a.pk == 1 else set())
    assert await store.transactions.find_transactions("1", cp_id="b") == [b1.transaction]
    assert await store.transactions.find_transactions("nope") == []

    async def listed(
        page: Page[int] = EVERYTHING,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        found = await store.transactions.list_transactions(
            page, cp_id=cp_id, active=active, id_tag=id_tag, start=start, end=end
        )
        return [t.charge_point_id for t in found.items]

    assert await listed() == ["C", "B", "A"]
    assert await listed(Page(1, c1.transaction.pk)) == ["B"]
    assert await listed(active=False) == ["A"]
    assert await listed(cp_id="b") == ["B"]
    assert await listed(id_tag="TAG") == ["B", "A"]
    assert await listed(start=NOW + timedelta(hours=1)) == ["C", "B"]
    assert await listed(end=NOW + timedelta(seconds=1)) == ["C", "B", "A"]
    assert await listed(start=NOW + timedelta(minutes=29), end=NOW + timedelta(hours=1)) == [
        "C",
        "B",
        "A",
    ]


async def test_ending_a_transaction_drops_its_tx_profiles_and_uses_its_reservation(
    store: Store,
) -> None:
    await add_charge_point(store, "CP")
    state = store.charger_state
    await state.put_reservation(
        Reservation("CP", 7, 1, 1, "TAG", NOW + timedelta(hours=1), "active", NOW)
    )
    tx, _ = await store.transactions.start_transaction(
        TransactionStart("CP", 1, 1, "TAG", NOW, 0.0, reservation_id=7)
    )
    for profile_id, purpose, transaction_id in [
        (1, "TxProfile", tx.transaction_id),
        (2, "TxProfile", "other"),
        (3, "TxDefaultProfile", None),
    ]:
        await state.put_charging_profile(
            StoredChargingProfile("CP", profile_id, 1, purpose, profile_id, transaction_id, {}, NOW)
        )
    [reservation] = await state.list_reservations("CP")
    assert reservation.status == "used" and reservation.ended_at == NOW
    await store.transactions.stop_transaction(
        TransactionStop("CP", tx.transaction_id, NOW + timedelta(hours=1), 10.0, None)
    )
    assert sorted(p.profile_id for p in await state.list_charging_profiles("CP")) == [2, 3]


async def test_concurrent_replays_are_applied_once(store: Store) -> None:
    starts = await asyncio.gather(
        *(store.transactions.start_transaction(start()) for _ in range(8))
    )
    assert sum(created for _, created in starts) == 1
    assert len({tx.pk for tx, _ in starts}) == 1
    outcomes = await asyncio.gather(
        *(store.transactions.record_transaction_event(event(0, "Started")) for _ in range(8))
    )
    assert sum(o.created for o in outcomes) == 1 and sum(o.duplicate for o in outcomes) == 7


@pytest.fixture
async def two_writers(postgres_server: PostgresServer) -> AsyncIterator[tuple[Store, Store]]:
    """Two PostgreSQL stores on one database: two nodes of a cluster, two writer connections."""
    from tests.databases import reset_database

    url = postgres_server.require()
    first, second = PostgresStore(url), PostgresStore(url)
    await first.open()
    await second.open()
    await reset_database(url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_replays_through_two_writers_are_applied_once(
    two_writers: tuple[Store, Store],
) -> None:
    writers = two_writers * 4
    starts = await asyncio.gather(*(w.transactions.start_transaction(start()) for w in writers))
    assert sum(created for _, created in starts) == 1 and len({tx.pk for tx, _ in starts}) == 1
    for seq_no in range(3):  # the first event creates the transaction; then updates
        outcomes = await asyncio.gather(
            *(
                w.transactions.record_transaction_event(event(seq_no), [energy(seq_no, seq_no)])
                for w in writers
            )
        )
        assert sum(not o.duplicate for o in outcomes) == 1
        assert sum(o.created for o in outcomes) == (1 if seq_no == 0 else 0)
    [tx] = await writers[0].transactions.find_transactions("T-1")
    assert str(tx.seq_nos) == "0-2"
    assert len((await writers[1].transactions.list_meter_values(tx.pk, Page())).items) == 3


async def test_concurrent_meter_values_are_stored_once_and_counted_once(store: Store) -> None:
    """Written together (PostgreSQL runs a batch's MeterValues as one statement), each message's
    samples still go to their own transaction, and a sample sent twice counts once."""
    on_a, _ = await store.transactions.start_transaction(start(cp_id="CP-A"))
    on_b, _ = await store.transactions.start_transaction(start(cp_id="CP-B", connector=2))
    writes = [
        ("CP-A", 1, 1, on_a.transaction_id, [energy(1, 1), energy(2, 2)]),
        ("cp-b", 2, 0, None, [energy(10, 1)]),  # 2.0.1 style: the EVSE only
        ("CP-A", 1, 1, on_a.transaction_id, [energy(2, 2)]),  # a retry of the same sample
        ("CP-C", 1, 1, None, [energy(99, 1)]),  # nothing runs there
        ("CP-B", 2, 2, "-1", [energy(11, 2), energy(12, 3)]),  # 1.6 before it had an id
    ] * 3
    added = await asyncio.gather(*(store.transactions.add_meter_values(*write) for write in writes))
    assert sum(added) == 6
    for tx, values in ((on_a, ["1", "2"]), (on_b, ["10", "11", "12"])):
        stored = await store.transactions.list_meter_values(tx.pk, Page())
        assert [s.value for _, s in stored.items] == values
