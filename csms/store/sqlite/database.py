"""The SQLite database every repository of this backend shares: one connection, the group-commit
writer, reads, migrations and WAL checkpoints.

One aiosqlite connection in WAL mode. Writes go through the group-commit writer; reads run as one
function on the same worker thread, so a read never sees half of a write batch.

The WAL stays small at any sustained write rate (ADR 003). SQLite can only rewind the WAL to its
beginning when a checkpoint has copied every frame into the database and a write transaction
starts after that; a PASSIVE checkpoint beside a writer that never pauses never catches up, so the
WAL used to grow for as long as the load lasted. Here a second connection copies frames in the
background (never blocking the writer), then asks the writer to finish the job between two of
its batches: that last step copies only the short tail written meanwhile, and the writer's next
batch rewinds the WAL. ``journal_size_limit`` cuts the file back to size on each rewind, and a
WAL that still outgrows ``wal_max_bytes`` (a disk slower than the load) gets its checkpoint from
the writer at once, whatever the tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from csms.domain.errors import DatabaseUnavailable
from csms.log import get_logger
from csms.store.group_commit import GroupCommitWriter, Outcome
from csms.store.outbox import DeclaredEvents
from csms.store.sqlite.outbox import with_events

__all__ = ["SqliteDatabase", "WalStats", "WriteOp"]

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], Any]

log = get_logger(__name__)


@dataclass
class WalStats:
    """What the checkpoints did; read by metrics and the benchmark."""

    background_checkpoints: int = 0
    finishing_checkpoints: int = 0
    forced_checkpoints: int = 0
    largest_wal_bytes: int = 0
    finishing_seconds: float = 0.0


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("csms.store.sqlite") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _migrate(conn: sqlite3.Connection) -> int:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    # An existing database's upgrade is logged migration by migration: one may rebuild a large
    # table (017: kpi_days, about 1.5 min for 10,000 chargers over 400 days), and the server
    # accepts no charger meanwhile. A new database's are not worth a line each.
    upgrading = current > 0
    for version, script in _migrations():
        if version <= current:
            continue
        if upgrading:
            log.info("applying schema migration", version=version)
        started = time.monotonic()
        # executescript commits first; the version bump rides in the same script. Foreign keys
        # are off meanwhile, so a migration may rebuild a table that others reference.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
        conn.execute("PRAGMA foreign_keys = ON")
        if upgrading:
            seconds = round(time.monotonic() - started, 2)
            log.info("schema migration applied", version=version, seconds=seconds)
        current = version
    return int(current)


class _WriteFailed(Exception):
    pass


def _run_batch(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[Outcome]:
    try:
        return _run_optimistically(conn, ops)
    except _WriteFailed:
        # Some write raised: run the batch again, each write in its own savepoint, so the
        # failing one is undone alone and its neighbours still commit.
        return _run_isolated(conn, ops)


def _run_optimistically(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[Outcome]:
    """The common case, without a savepoint per write (each costs two statements)."""
    outcomes: list[Outcome] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            outcomes.append((True, op(conn)))
    except Exception as exc:
        conn.execute("ROLLBACK")
        raise _WriteFailed from exc
    try:
        conn.execute("COMMIT")
    except Exception as exc:  # disk full, I/O error: nothing of the batch is durable
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [(False, exc)] * len(ops)
    return outcomes


def _run_isolated(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for op in ops:
            conn.execute("SAVEPOINT write_op")
            try:
                result = op(conn)
            except Exception as exc:  # the caller gets its own exception back
                conn.execute("ROLLBACK TO write_op")
                conn.execute("RELEASE write_op")
                outcomes.append((False, exc))
            else:
                conn.execute("RELEASE write_op")
                outcomes.append((True, result))
        conn.execute("COMMIT")
    except Exception as exc:  # BEGIN/COMMIT failed (disk full, I/O error): nothing is durable
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [(False, exc)] * len(ops)
    return outcomes


class SqliteDatabase:
    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
        checkpoint_interval: float = 0.5,
        wal_max_bytes: int = 48 * 1024 * 1024,
    ) -> None:
        self.path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._checkpoint_interval = checkpoint_interval
        self._wal_max = wal_max_bytes
        self._wal_path = Path(f"{path}-wal")
        self._db: aiosqlite.Connection | None = None
        self._writer: GroupCommitWriter[WriteOp] | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._finish_checkpoint = False
        self.wal = WalStats()

    # --- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            if self.path.parent != Path(""):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute(f"PRAGMA synchronous = {self._synchronous}")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        # Checkpoints never run inside a commit a charger waits for (an automatic one stalled
        # such commits for milliseconds): see the module docstring.
        await db.execute("PRAGMA wal_autocheckpoint = 0")
        # On each rewind the WAL file is cut back to this size; it never grows past it for long.
        await db.execute(f"PRAGMA journal_size_limit = {self._wal_max // 2}")
        await self._on_thread(db, _migrate)
        self._db = db
        self._writer = GroupCommitWriter(
            self._execute,
            max_batch=self._max_batch,
            on_batch=self._on_batch,
            between_batches=self._maintain,
        )
        self._writer.start()
        self._checkpointer = await aiosqlite.connect(self.path, isolation_level=None)
        await self._checkpointer.execute("PRAGMA busy_timeout = 5000")
        self._checkpoint_task = asyncio.create_task(
            self._checkpoint_forever(), name="wal-checkpoint"
        )

    async def close(self) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoint_task
            self._checkpoint_task = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._checkpointer is not None:
            # What is committed goes into the database file before the process stops.
            with contextlib.suppress(sqlite3.Error):
                await self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._checkpointer.close()
            self._checkpointer = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    # --- reads and writes ----------------------------------------------------------------------

    async def write(
        self, op: Callable[[sqlite3.Connection], T], *, events: DeclaredEvents[T] | None = None
    ) -> T:
        """Run ``op`` in the next group commit; returns once it is committed. ``events``: what
        the change causes, written to the webhooks' outbox in the same commit."""
        if self._writer is None:
            raise RuntimeError("store is not open")
        if events is not None:
            op = with_events(op, events)
        result: T = await self._writer.submit(op)
        return result

    async def write_background(
        self, op: Callable[[sqlite3.Connection], T], *, events: DeclaredEvents[T] | None = None
    ) -> T:
        """Like ``write``, in a commit of its own between two batches (bulk, not awaited by
        chargers)."""
        if self._writer is None:
            raise RuntimeError("store is not open")
        if events is not None:
            op = with_events(op, events)
        result: T = await self._writer.submit_background(op)
        return result

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise RuntimeError("store is not open")
        return await self._on_thread(self._db, fn)

    async def _execute(self, ops: list[WriteOp]) -> list[Outcome]:
        assert self._db is not None
        return await self._on_thread(self._db, lambda conn: _run_batch(conn, ops))

    @staticmethod
    async def _on_thread(db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on aiosqlite's worker thread with the raw connection.

        aiosqlite has no public way to run a function on its thread; ``_execute`` is that, and
        using it keeps a whole write batch (or a multi-query read) to one thread hop. Pinned in
        pyproject.toml.
        """
        conn = db._conn
        result: T = await db._execute(fn, conn)  # type: ignore[no-untyped-call]
        return result

    # --- WAL checkpoints -----------------------------------------------------------------------

    def wal_bytes(self) -> int:
        try:
            return os.stat(self._wal_path).st_size
        except FileNotFoundError:
            return 0

    async def _checkpoint_forever(self) -> None:
        """Copy committed frames into the database file on a connection (and thread) of its own,
        then ask the writer to finish the checkpoint between two batches."""
        assert self._checkpointer is not None and self._writer is not None
        while True:
            await asyncio.sleep(self._checkpoint_interval)
            size = self.wal_bytes()
            self.wal.largest_wal_bytes = max(self.wal.largest_wal_bytes, size)
            if size == 0:
                continue
            try:
                await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed", error=repr(exc))
                continue
            self.wal.background_checkpoints += 1
            self._finish_checkpoint = True
            self._writer.wake()

    async def _maintain(self) -> None:
        """Between two batches: finish the checkpoint so the next batch rewinds the WAL."""
        forced = not self._finish_checkpoint and self.wal_bytes() > self._wal_max
        if not (self._finish_checkpoint or forced):
            return
        self._finish_checkpoint = False
        assert self._db is not None
        started = time.perf_counter()
        await self._on_thread(
            self._db, lambda conn: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        )
        self.wal.finishing_seconds += time.perf_counter() - started
        if forced:
            self.wal.forced_checkpoints += 1
            log.warning("WAL outgrew its limit: checkpointed by the writer", limit=self._wal_max)
        else:
            self.wal.finishing_checkpoints += 1
