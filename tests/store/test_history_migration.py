"""The history starts from what the previous release knew (SQLite 009, PostgreSQL 006): one
open status interval per known connector, and a connection interval for a charger recorded as
connected, which the next start closes at the moment it was last heard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csms.domain.history import SERVER_STOPPED, ConnectionInterval, StatusInterval
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer
from tests.store.conftest import intervals
from tests.store.old_schemas import old_postgres, old_sqlite

OLD_ROWS = """
    INSERT INTO charge_points (id, created_at, connected, connected_since, last_seen_at) VALUES
      ('CP-ON', '2025-01-01T00:00:00.000Z', {true}, '2025-01-02T10:00:00.250Z',
       '2025-01-02T10:05:00.000Z'),
      ('CP-OFF', '2025-01-01T00:00:00.000Z', {false}, NULL, '2025-01-02T09:00:00.000Z');
    INSERT INTO connectors (charge_point_id, evse_id, connector_id, status, error_code, updated_at)
    VALUES ('CP-ON', 1, 1, 'Charging', 'NoError', '2025-01-02T10:01:00.500Z');
"""
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 3, tzinfo=UTC)


async def _check(store: Store) -> None:
    await store.chargers.mark_all_disconnected()  # what a start does first
    connections, statuses = await intervals(store, START, END)
    assert connections == [
        ConnectionInterval(
            "CP-ON",
            datetime(2025, 1, 2, 10, 0, 0, 250000, tzinfo=UTC),
            datetime(2025, 1, 2, 10, 5, tzinfo=UTC),
            SERVER_STOPPED,
        )
    ]
    assert statuses == [
        StatusInterval(
            "CP-ON",
            1,
            1,
            "Charging",
            "NoError",
            datetime(2025, 1, 2, 10, 1, 0, 500000, tzinfo=UTC),
            None,
        )
    ]


async def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_sqlite(path, 9, OLD_ROWS.format(true=1, false=0))
    store = SqliteStore(path)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()


@pytest.fixture
async def old_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    async with old_postgres(postgres_server, 6, OLD_ROWS.format(true="true", false="false")) as url:
        yield url


async def test_postgres(old_database: str) -> None:
    store = PostgresStore(old_database)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()
