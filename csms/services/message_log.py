"""The OCPP message log: every frame in and out, written in batches off the reply path."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from csms.domain.clock import Clock
from csms.log import get_logger
from csms.store.base import MessageLogStore, MessageRecord

__all__ = ["MessageLog"]

log = get_logger(__name__)


class MessageLog:
    """Buffers frames in memory and appends them to the store every ``flush_interval`` seconds.

    A frame's reply never waits for its log row: the log is an audit trail, not state. What is
    buffered when the process stops is flushed by ``close``.
    """

    def __init__(
        self,
        store: MessageLogStore,
        clock: Clock,
        *,
        retention: timedelta,
        # Small, frequent batches: a large one holds the database thread (and the commits that
        # chargers wait for) for milliseconds.
        flush_interval: float = 0.1,
        flush_size: int = 500,
        purge_interval: float = 3600.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._flush_interval = flush_interval
        self._flush_size = flush_size
        self._purge_interval = purge_interval
        self._buffer: list[MessageRecord] = []
        self._wake = asyncio.Event()

    def record(
        self,
        cp_id: str,
        direction: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        frame: str,
    ) -> None:
        self._buffer.append(
            MessageRecord(cp_id, direction, message_type, unique_id, action, frame, self._clock())
        )
        if len(self._buffer) >= self._flush_size:
            self._wake.set()

    async def flush(self) -> None:
        if not self._buffer:
            return
        records, self._buffer = self._buffer, []
        try:
            await self._store.append_messages(records)
        except Exception as exc:
            log.error("message log write failed", error=repr(exc), dropped=len(records))

    async def run(self) -> None:
        """Flush and purge until cancelled."""
        loop = asyncio.get_running_loop()
        next_purge = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_interval)
            self._wake.clear()
            await self.flush()
            if loop.time() >= next_purge:
                next_purge = loop.time() + self._purge_interval
                await self.purge_expired()

    async def purge_expired(self) -> int:
        """Delete what is older than the retention period."""
        purged = await self._store.purge_messages(self._clock() - self._retention)
        if purged:
            log.info("message log purged", rows=purged)
        return purged
