"""Migrating charge points of the previous release (SQLite 005, PostgreSQL 002): a free-text
siteId becomes a site, the boot override becomes bootAnswer, the last boot's answer is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from csms.domain.paging import Page
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer
from tests.store.old_schemas import old_postgres, old_sqlite

OLD_ROWS = """
    INSERT INTO charge_points (id, site_id, registration_status, boot_accepted, last_boot_at,
                               created_at) VALUES
      ('CP-OK', 'depot', NULL, {true}, '2025-01-01T10:00:00.000Z', '2025-01-01T09:00:00.000Z'),
      ('CP-HELD', 'depot', 'Rejected', {false}, '2025-01-01T10:00:00.000Z',
       '2025-01-01T09:00:00.000Z'),
      ('CP-WAIT', 'yard', NULL, {false}, '2025-01-01T10:00:00.000Z', '2025-01-01T09:00:00.000Z'),
      ('CP-NEW', NULL, 'Pending', {false}, NULL, '2025-01-01T09:00:00.000Z');
"""


async def _check(store: Store) -> None:
    sites = {site.id: site for site in await store.sites.all_sites()}
    assert sorted(sites) == ["depot", "yard"]
    assert sites["depot"].name == "depot" and sites["depot"].type == "site"
    listed = (await store.chargers.list_charge_points(Page(10))).items
    got = {cp.id: (cp.site_id, cp.boot_answer, cp.boot_status) for cp in listed}
    assert got == {
        "CP-HELD": ("depot", "Rejected", "Rejected"),
        "CP-NEW": (None, "Pending", None),  # never booted: nothing was told yet
        "CP-OK": ("depot", None, "Accepted"),
        "CP-WAIT": ("yard", None, "Pending"),
    }
    # The migrated sites filter like any other.
    depot = await store.chargers.list_charge_points(Page(10), site_ids={"depot"})
    assert [cp.id for cp in depot.items] == ["CP-HELD", "CP-OK"]


async def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_sqlite(path, 5, OLD_ROWS.format(true=1, false=0))
    store = SqliteStore(path)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()


@pytest.fixture
async def old_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    async with old_postgres(postgres_server, 2, OLD_ROWS.format(true="true", false="false")) as url:
        yield url


async def test_postgres(old_database: str) -> None:
    store = PostgresStore(old_database)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()
