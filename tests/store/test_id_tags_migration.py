"""Migrating the id-tags of the previous release (SQLite 006, PostgreSQL 003): the default type
'Central' becomes no type, a type the operator chose stays, lastUpdatedAt starts at createdAt."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from csms.domain.models import IdTag, IdTagStatus
from csms.domain.paging import Page
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer
from tests.store.old_schemas import old_postgres, old_sqlite

CREATED = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
OLD_ROWS = """
    INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label, created_at) VALUES
      ('Card-1', 'Central', 'enabled', NULL, 'FLEET', 'van 1', '2025-01-01T10:00:00.000Z'),
      ('EMA-1', 'eMAID', 'blocked', '2030-01-01T00:00:00.000Z', NULL, NULL,
       '2025-01-01T10:00:00.000Z');
"""
EXPECTED = [
    IdTag(
        "Card-1",
        IdTagStatus.ENABLED,
        None,
        None,
        "FLEET",
        "van 1",
        created_at=CREATED,
        last_updated_at=CREATED,
    ),
    IdTag(
        "EMA-1",
        IdTagStatus.BLOCKED,
        "eMAID",
        datetime(2030, 1, 1, tzinfo=UTC),
        created_at=CREATED,
        last_updated_at=CREATED,
    ),
]


async def _check(store: Store) -> None:
    assert (await store.id_tags.list_id_tags(Page(10))).items == EXPECTED
    # The new column is in place and indexed for ?userId=.
    assert (await store.id_tags.list_id_tags(Page(10), user_id="anyone")).items == []


async def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_sqlite(path, 6, OLD_ROWS)
    store = SqliteStore(path)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(id_tags)")}
    conn.close()
    assert "id_tags_user_id" in indexes


@pytest.fixture
async def old_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A database of its own, at the schema before migration 003."""
    async with old_postgres(postgres_server, 3, OLD_ROWS) as url:
        yield url


async def test_postgres(old_database: str) -> None:
    store = PostgresStore(old_database)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()
    conn = await asyncpg.connect(old_database, timeout=5)
    try:
        indexes = await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'id_tags'")
    finally:
        await conn.close()
    assert "id_tags_user_id" in {row["indexname"] for row in indexes}
