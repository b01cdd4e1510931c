"""In-process publish/subscribe of what happens (the API's live event stream reads it).

Publishing never blocks: each subscriber has a bounded queue, and a subscriber that falls behind
loses its oldest events (and is told so) instead of stalling the gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.domain.clock import Clock
from csms.log import get_logger

__all__ = ["Event", "EventBus", "Listener", "Subscription"]

log = get_logger(__name__)

Listener = Callable[[str | None, dict[str, Any]], None]
"""Called with (chargePointId, data) as each event of its type is published."""


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    charge_point_id: str | None
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


class Subscription:
    def __init__(self, charge_point_id: str | None, size: int) -> None:
        self.charge_point_id = charge_point_id.lower() if charge_point_id else None
        self.queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.charge_point_id is not None and (
            event.charge_point_id is None or event.charge_point_id.lower() != self.charge_point_id
        ):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()


class EventBus:
    def __init__(self, clock: Clock, queue_size: int = 1000) -> None:
        self._clock = clock
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._subscribed = asyncio.Condition()
        self._listeners: dict[str, list[Listener]] = {}

    def listen(self, type_: str, listener: Listener) -> None:
        """Keep ``listener`` informed of every event of this type, in process and at once (the
        site tree's live counts). It must be quick and must not block."""
        self._listeners.setdefault(type_, []).append(listener)

    async def wait_for_subscriber(self) -> None:
        """Return once someone listens (a client's event stream is open)."""
        async with self._subscribed:
            await self._subscribed.wait_for(lambda: bool(self._subscriptions))

    @property
    def active(self) -> bool:
        """Whether anyone listens: lets publishers skip building an event nobody reads."""
        return bool(self._subscriptions)

    def wants(self, type_: str) -> bool:
        """Whether a subscriber or a listener would receive an event of this type."""
        return bool(self._subscriptions) or type_ in self._listeners

    def publish(self, type_: str, charge_point_id: str | None, **data: Any) -> None:
        listeners = self._listeners.get(type_)
        if listeners is not None:
            for listener in listeners:
                try:
                    listener(charge_point_id, data)
                except Exception:  # a listener's bug must not fail the charger's message
                    log.exception("event listener failed", event_type=type_)
        if not self._subscriptions:
            return
        event = Event(type_, charge_point_id, self._clock(), data)
        for subscription in self._subscriptions:
            subscription.offer(event)

    @asynccontextmanager
    async def subscribe(self, charge_point_id: str | None = None) -> AsyncIterator[Subscription]:
        subscription = Subscription(charge_point_id, self._queue_size)
        self._subscriptions.add(subscription)
        async with self._subscribed:
            self._subscribed.notify_all()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
