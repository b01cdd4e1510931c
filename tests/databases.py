"""The databases tests run against: a SQLite file in a temporary directory, and a PostgreSQL
database created for the test session on the local server (dropped afterwards).

PostgreSQL is found at ``CSMS_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/
postgres``, the server every machine here runs). Without one, PostgreSQL tests are skipped with a
message saying so, unless ``CSMS_REQUIRE_POSTGRES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

from csms.config import mask_password

__all__ = ["PostgresServer", "reset_database"]

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class PostgresServer:
    """One database for the whole session; every test starts it empty (``reset_database``)."""

    def __init__(self) -> None:
        self.admin_url = os.environ.get("CSMS_TEST_POSTGRES", DEFAULT_SERVER)
        self.name = f"csms_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.url = _with_database(self.admin_url, self.name)
        self.error: str | None = None

    def create(self) -> None:
        async def create() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=5)
            try:
                await conn.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                await conn.close()

        try:
            asyncio.run(create())
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            self.error = (
                f"PostgreSQL is not reachable at {mask_password(self.admin_url)} ({exc}); start it"
                " or point CSMS_TEST_POSTGRES at a server"
            )

    def drop(self) -> None:
        if self.error is not None:
            return

        async def drop() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=5)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())

    def require(self) -> str:
        if self.error is not None:
            if os.environ.get("CSMS_REQUIRE_POSTGRES") == "1":
                pytest.fail(self.error)
            pytest.skip(self.error)
        return self.url


async def reset_database(url: str) -> None:
    """Empty every table (the schema stays), so a test starts from nothing."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename != 'schema_migrations'"
            )
        ]
        if tables:
            await conn.execute(
                f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE;"
                " ALTER SEQUENCE IF EXISTS command_ids RESTART"
            )
    finally:
        await conn.close()
