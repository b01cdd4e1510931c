"""PostgreSQL: the change entries behind the kept week reads (migration 016,
csms.store.kpi_window_cache). A roll-up's rows and a charger's registration each add one, what
chargers send in the normal course adds none, the number read from them changes with every
commit whatever order the entries' ids were taken in, and a pruning leaves it growing. And a
charger's deletion waits for a roll-up batch instead of deadlocking with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from csms.services.kpi_rollup import KpiRollup
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.postgres import PostgresStore
from csms.store.postgres.history import ROLLUP_LOCK
from csms.store.postgres.kpi_window import prune_changes, read_version
from tests.databases import PostgresServer, reset_database
from tests.store.test_kpi_rollup_contract import _charger, _connect, _status

NOW = datetime(2026, 3, 3, 9, 20, tzinfo=UTC)


class _Clock:
    def __call__(self) -> datetime:
        return NOW


@pytest.fixture
async def url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    found = postgres_server.require()
    store = PostgresStore(found)
    await store.open()  # migrated
    await store.close()
    await reset_database(found)
    yield found


@pytest.fixture
async def store(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PostgresStore]:
    """Opened as a process that has not rolled anything up yet."""
    monkeypatch.setattr(HORIZON, "_before", None)
    opened = PostgresStore(url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def _task(store: PostgresStore) -> KpiRollup:
    task = KpiRollup(store.kpi_rollup, _Clock(), retention=timedelta(days=400), settle=0.0)
    await task.start()
    return task


async def _entries(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM kpi_rows_changes"))


async def test_rows_and_registrations_add_entries_chargers_traffic_none(
    url: str, store: PostgresStore
) -> None:
    conn = await asyncpg.connect(url)
    try:
        await _charger(store, "CP-1", NOW - timedelta(days=3), None)
        registered = await _entries(conn)
        assert registered >= 1
        task = await _task(store)
        before = await read_version(conn)
        assert await task.roll_up() == 4  # by COPY
        rolled = await _entries(conn)
        assert rolled > registered and await read_version(conn) > before
        # After the horizon: no row changes, no entry (a late change's delete finding nothing
        # adds none either).
        await _connect(store, "CP-1", NOW)
        await _status(store, "CP-1", 1, "Charging", NOW)
        await store.chargers.record_last_seen([("CP-1", NOW)])
        assert await _entries(conn) == rolled
        await _connect(store, "CP-1", NOW - timedelta(hours=2), connected=False)  # late
        assert await _entries(conn) == rolled + 1
    finally:
        await conn.close()


async def test_a_commit_after_a_higher_entry_still_changes_the_number(url: str) -> None:
    early, late, reader = [await asyncpg.connect(url) for _ in range(3)]
    try:
        first = early.transaction()
        await first.start()
        await early.execute("INSERT INTO kpi_rows_changes DEFAULT VALUES")  # the lower id
        await late.execute("INSERT INTO kpi_rows_changes DEFAULT VALUES")  # committed first
        seen = await read_version(reader)
        await first.commit()
        assert await read_version(reader) > seen
    finally:
        for conn in (early, late, reader):
            await conn.close()


async def test_a_pruning_keeps_one_newer_entry_and_the_number_grows(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for _ in range(5):
            await conn.execute("INSERT INTO kpi_rows_changes DEFAULT VALUES")
        seen = await read_version(conn)
        newest = await conn.fetchval("SELECT max(id) FROM kpi_rows_changes")
        async with conn.transaction():
            await prune_changes(conn)
        assert await conn.fetchval("SELECT array_agg(id) FROM kpi_rows_changes") == [newest + 1]
        assert await read_version(conn) > seen
    finally:
        await conn.close()


async def _waiting_on_a_lock(conn: asyncpg.Connection) -> bool:
    """Whether some other session of this database waits for a lock (checked 50 times a 0.1 s
    apart at most)."""
    for _ in range(50):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        if waiting:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_chargers_deletion_waits_for_a_roll_up_batch_instead_of_deadlocking(
    url: str, store: PostgresStore
) -> None:
    """A batch holds the charger's kpi_days rows (deleted to be written again), then takes the
    charger for its new rows' foreign key; a deletion holding the charger while its rows go by
    cascade deadlocked with it (PostgreSQL aborted one after a second)."""
    batch = await asyncpg.connect(url)
    try:
        await _charger(store, "CP-1", NOW - timedelta(days=3), None)
        assert await (await _task(store)).roll_up() == 4
        # Were there a deadlock, this session would find it first and fail here: the store's
        # writer runs again a write PostgreSQL aborted, which would hide it (after a second).
        await batch.execute("SET deadlock_timeout = '100ms'")
        async with batch.transaction():
            await batch.execute("SELECT pg_advisory_xact_lock($1)", ROLLUP_LOCK)
            await batch.execute("DELETE FROM kpi_days WHERE charge_point_id = 'CP-1'")
            deleting = asyncio.create_task(store.chargers.delete_charge_point("CP-1"))
            assert await _waiting_on_a_lock(batch)
            # The foreign key check of the batch's new rows.
            await batch.execute("SELECT 1 FROM charge_points WHERE id = 'CP-1' FOR KEY SHARE")
        await asyncio.wait_for(deleting, 10)
        assert await store.chargers.get_charge_point("CP-1") is None
    finally:
        await batch.close()
