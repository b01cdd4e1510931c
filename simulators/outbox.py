"""Ordered, retried delivery of queued transaction messages (both versions).

One worker per connection takes the head of the queue, sends it and only then
moves on, so messages reach the server in the order they happened. A message
cut off by a disconnection stays at the head for the next connection; a
timed-out one is retried with the same payload up to the version's attempt
limit. Versions say how to turn a queued item into a CALL and what to do with
the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from simulators.errors import ConnectionLostError, NotConnectedError, SimulatorError
from simulators.link import SimulatorLink
from simulators.offline_queue import MessageQueue, QueuedCall


class QueuedDelivery(SimulatorLink):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: MessageQueue = MessageQueue()
        self._queue_kick = asyncio.Event()
        self._queue_empty = asyncio.Event()
        self._queue_empty.set()

    def _on_ready(self) -> None:
        super()._on_ready()
        if len(self._queue):
            self.log.info("replaying", queued=len(self._queue))
        self._spawn(self._queue_worker(), "queue", per_connection=True)

    @property
    def queue_length(self) -> int:
        return len(self._queue)

    async def flush_queue(self, timeout: float = 5.0) -> None:
        """Wait until every queued transaction message has been delivered."""
        await self._wait_event(self._queue_empty, timeout, "done replaying the queue")

    @property
    def online(self) -> bool:
        """Can a message be delivered right now (connected and booted)?"""
        lost = self._conn_lost
        return self._booted.is_set() and lost is not None and not lost.done()

    async def _submit(
        self, action: str, kwargs: dict[str, Any], placeholder: int | None = None
    ) -> Any | None:
        """Queue a transaction message; wait for its answer if we are online."""
        item = QueuedCall(action, kwargs, placeholder)
        self._queue.push(item)
        self._queue_empty.clear()
        self._queue_kick.set()
        lost = self._conn_lost
        if not self.online or lost is None:
            return None
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        item.waiter = waiter
        # Generous: the item may wait behind others that are being retried.
        budget = self.response_timeout * (self._message_attempts() + 1)
        try:
            await asyncio.wait({waiter, lost}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not waiter.done():
                item.waiter = None
                waiter.cancel()
        return None if waiter.cancelled() else waiter.result()

    def _finish_item(
        self, item: QueuedCall, result: Any = None, exc: Exception | None = None
    ) -> None:
        self._queue.pop()
        if not len(self._queue):
            self._queue_empty.set()
        if exc is not None:
            self._on_dropped(item, exc)
        waiter = item.waiter
        if waiter is None or waiter.done():
            if exc is not None:
                self.log.warning("queued_message_dropped", action=item.action, error=repr(exc))
            return
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(result)

    async def _queue_worker(self) -> None:
        """Deliver queued transaction messages in order; ends on disconnect."""
        while True:
            item = self._queue.peek()
            if item is None:
                self._queue_kick.clear()
                await self._queue_kick.wait()
                continue
            await self._deliver(item)

    async def _deliver(self, item: QueuedCall) -> None:
        try:
            payload = self._payload_for(item)
        except SimulatorError as exc:
            self._finish_item(item, exc=exc)
            return
        try:
            result = await self._call(payload)
        except (NotConnectedError, ConnectionLostError):
            raise  # stays at the head of the queue for the next connection
        except TimeoutError as exc:
            item.attempts += 1
            if item.attempts >= self._message_attempts():
                self._finish_item(item, exc=exc)
                return
            self.log.info("retrying", action=item.action, attempt=item.attempts)
            await asyncio.sleep(self._retry_interval())
            return
        except Exception as exc:
            # A CALLERROR or a payload the schema refuses: retrying cannot help.
            self._finish_item(item, exc=exc)
            return
        self._on_delivered(item, result)
        self._finish_item(item, result)

    # ---------------------------------------------------- version hooks

    def _payload_for(self, item: QueuedCall) -> Any:
        """The ocpp ``call`` dataclass to send (may raise a SimulatorError)."""
        raise NotImplementedError

    def _on_delivered(self, item: QueuedCall, result: Any) -> None:
        """The server answered ``item`` with ``result``."""

    def _on_dropped(self, item: QueuedCall, exc: Exception) -> None:
        """``item`` will never be delivered."""

    def _message_attempts(self) -> int:
        return 3

    def _retry_interval(self) -> float:
        return 5.0
