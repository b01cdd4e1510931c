"""The store contract: every test here runs once per backend, on an empty database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csms.domain.history import ConnectionInterval, StatusInterval
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer, reset_database

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer
) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "store.db")
        await opened.open()
    else:
        url = postgres_server.require()
        opened = PostgresStore(url)
        await opened.open()  # migrates a new database first
        await reset_database(url)
    try:
        yield opened
    finally:
        await opened.close()


async def add_charge_point(
    store: Store,
    cp_id: str,
    *,
    name: str | None = None,
    password_hash: str | None = None,
    security_profile: int = 0,
) -> None:
    await store.chargers.add_charge_point(
        cp_id,
        name=name,
        password_hash=password_hash,
        security_profile=security_profile,
        site_id=None,
        created_at=NOW,
    )


async def intervals(
    store: Store, start: datetime, end: datetime, cp_id: str | None = None
) -> tuple[list[ConnectionInterval], list[StatusInterval]]:
    """Every connection and status interval overlapping [start, end), of all chargers."""
    found = await store.history.histories(start=start, end=end, cp_id=cp_id)
    return [c for h in found for c in h.connections], [s for h in found for s in h.statuses]
