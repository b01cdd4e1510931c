"""Databases at the schema of an earlier release, to test a migration on real old rows."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.databases import PostgresServer

MIGRATIONS = Path(__file__).parents[2] / "csms" / "store"


def scripts(backend: str, below: int) -> list[tuple[int, str]]:
    """The migrations before ``below``, in the order the runner applies them."""
    found = [
        (int(path.name.split("_", 1)[0]), path.read_text())
        for path in (MIGRATIONS / backend / "migrations").glob("*.sql")
    ]
    return sorted(m for m in found if m[0] < below)


def old_sqlite(path: Path, below: int, rows: str) -> None:
    """A SQLite file migrated up to (not including) ``below``, holding ``rows``."""
    conn = sqlite3.connect(path)
    for _, script in scripts("sqlite", below):
        conn.executescript(script)
    conn.executescript(f"{rows}; PRAGMA user_version = {below - 1};")
    conn.close()


@asynccontextmanager
async def old_postgres(server: PostgresServer, below: int, rows: str) -> AsyncIterator[str]:
    """A database of its own, migrated up to (not including) ``below``, holding ``rows``."""
    server.require()
    name = f"csms_migration_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server.admin_url, timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.admin_url.rpartition("/")[0] + f"/{name}"
    try:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations"
                " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, script in scripts("postgres", below):
                await conn.execute(script)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            await conn.execute(rows)
        finally:
            await conn.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
