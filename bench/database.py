"""The database behind our server under test, seen from the runner: a fresh PostgreSQL database per
case (``bench.run --database``), and what the disk scenario measures (the SQLite WAL's size, the
bytes of database in use, the message log's share).

Every read here opens its own short-lived connection: a SQLite reader that stayed in a read
transaction would keep the server's checkpoints from rewinding the WAL, the very thing measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

__all__ = ["POSTGRES_SCHEMES", "DiskProbe", "PostgresDatabases", "describe_url"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_CONNECT_TIMEOUT = 10.0


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL: what may be printed (no user, no password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path or '/'}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class PostgresDatabases:
    """Creates one throw-away database per case on the server of ``admin_url`` and drops it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._numbers = itertools.count(1)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.admin_url, timeout=_CONNECT_TIMEOUT)

    async def server_version(self) -> str:
        """Also the check, before any case runs, that the server is there and lets us in."""
        conn = await self._admin()
        try:
            # "15.20 (Debian 15.20-0+deb12u1)": the number is what a table heading needs.
            return str(await conn.fetchval("SHOW server_version")).split()[0]
        finally:
            await conn.close()

    async def create(self) -> str:
        """A new empty database; returns its URL (the admin URL's user, host and options)."""
        # The pid keeps two runs on one server apart; the counter, the cases of one run.
        name = f"csms_bench_{os.getpid()}_{next(self._numbers)}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return _with_database(self.admin_url, name)

    async def drop(self, url: str) -> None:
        # FORCE: a server that was killed, or connections it never closed, must not keep the
        # database alive past its case.
        name = urlsplit(url).path.lstrip("/")
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _sqlite_in_use(path: Path, with_log: bool) -> tuple[int, int | None]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        # One read transaction: the total and the message log's share from the same snapshot.
        conn.execute("BEGIN")
        page_count = conn.execute("PRAGMA page_count").fetchone()[0]
        freelist = conn.execute("PRAGMA freelist_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        log: int | None = None
        if with_log:
            # dbstat names every b-tree; the table's own indexes share its tbl_name.
            row = conn.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN"
                " (SELECT name FROM sqlite_schema WHERE tbl_name = 'message_log')"
            ).fetchone()
            log = int(row[0] or 0)
        conn.execute("COMMIT")
        return (page_count - freelist) * page_size, log
    finally:
        conn.close()


def _sqlite_has_dbstat(path: Path) -> bool:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1").fetchall()
    except sqlite3.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
        return False
    finally:
        conn.close()
    return True


class DiskProbe:
    """What the disk scenario reads from the runner while a case runs on our server.

    ``url`` set: PostgreSQL (``pg_database_size``); otherwise the SQLite file at ``sqlite_path``,
    whose ``-wal`` file is sampled every ``interval`` s between ``start`` and ``stop``.
    """

    def __init__(self, sqlite_path: Path, url: str | None, interval: float = 0.25) -> None:
        self.sqlite_path = sqlite_path
        self.url = url
        self.interval = interval
        self.wal_path = Path(f"{sqlite_path}-wal")
        self.wal_max_bytes = 0
        self.wal_samples = 0
        self._sampler: asyncio.Task[None] | None = None
        self._has_dbstat: bool | None = None

    @property
    def backend(self) -> str:
        return "sqlite" if self.url is None else "postgresql"

    def start(self) -> None:
        if self.url is None:
            self._sampler = asyncio.get_running_loop().create_task(self._sample_wal())

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
            self._sampler = None

    def _wal_size(self) -> int:
        try:
            return os.stat(self.wal_path).st_size
        except FileNotFoundError:  # before the server opens the database, after it closes it
            return 0

    async def _sample_wal(self) -> None:
        # On a fixed schedule rather than sleep(interval) after each stat, so a slow wake-up
        # does not thin the samples out.
        next_at = time.monotonic()
        while True:
            self.wal_max_bytes = max(self.wal_max_bytes, self._wal_size())
            self.wal_samples += 1
            next_at += self.interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def in_use(self) -> tuple[int, int | None]:
        """(bytes of database in use, bytes of the message log or None if not measurable)."""
        if self.url is not None:
            conn = await asyncpg.connect(self.url, timeout=_CONNECT_TIMEOUT)
            try:
                row = await conn.fetchrow(
                    "SELECT pg_database_size(current_database()) AS total,"
                    " pg_total_relation_size(to_regclass('message_log')) AS log"
                )
            finally:
                await conn.close()
            log = row["log"]
            return int(row["total"]), None if log is None else int(log)
        if self._has_dbstat is None:
            self._has_dbstat = await asyncio.to_thread(_sqlite_has_dbstat, self.sqlite_path)
        return await asyncio.to_thread(_sqlite_in_use, self.sqlite_path, self._has_dbstat)
