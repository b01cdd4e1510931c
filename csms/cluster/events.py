"""Every charger's events on every node (ADR 013).

Each node publishes the events of the chargers it holds on ``<prefix>.events``, and hands the
other nodes' to its live streams and to the listeners that keep views of the whole network (the
site tree's counts, the load manager): each subscriber sees each event once, from wherever the
frame arrived. Webhooks do not ride on this: their events are written to the outbox in the
change's own commit, in the shared database.

Publishing never blocks the charger's message: events wait in a bounded queue for one task that
hands them to NATS; when NATS is away and the queue is full, the oldest are dropped (counted and
logged), as a slow stream subscriber's are. Core NATS is at most once: a stream is a live view,
and what is durable is in the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import orjson
from nats.aio.msg import Msg

from csms.cluster.link import ClusterLink
from csms.log import get_logger
from csms.services.events import EventBus

__all__ = ["EventRelay"]

log = get_logger(__name__)

_QUEUE = 10_000


class EventRelay:
    def __init__(self, link: ClusterLink, bus: EventBus) -> None:
        self._link = link
        self._bus = bus
        self._subject = link.subject("events")
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE)
        self.dropped = 0
        self._dropped_logged_at = 0.0

    async def start(self) -> None:
        await self._link.subscribe(self._subject, self._heard)
        self._bus.relay = self.forward

    def forward(self, type_: str, charge_point_id: str | None, data: Mapping[str, Any]) -> None:
        """From the bus, as each event is published here: never blocks."""
        body = orjson.dumps(
            {"node": self._link.node_id, "type": type_, "cp": charge_point_id, "data": data},
            default=str,
        )
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged_at > 60:
                self._dropped_logged_at = now
                log.warning("events for the other nodes dropped", dropped=self.dropped)
        self._queue.put_nowait(body)

    async def run(self) -> None:
        while True:
            body = await self._queue.get()
            try:
                await self._link.publish(self._subject, body)
            except Exception:  # NATS away: this one is lost; the next ones wait in the queue
                await asyncio.sleep(0.5)

    async def _heard(self, msg: Msg) -> None:
        try:
            event = orjson.loads(msg.data)
            if event["node"] == self._link.node_id:
                return
            type_, cp_id, data = str(event["type"]), event["cp"], dict(event["data"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("unreadable event from another node ignored")
            return
        self._bus.publish_remote(type_, cp_id, data)
