"""What happens, told in process (the API's live event stream, the site tree, the load manager)
and to the webhooks.

Publishing never blocks: each subscriber has a bounded queue, and a subscriber that falls behind
loses its oldest events (and is told so) instead of stalling the gateway.

A change's events reach the webhooks through their outbox, in the change's own commit: the
service declares them before the store write (``change``, or ``declare`` and ``committed``), the
store writes them with the change (csms.store.outbox), and once it committed they are published
in process and the webhooks' workers woken. With no webhook subscription nothing is declared and a
write costs what it did before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from csms.domain.clock import Clock
from csms.domain.errors import DatabaseUnavailable
from csms.domain.events import CausedEvent
from csms.log import get_logger
from csms.store.outbox import DeclaredEvents, EventsOf

__all__ = ["Event", "EventBus", "EventSink", "Listener", "Subscription"]

T = TypeVar("T")

log = get_logger(__name__)

Listener = Callable[[str | None, Mapping[str, Any]], None]
"""Called with (chargePointId, data) as each event of its type is published."""


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    charge_point_id: str | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


class EventSink(Protocol):
    """The webhooks, as the events see them (csms.services.webhooks.WebhookService)."""

    @property
    def subscribed(self) -> bool:
        """Whether any subscription is enabled: if none, no event is written."""
        ...

    def wanted(self, type_: str) -> bool:
        """Whether some enabled subscription may want this type (in memory, quick; a yes that
        turns out wrong only costs a statement that inserts nothing)."""
        ...

    def wake(self, webhook_ids: Iterable[str]) -> None:
        """Rows for these subscriptions were committed: deliver them."""
        ...

    async def record(self, events: DeclaredEvents[None]) -> None:
        """Write events that no stored change causes, in a commit of their own."""
        ...


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
        # Listeners that also hear the other nodes' events (a cluster, ADR 013).
        self._remote_listeners: dict[str, list[Listener]] = {}
        self._sink: EventSink | None = None
        # In a cluster: hands each event published here to the other nodes (never blocks).
        self.relay: Callable[[str, str | None, Mapping[str, Any]], None] | None = None

    def attach(self, sink: EventSink) -> None:
        """Write every event a webhook subscription wants to its outbox (at start-up)."""
        self._sink = sink

    def listen(self, type_: str, listener: Listener, *, remote: bool = False) -> None:
        """Keep ``listener`` informed of every event of this type, in process and at once (the
        site tree's live counts). It must be quick and must not block. ``remote``: also of the
        events of chargers held by the other nodes of a cluster (views of the whole network);
        the others (which write, such as alerts) hear only this node's, so each is done once."""
        self._listeners.setdefault(type_, []).append(listener)
        if remote:
            self._remote_listeners.setdefault(type_, []).append(listener)

    def listen_remote(self, type_: str, listener: Listener) -> None:
        """Only the other nodes' events of this type (a cluster): for a listener that must
        learn what happened elsewhere without doing again what that node did."""
        self._remote_listeners.setdefault(type_, []).append(listener)

    async def wait_for_subscriber(self) -> None:
        """Return once someone listens (a client's event stream is open)."""
        async with self._subscribed:
            await self._subscribed.wait_for(lambda: bool(self._subscriptions))

    # --- changes and their events --------------------------------------------------------------

    def declare(self, events_of: EventsOf[T]) -> DeclaredEvents[T] | None:
        """For a store write about to run: the events it will cause, for the store to write to
        the webhooks' outbox in its commit (pass it as the store method's ``events``); None when
        no webhook is subscribed. Publish them with ``committed`` once the write returned."""
        sink = self._sink
        if sink is None or not sink.subscribed:
            return None
        return DeclaredEvents(events_of, self._clock(), sink.wanted)

    def committed(
        self, declared: DeclaredEvents[T] | None, events_of: EventsOf[T], result: T
    ) -> None:
        """After the write committed: wake the webhooks' workers and publish its events."""
        if declared is not None and declared.written:
            assert self._sink is not None
            if declared.webhook_ids:
                self._sink.wake(declared.webhook_ids)
            events = declared.events
        else:
            if declared is not None:  # a store method that did not pass them to its write
                log.error("declared events were not written with their change")
            if not (self._subscriptions or self._listeners):
                return
            events = events_of(result)
        for event in events:
            self._publish(event.type, event.charge_point_id, event.data)

    async def change(
        self,
        write: Callable[[DeclaredEvents[T] | None], Awaitable[T]],
        events_of: EventsOf[T],
    ) -> T:
        """Run a store write (given the declared events to pass on) and publish what it caused."""
        declared = self.declare(events_of)
        result = await write(declared)
        self.committed(declared, events_of, result)
        return result

    async def emit(self, event: CausedEvent) -> None:
        """An event that no stored change causes (a load-management decision): written to the
        outbox in a commit of its own when a subscription wants it, then published."""

        def events_of(_: None) -> tuple[CausedEvent, ...]:
            return (event,)

        declared = self.declare(events_of)
        if declared is not None:
            assert self._sink is not None
            try:
                await self._sink.record(declared)
            except DatabaseUnavailable as exc:
                log.warning("event not written for the webhooks", type=event.type, error=str(exc))
        self.committed(declared, events_of, None)

    # --- in process -------------------------------------------------------------------------------

    def publish(self, type_: str, charge_point_id: str | None, **data: Any) -> None:
        """In process only, never written for the webhooks. The central system's own events all
        come from ``change`` and ``emit``; this is for listeners' tests and in-process signals."""
        self._publish(type_, charge_point_id, data)

    def publish_remote(
        self, type_: str, charge_point_id: str | None, data: Mapping[str, Any]
    ) -> None:
        """An event another node of the cluster published: to the streams and the listeners
        that asked for remote events; not relayed again."""
        self._deliver(self._remote_listeners.get(type_), type_, charge_point_id, data)

    def _publish(self, type_: str, charge_point_id: str | None, data: Mapping[str, Any]) -> None:
        # _deliver's body, inlined: this runs for every event of every charger's frames.
        if self.relay is not None:
            self.relay(type_, charge_point_id, data)
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

    def _deliver(
        self,
        listeners: list[Listener] | None,
        type_: str,
        charge_point_id: str | None,
        data: Mapping[str, Any],
    ) -> None:
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
