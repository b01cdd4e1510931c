"""The events a store write causes, written to the webhooks' outbox in that write's commit.

A service about to change something declares the events the change causes (``EventBus.declare``)
and passes them to the store method, which passes them to its one database write
(``SqliteDatabase.write(op, events=...)``, ``PostgresDatabase.write``). Inside the transaction,
right after the change, the backend asks ``outbox_events(result)`` for the events and their
bodies, inserts one outbox row per enabled subscription that wants each (``insert_event`` of
csms.store.{sqlite,postgres}.outbox) and hands back the ids of those subscriptions
(``inserted``), to be notified once the commit is done. A write that fails leaves no row behind;
a batch that is run again (a neighbour failed) computes its events again.

The events are computed from the write's result, so an event can carry what only the write knows
(a new transaction's ``id``, whether an alert was created or updated) and a write that turns out
to change nothing (a replayed message) causes none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from csms.domain.events import CausedEvent, data_json
from csms.domain.webhooks import event_body, new_event_id

__all__ = ["DeclaredEvents", "EventsOf", "OutboxEvent"]

T = TypeVar("T")

EventsOf = Callable[[T], Sequence[CausedEvent]]
"""The events a write causes, from its result; pure and quick (it runs inside the transaction)."""


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event as the outbox stores it: its id, and the exact body every subscription gets."""

    event_id: str
    type: str
    charge_point_id: str | None
    body: str
    at: datetime


class DeclaredEvents(Generic[T]):
    __slots__ = ("_events_of", "_wanted", "at", "events", "webhook_ids", "written")

    def __init__(self, events_of: EventsOf[T], at: datetime, wanted: Callable[[str], bool]) -> None:
        self._events_of = events_of
        self._wanted = wanted  # whether some enabled subscription may want this type
        self.at = at
        self.events: Sequence[CausedEvent] = ()
        self.webhook_ids: list[str] = []
        self.written = False  # set inside the transaction; true once it committed

    def outbox_events(self, result: T) -> list[OutboxEvent]:
        """Inside the write's transaction: the events its change caused that a subscription may
        want, each with a new id and its body."""
        self.events = self._events_of(result)
        return [
            OutboxEvent(
                event_id,
                event.type,
                event.charge_point_id,
                event_body(
                    event_id,
                    event.type,
                    self.at,
                    {"chargePointId": event.charge_point_id, **data_json(event.data)},
                ),
                self.at,
            )
            for event in self.events
            if self._wanted(event.type)
            for event_id in (new_event_id(),)
        ]

    def inserted(self, webhook_ids: Iterable[str]) -> None:
        """Inside the write's transaction: the subscriptions the outbox rows went to."""
        self.webhook_ids = sorted(set(webhook_ids))
        self.written = True
