"""The SQLite store on a real file: group commit, idempotent transactions, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.domain.models import MeterSample, TransactionStart, TransactionStop
from csms.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    batches: list[int] = []
    opened = SqliteStore(tmp_path / "s.db", on_batch=lambda size, _: batches.append(size))
    opened.batches = batches  # type: ignore[attr-defined]
    await opened.open()
    await opened.add_charge_point(
        "CP", name=None, password_hash=None, security_profile=0, site_id=None, created_at=NOW
    )
    yield opened
    await opened.close()


def start(meter: float = 100.0) -> TransactionStart:
    return TransactionStart("CP", 1, 1, "TAG", NOW, meter)


async def test_concurrent_writes_share_commits(store: SqliteStore) -> None:
    store.batches.clear()  # type: ignore[attr-defined]
    samples = [[MeterSample(NOW + timedelta(seconds=i), str(i))] for i in range(200)]
    inserted = await asyncio.gather(*(store.add_meter_values("CP", 1, 1, None, s) for s in samples))
    assert sum(inserted) == 200
    batches = store.batches  # type: ignore[attr-defined]
    assert sum(batches) == 200
    assert len(batches) < 200  # grouped, not one commit per write


async def test_a_failing_write_does_not_undo_its_batch_neighbours(store: SqliteStore) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO id_tags (uid, status, created_at) VALUES ('X', 'enabled', 'now')")
        raise RuntimeError("boom")

    good = store.add_meter_values("CP", 1, 1, None, [MeterSample(NOW, "1")])
    bad = store._write(broken)
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert results[0] == 1
    assert isinstance(results[1], RuntimeError)
    assert await store.get_id_tag("X") is None  # the failed write left nothing behind


async def test_start_is_idempotent_and_ids_are_positive_integers(store: SqliteStore) -> None:
    first, created = await store.start_transaction(start())
    again, created_again = await store.start_transaction(start())
    assert created and not created_again
    assert first.transaction_id == again.transaction_id
    assert int(first.transaction_id) > 0
    other, _ = await store.start_transaction(start(meter=200))
    assert other.transaction_id != first.transaction_id


async def test_stop_is_idempotent(store: SqliteStore) -> None:
    tx, _ = await store.start_transaction(start())
    stop = TransactionStop("CP", tx.transaction_id, NOW + timedelta(hours=1), 1100.0, "Local")
    done = await store.stop_transaction(stop)
    assert done is not None and done.energy_wh == 1000
    replay = await store.stop_transaction(
        TransactionStop("CP", tx.transaction_id, NOW + timedelta(hours=2), 5000.0, "Remote")
    )
    assert replay == done
    assert await store.stop_transaction(TransactionStop("CP", "999", NOW, 1.0, None)) is None


async def test_duplicate_samples_are_stored_once(store: SqliteStore) -> None:
    tx, _ = await store.start_transaction(start())
    sample = [
        MeterSample(NOW, "150"),
        MeterSample(NOW, "7000", measurand="Power.Active.Import", unit="W"),
    ]
    assert await store.add_meter_values("CP", 1, 1, tx.transaction_id, sample) == 2
    assert await store.add_meter_values("CP", 1, 1, tx.transaction_id, sample) == 0
    stored = await store.list_meter_values(tx.transaction_id, limit=10, starting_after=None)
    assert len(stored) == 2


async def test_reopening_keeps_data_and_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    for _ in range(2):
        store = SqliteStore(path)
        await store.open()
        if await store.get_charge_point("CP") is None:
            await store.add_charge_point(
                "CP", name="x", password_hash=None, security_profile=0, site_id=None, created_at=NOW
            )
        await store.close()
    store = SqliteStore(path)
    await store.open()
    charge_point = await store.get_charge_point("cp")  # identities are case-insensitive
    assert charge_point is not None and charge_point.name == "x"
    await store.close()
