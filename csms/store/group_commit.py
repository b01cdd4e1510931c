"""Group commit: one writer that runs the writes of concurrent messages in one SQLite transaction.

Each write is a plain function over a ``sqlite3.Connection``. The writer takes every write queued
while the previous batch was committing, runs them on aiosqlite's worker thread in a single
transaction (each inside its own savepoint, so one failing write does not undo the others), commits
once, then wakes the callers. One thread hop and one fsync serve a whole batch; a caller's future
resolves only after its write is durable, so a charger's message is acknowledged after its commit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

from csms.log import get_logger

__all__ = ["GroupCommitWriter", "WriteOp", "run_on_db_thread"]

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], Any]
_Outcome = tuple[bool, Any]

log = get_logger(__name__)


def _run_batch(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[_Outcome]:
    try:
        return _run_optimistically(conn, ops)
    except _WriteFailed:
        # Some write raised: run the batch again, each write in its own savepoint, so the
        # failing one is undone alone and its neighbours still commit.
        return _run_isolated(conn, ops)


class _WriteFailed(Exception):
    pass


def _run_optimistically(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[_Outcome]:
    """The common case, without a savepoint per write (each costs two statements)."""
    outcomes: list[_Outcome] = []
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


def _run_isolated(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
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


class GroupCommitWriter:
    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[WriteOp, asyncio.Future[Any]]] = asyncio.Queue()
        # Bulk writes nobody waits on (the message log): each runs alone, between the batches of
        # the writes chargers wait for, so those never share a commit with a bulk write.
        self._background: collections.deque[tuple[WriteOp, asyncio.Future[Any]]] = (
            collections.deque()
        )
        self._work = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._on_batch = on_batch

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def submit(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._closing:
            raise RuntimeError("store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future))
        self._work.set()
        return await future

    async def submit_background(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Like ``submit``, for bulk writes that must not delay the others."""
        if self._closing:
            raise RuntimeError("store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._background.append((op, future))
        self._work.set()
        return await future

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        self._closing = True
        if self._task is None:
            return
        await self._queue.join()
        while self._background:
            await asyncio.shield(self._background[-1][1])
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            if self._queue.empty() and not self._background:
                self._work.clear()
                await self._work.wait()
            if self._queue.empty():
                await self._run_background(self._background.popleft())
                continue
            await self._run_batch()
            # One bulk write between batches at most: it never starves, and a charger's commit
            # waits behind one chunk of it at worst.
            if self._background:
                await self._run_background(self._background.popleft())

    async def _run_batch(self) -> None:
        batch = [self._queue.get_nowait()]
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        started = time.perf_counter()
        try:
            outcomes = await self._execute([op for op, _ in batch])
        except Exception as exc:  # the worker thread itself failed
            log.error("write batch failed", error=repr(exc), size=len(batch))
            outcomes = [(False, exc)] * len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch), time.perf_counter() - started)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            self._queue.task_done()

    async def _run_background(self, item: tuple[WriteOp, asyncio.Future[Any]]) -> None:
        op, future = item
        try:
            [(ok, value)] = await self._execute([op])
        except Exception as exc:  # the worker thread itself failed
            ok, value = False, exc
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    async def _execute(self, ops: list[WriteOp]) -> list[_Outcome]:
        return await run_on_db_thread(self._db, lambda conn: _run_batch(conn, ops))


async def run_on_db_thread(db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn`` on aiosqlite's worker thread with the raw connection.

    aiosqlite has no public way to run a function on its thread; ``_execute`` is that, and using it
    keeps a whole write batch (or a multi-query read) to one thread hop. Pinned in pyproject.toml.
    """
    conn = db._conn
    result: T = await db._execute(fn, conn)  # type: ignore[no-untyped-call]
    return result
