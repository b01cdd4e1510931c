"""Group commit: one writer that commits the writes of concurrent messages together.

Both backends use it (ADR 002, ADR 003). A write is an operation the backend knows how to run (a
function over a ``sqlite3.Connection``, or a coroutine function over an asyncpg connection); the
writer takes every write queued while the previous batch was committing, hands the whole batch to
the backend's ``execute`` (one transaction, one commit, one fsync), then wakes the callers. A
caller's future resolves only after its write is durable, so a charger's message is acknowledged
after its commit. Under load batches grow by themselves; when idle a write commits at once.

Bulk writes nobody waits on (the message log) go to a second queue: each runs as a batch of its
own between two batches of the writes chargers wait for, so it never shares their commit and at
most one of them delays a charger's commit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from csms.log import get_logger

__all__ = ["BatchExecutor", "GroupCommitWriter", "Outcome"]

Op = TypeVar("Op")
Outcome = tuple[bool, Any]
"""(True, result) or (False, the exception the write raised)."""

BatchExecutor = Callable[[list[Op]], Awaitable[list[Outcome]]]
"""Runs a batch in one transaction: one outcome per write, a failing write undone alone."""

log = get_logger(__name__)


class GroupCommitWriter(Generic[Op]):
    def __init__(
        self,
        execute: Callable[[list[Op]], Awaitable[list[Outcome]]],
        *,
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
        between_batches: Callable[[], Awaitable[None]] | None = None,
        workers: int = 1,
    ) -> None:
        self._execute = execute
        self._workers = workers
        self._max_batch = max_batch
        self._on_batch = on_batch
        # Maintenance the backend runs outside any transaction, when no batch is running
        # (SQLite: finishing a WAL checkpoint so the log can restart from its beginning).
        self._between_batches = between_batches
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]]] = asyncio.Queue()
        self._background: collections.deque[tuple[Op, asyncio.Future[Any]]] = collections.deque()
        self._work = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def start(self) -> None:
        # Several workers (a backend with several writer connections) take batches from the
        # same queue: while one batch waits for its commit, the next one already runs.
        self._tasks = [
            asyncio.create_task(self._run(), name=f"group-commit-writer-{i}")
            for i in range(self._workers)
        ]

    async def submit(self, op: Op) -> Any:
        if self._closing:
            raise RuntimeError("store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future))
        self._work.set()
        return await future

    async def submit_background(self, op: Op) -> Any:
        """Like ``submit``, for bulk writes that must not delay the others."""
        if self._closing:
            raise RuntimeError("store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._background.append((op, future))
        self._work.set()
        return await future

    def wake(self) -> None:
        """Run ``between_batches`` soon, even when no write is queued."""
        self._work.set()

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        self._closing = True
        if not self._tasks:
            return
        await self._queue.join()
        while self._background:
            await asyncio.shield(self._background[-1][1])
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while True:
            if self._queue.empty() and not self._background:
                self._work.clear()
                await self._work.wait()
            if self._between_batches is not None:
                try:
                    await self._between_batches()
                except Exception as exc:
                    log.warning("store maintenance failed", error=repr(exc))
            if self._queue.empty():
                if self._background:
                    await self._run_one(self._background.popleft())
                continue
            await self._run_batch()
            # One bulk write between batches at most: it never starves, and a charger's commit
            # waits behind one chunk of it at worst.
            if self._background:
                await self._run_one(self._background.popleft())

    async def _run_batch(self) -> None:
        batch = [self._queue.get_nowait()]
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        started = time.perf_counter()
        outcomes = await self._safely([op for op, _ in batch])
        if self._on_batch is not None:
            self._on_batch(len(batch), time.perf_counter() - started)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            _resolve(future, ok, value)
            self._queue.task_done()

    async def _run_one(self, item: tuple[Op, asyncio.Future[Any]]) -> None:
        op, future = item
        [(ok, value)] = await self._safely([op])
        _resolve(future, ok, value)

    async def _safely(self, ops: list[Op]) -> list[Outcome]:
        try:
            return await self._execute(ops)
        except Exception as exc:  # the backend itself failed (lost connection, dead thread)
            log.error("write batch failed", error=repr(exc), size=len(ops))
            return [(False, exc)] * len(ops)


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
