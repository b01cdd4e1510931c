"""Tokens stored before tokens had ids survive the migration that gives them one (SQLite 007,
PostgreSQL 004): the same token still authenticates, its name became its label."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from csms.domain.clock import system_clock
from csms.domain.models import Role, TokenSource
from csms.domain.paging import Page
from csms.domain.secrets import hash_api_token
from csms.services.api_tokens import ApiTokenService
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer

OLD_TOKEN = "an-old-token-from-before-ids-0123456789"
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def _scripts(backend: str, before: int) -> list[tuple[int, str]]:
    """The backend's migrations numbered below ``before``, in order: (number, script)."""
    folder = Path(__file__).parents[2] / "csms" / "store" / backend / "migrations"
    found = sorted((int(p.name.split("_", 1)[0]), p) for p in folder.glob("*.sql"))
    return [(number, p.read_text()) for number, p in found if number < before]


def _sqlite_before_ids(path: Path) -> None:
    """A file at the last schema before 007, holding two tokens of that release."""
    conn = sqlite3.connect(path)
    scripts = _scripts("sqlite", 7)
    for _, script in scripts:
        conn.executescript(script)
    conn.executescript(
        f"""
        PRAGMA user_version = {scripts[-1][0]};
        INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES
          ('{hash_api_token(OLD_TOKEN)}', 'dashboard', 'viewer', '2025-01-01T00:00:00.000Z'),
          ('other-hash', 'ops', 'operator', '2025-01-01T00:00:00.000Z');
        """
    )
    conn.commit()
    conn.close()


@pytest.fixture
async def fresh_postgres(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A database of its own (the shared test database is already migrated)."""
    admin_url = postgres_server.require()
    name = f"csms_mig_{uuid.uuid4().hex[:8]}"
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _postgres_before_ids(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations"
            " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version, script in _scripts("postgres", 4):
            await conn.execute(script)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        await conn.executemany(
            "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES ($1, $2, $3, $4)",
            [
                (hash_api_token(OLD_TOKEN), "dashboard", "viewer", CREATED),
                ("other-hash", "ops", "operator", CREATED),
            ],
        )
    finally:
        await conn.close()


async def _check_migrated(store: Store) -> None:
    listed = (await store.api_tokens.list_api_tokens(Page(10))).items
    assert len(listed) == 2
    assert all(t.id.startswith("tok_") and len(t.id) == 28 for t in listed)
    assert len({t.id for t in listed}) == 2
    assert {(t.label, t.role, t.source, t.created_at) for t in listed} == {
        ("dashboard", Role.VIEWER, TokenSource.CLI, CREATED),
        ("ops", Role.OPERATOR, TokenSource.CLI, CREATED),
    }
    assert all(t.expires_at is None and t.last_used_at is None for t in listed)
    token = await ApiTokenService(store.api_tokens, system_clock).authenticate(OLD_TOKEN)
    assert token is not None and (token.label, token.role) == ("dashboard", Role.VIEWER)


async def test_sqlite_tokens_survive_the_migration_and_get_ids(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _sqlite_before_ids(path)
    store = SqliteStore(path)
    await store.open()
    try:
        await _check_migrated(store)
    finally:
        await store.close()


async def test_postgres_tokens_survive_the_migration_and_get_ids(fresh_postgres: str) -> None:
    await _postgres_before_ids(fresh_postgres)
    store = PostgresStore(fresh_postgres)
    await store.open()
    try:
        await _check_migrated(store)
    finally:
        await store.close()
