"""What only the SQLite backend does: group commit on its thread, migrations, a bounded WAL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.domain.models import MeterSample
from csms.domain.paging import Page
from csms.domain.transactions import TransactionEvent
from csms.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    batches: list[int] = []
    opened = SqliteStore(tmp_path / "s.db", on_batch=lambda size, _: batches.append(size))
    opened.batches = batches  # type: ignore[attr-defined]
    await opened.open()
    await opened.chargers.add_charge_point(
        "CP", name=None, password_hash=None, security_profile=0, site_id=None, created_at=NOW
    )
    yield opened
    await opened.close()


async def test_concurrent_writes_share_commits(store: SqliteStore) -> None:
    store.batches.clear()  # type: ignore[attr-defined]
    samples = [[MeterSample(NOW + timedelta(seconds=i), str(i))] for i in range(200)]
    inserted = await asyncio.gather(
        *(store.transactions.add_meter_values("CP", 1, 1, None, s) for s in samples)
    )
    assert sum(inserted) == 200
    batches = store.batches  # type: ignore[attr-defined]
    assert sum(batches) >= 200
    assert len(batches) < 200  # grouped, not one commit per write


async def test_a_failing_write_does_not_undo_its_batch_neighbours(store: SqliteStore) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO id_tags (uid, status, created_at, last_updated_at)"
            " VALUES ('X', 'enabled', 'now', 'now')"
        )
        raise RuntimeError("boom")

    good = store.transactions.add_meter_values("CP", 1, 1, None, [MeterSample(NOW, "1")])
    bad = store.database.write(broken)
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert results[0] == 1
    assert isinstance(results[1], RuntimeError)
    assert await store.id_tags.get_id_tag("X") is None  # the failed write left nothing behind


async def test_reopening_keeps_data_and_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    for _ in range(2):
        store = SqliteStore(path)
        await store.open()
        if await store.chargers.get_charge_point("CP") is None:
            await store.chargers.add_charge_point(
                "CP", name="x", password_hash=None, security_profile=0, site_id=None, created_at=NOW
            )
        await store.close()
    store = SqliteStore(path)
    await store.open()
    charge_point = await store.chargers.get_charge_point("cp")  # identities are case-insensitive
    assert charge_point is not None and charge_point.name == "x"
    await store.close()


def _database_of_the_previous_release(path: Path) -> None:
    """A file at schema version 3, with what that release wrote: a 1.6 and a 2.0.1
    transaction, samples, and two rows of the old message log."""
    conn = sqlite3.connect(path)
    migrations = Path(__file__).parents[2] / "csms" / "store" / "sqlite" / "migrations"
    for version in (1, 2, 3):
        [script] = migrations.glob(f"{version:03d}_*.sql")
        conn.executescript(script.read_text())
    conn.executescript(
        """
        PRAGMA user_version = 3;
        INSERT INTO charge_points (id, created_at) VALUES ('CP16', '2025-01-01T00:00:00.000Z');
        INSERT INTO transactions (pk, charge_point_id, transaction_id, evse_id, connector_id,
            id_tag, status, started_at, stopped_at, meter_start_wh, meter_stop_wh, stop_reason,
            start_key)
          VALUES (1, 'CP16', '1', 1, 1, 'TAG', 'completed', '2025-01-01T10:00:00.000Z',
            '2025-01-01T11:00:00.000Z', 100, 900, 'Local', 'cp16|1|TAG|x|100.0');
        INSERT INTO transactions (pk, charge_point_id, transaction_id, evse_id, connector_id,
            id_tag, status, started_at, meter_start_wh)
          VALUES (2, 'CS201', 'uuid-1', 1, 1, 'TAG', 'active', '2025-01-01T10:00:00.000Z', 5000);
        INSERT INTO transaction_events VALUES
          (2, 0, 'Started', 'Authorized', '2025-01-01T10:00:00.000Z', 0, 5000),
          (2, 1, 'Updated', 'MeterValuePeriodic', '2025-01-01T10:10:00.000Z', 0, 5500),
          (2, 4, 'Updated', 'MeterValuePeriodic', '2025-01-01T10:40:00.000Z', 0, 6000);
        INSERT INTO meter_values (id, charge_point_id, evse_id, connector_id, transaction_pk,
            timestamp, measurand, phase, unit, value, context, location, format)
          VALUES (7, 'CP16', 1, 1, 1, '2025-01-01T10:30:00.250Z',
            'Energy.Active.Import.Register', '', 'Wh', '500', 'Sample.Periodic', 'Outlet', 'Raw');
        INSERT INTO ocpp_messages (charge_point_id, direction, message_type, unique_id, action,
            payload, timestamp) VALUES
          ('CP16', 'in', 2, 'u1', 'Heartbeat', '[2,"u1","Heartbeat",{}]',
           '2025-01-01T10:00:00.000Z'),
          ('CP16', 'out', 4, 'u1', 'Heartbeat', '[4,"u1","InternalError","oops",{"a":1}]',
           '2025-01-01T10:00:00.001Z');
        """
    )
    conn.commit()
    conn.close()


async def test_the_previous_schema_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _database_of_the_previous_release(path)
    store = SqliteStore(path)
    await store.open()
    try:
        done = await store.transactions.get_transaction(1)
        assert done is not None and done.energy_wh == 800 and done.meter_stop_wh == 900
        running = await store.transactions.get_transaction(2)
        assert running is not None and running.active
        assert running.meter_start_wh == 5000 and running.meter_start is not None
        assert running.meter_start.fixed and running.meter_end is not None
        assert running.meter_end.wh == 6000 and not running.meter_end.fixed
        assert str(running.seq_nos) == "0-1,4"
        samples = await store.transactions.list_meter_values(1, Page(10))
        [(sample_id, sample)] = samples.items
        assert sample_id == 7 and sample.value == "500" and sample.phase is None
        assert sample.timestamp == datetime(2025, 1, 1, 10, 30, 0, 250000, tzinfo=UTC)
        frames = (await store.message_log.list_messages(Page(10))).items
        assert [(m.direction, m.message_type, m.payload) for m in frames] == [
            ("in", "Call", {}),
            (
                "out",
                "CallError",
                {
                    "errorCode": "InternalError",
                    "errorDescription": "oops",
                    "errorDetails": {"a": 1},
                },
            ),
        ]
        assert frames[1].timestamp == datetime(2025, 1, 1, 10, 0, 0, 1000, tzinfo=UTC)
        # And the migrated store keeps working: the next event fills the gap.
        outcome = await store.transactions.record_transaction_event(
            TransactionEvent("CS201", "uuid-1", "Ended", 2, NOW, "StopAuthorized")
        )
        assert outcome.missing_seq_nos == (3,) and outcome.ended
    finally:
        await store.close()


async def test_the_wal_rewinds_under_writes_that_never_pause(tmp_path: Path) -> None:
    """A writer that never pauses used to keep the WAL from ever rewinding (PASSIVE checkpoints
    beside it never catch up): it grew for as long as the load lasted."""
    store = SqliteStore(tmp_path / "busy.db", checkpoint_interval=0.05)
    await store.open()
    await store.chargers.add_charge_point(
        "CP", name=None, password_hash=None, security_profile=0, site_id=None, created_at=NOW
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    largest = 0

    async def write(k: int) -> None:
        for i in range(100_000):  # bounded; the deadline ends it first
            if loop.time() >= deadline:
                return
            sample = MeterSample(NOW + timedelta(milliseconds=100 * i + k), str(i))
            await store.transactions.add_meter_values("CP", 1, 1, None, [sample])

    async def watch() -> None:
        nonlocal largest
        while loop.time() < deadline:
            largest = max(largest, store.database.wal_bytes())
            await asyncio.sleep(0.01)

    try:
        await asyncio.gather(*(write(k) for k in range(50)), watch())
        wal = store.database.wal
    finally:
        await store.close()
    assert wal.finishing_checkpoints >= 5 and wal.forced_checkpoints == 0
    # Without the writer's finishing checkpoints this run reaches the 48 MB limit.
    assert largest < 16 * 1024 * 1024, largest
