"""The OCPP message log: every frame in and out, written in batches off the reply path.

Frames are kept as exchanges: a CALL waits in memory for its answer (at most
``EXCHANGE_WINDOW_MS``) and both are written as one entry, which costs about half of two entries
on disk and per write. A frame with no partner (malformed, a late answer, a CALL unanswered
within the window) is written on its own.

What the log holds is bounded whatever chargers send: a frame longer than ``max_frame_bytes`` is
kept cut, as ``{"truncated": true, "frameBytes": N, "head": "<its beginning>"}``, and frames that
would take the memory held between writes past ``max_buffer_bytes`` (a slow or unavailable
database, a flood) are left out of the log and counted, never waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

import orjson

from csms.domain.clock import Clock
from csms.domain.models import EXCHANGE_WINDOW_MS, LoggedFrame, MessageExchange
from csms.log import get_logger
from csms.store.repositories import MessageLogStore

__all__ = ["MessageLog"]

log = get_logger(__name__)

_CALL = 2
_ANSWERS = (3, 4)

# (charge point, unique id, direction of the CALL): both sides may use the same unique id.
_OpenKey = tuple[str, str, str]


class MessageLog:
    """Buffers frames in memory and appends them to the store every ``flush_interval`` seconds.

    A frame's reply never waits for its log row: the log is an audit trail, not state. What is
    buffered when the process stops is flushed by ``flush(include_open=True)``.
    """

    def __init__(
        self,
        store: MessageLogStore,
        clock: Clock,
        *,
        retention: timedelta,
        # Small, frequent batches: a large one holds the database (and the commits that
        # chargers wait for) for milliseconds.
        flush_interval: float = 0.1,
        flush_size: int = 500,
        purge_interval: float = 3600.0,
        max_frame_bytes: int = 64 * 1024,
        max_buffer_bytes: int = 64 * 1024 * 1024,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._flush_interval = flush_interval
        self._flush_size = flush_size
        self._purge_interval = purge_interval
        self._window = timedelta(milliseconds=EXCHANGE_WINDOW_MS)
        self._buffer: list[MessageExchange] = []
        # CALLs waiting for their answer, oldest first (dicts keep insertion order).
        self._open: dict[_OpenKey, MessageExchange] = {}
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._max_frame_bytes = max_frame_bytes
        self._max_buffer_bytes = max_buffer_bytes
        # Characters of the frames in _buffer and _open: about their bytes in memory.
        self._held = 0
        self._on_drop = on_drop

    def record(
        self,
        cp_id: str,
        direction: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        frame: str,
    ) -> None:
        # A character is at most 4 bytes in UTF-8: shorter frames need no encoding to be sure.
        if len(frame) * 4 > self._max_frame_bytes:
            frame = self._truncated(frame)
        if self._held + len(frame) > self._max_buffer_bytes:
            self._dropped(1)
            return
        self._held += len(frame)
        logged = LoggedFrame(direction, message_type, self._clock(), frame)
        if unique_id is not None:
            if message_type == _CALL:
                key = (cp_id, unique_id, direction)
                repeated = self._open.pop(key, None)  # the same id again: keep both
                if repeated is not None:
                    self._append(repeated)
                self._open[key] = MessageExchange(cp_id, unique_id, action, logged)
                return
            if message_type in _ANSWERS:
                call_direction = "in" if direction == "out" else "out"
                call = self._open.pop((cp_id, unique_id, call_direction), None)
                if call is not None:
                    self._append(MessageExchange(cp_id, unique_id, call.action, call.first, logged))
                    return
        self._append(MessageExchange(cp_id, unique_id, action, logged))

    def _truncated(self, frame: str) -> str:
        data = frame.encode("utf-8", "replace")
        if len(data) <= self._max_frame_bytes:
            return frame
        head = data[: self._max_frame_bytes].decode("utf-8", "ignore")
        marker = {"truncated": True, "frameBytes": len(data), "head": head}
        return orjson.dumps(marker).decode()

    def _dropped(self, frames: int) -> None:
        if self._on_drop is not None:
            self._on_drop(frames)

    def _append(self, exchange: MessageExchange) -> None:
        self._buffer.append(exchange)
        if len(self._buffer) >= self._flush_size:
            self._wake.set()

    def _close_stale(self, include_open: bool) -> None:
        """Move CALLs unanswered for longer than the window (or all of them) to the buffer."""
        cutoff = self._clock() - self._window
        while self._open:
            key, oldest = next(iter(self._open.items()))
            if not include_open and oldest.first.timestamp > cutoff:
                break
            del self._open[key]
            self._buffer.append(oldest)

    async def flush(self, *, include_open: bool = False) -> None:
        # One flush at a time: a reader's flush returns only once what an earlier one took from
        # the buffer is written too.
        async with self._flushing:
            self._close_stale(include_open)
            if not self._buffer:
                return
            exchanges, self._buffer = self._buffer, []
            self._held -= sum(_size(exchange) for exchange in exchanges)
            try:
                await self._store.append_exchanges(exchanges)
            except Exception as exc:
                log.error("message log write failed", error=repr(exc), dropped=len(exchanges))
                self._dropped(sum(1 if e.answer is None else 2 for e in exchanges))

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
                try:
                    await self.purge_expired()
                except Exception as exc:
                    log.warning("message log purge failed", error=repr(exc))

    async def purge_expired(self) -> int:
        """Delete what is older than the retention period."""
        purged = await self._store.purge_messages(self._clock() - self._retention)
        if purged:
            log.info("message log purged", exchanges=purged)
        return purged


def _size(exchange: MessageExchange) -> int:
    answer = exchange.answer
    return len(exchange.first.frame) + (0 if answer is None else len(answer.frame))
