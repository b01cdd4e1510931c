"""Work one node at a time must do (ADR 013): a lease in PostgreSQL per piece of work, renewed
by its holder, taken over by another node once it expired (the database's clock decides).

- **Load management**: one lease for the whole allocator. The holder allocates every circuit
  (it hears every charger's events, csms.cluster.events) and its profiles reach chargers on other
  nodes through the command routing; the others keep their state but send nothing. Never two
  allocators fighting over a circuit.
- **Webhooks**: a lease per subscription, so its rows go out from one node, in order. A node
  that commits rows for a subscription another node delivers tells that node over NATS; every
  ``node_timeout_s`` each node looks for subscriptions with pending rows whose holder is gone.
  A change of the subscriptions on one node is told to the others, which reload what they want.
"""

from __future__ import annotations

import asyncio

import orjson
from nats.aio.msg import Msg

from csms.cluster.link import ClusterLink
from csms.log import get_logger
from csms.services.loadmanagement import LoadManager
from csms.services.webhooks import WebhookService
from csms.store.cluster_repositories import ClusterStore

__all__ = ["Leases"]

log = get_logger(__name__)

LOAD_MANAGEMENT = "loadmanagement"


class Leases:
    def __init__(self, link: ClusterLink, store: ClusterStore, *, seconds: float) -> None:
        self._link = link
        self._store = store
        self._seconds = seconds
        self.node_id = link.node_id
        self._webhooks: WebhookService | None = None

    async def hold(self, name: str) -> bool:
        try:
            return await self._store.hold_lease(name, self.node_id, self._seconds)
        except Exception as exc:  # the database away: hold nothing rather than guess
            log.warning("lease not renewed", lease=name, error=repr(exc))
            return False

    # ------------------------------------------------------------ load management

    async def lead_load_management(self, manager: LoadManager) -> None:
        """Renew (or try to take) the allocator's lease three times per lease; tell the load
        manager whether it leads. Until cancelled."""
        manager.lead(False)
        while True:
            manager.lead(await self.hold(LOAD_MANAGEMENT))
            await asyncio.sleep(self._seconds / 3)

    # ------------------------------------------------------------ webhooks

    async def share_webhooks(self, webhooks: WebhookService) -> None:
        self._webhooks = webhooks

        async def hold(webhook_id: str) -> bool:
            return await self.hold(f"webhook:{webhook_id}")

        webhooks.lease = hold
        webhooks.announce = self._announce
        webhooks.on_changed = self._changed
        await self._link.subscribe(self._link.subject("webhooks", "wake"), self._woken)
        await self._link.subscribe(self._link.subject("webhooks", "changed"), self._reload)

    async def resume_webhooks(self) -> None:
        """Every lease: subscriptions with pending rows get a worker here, which delivers them
        if their lease is free (their holder died) and otherwise stops at once."""
        assert self._webhooks is not None
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._webhooks.resume_pending()
            except Exception as exc:
                log.warning("webhook resumption failed", error=repr(exc))

    def _announce(self, webhook_ids: list[str]) -> None:
        body = orjson.dumps({"node": self.node_id, "webhooks": webhook_ids})
        self._send(self._link.subject("webhooks", "wake"), body)

    def _changed(self) -> None:
        body = orjson.dumps({"node": self.node_id})
        self._send(self._link.subject("webhooks", "changed"), body)

    def _send(self, subject: str, body: bytes) -> None:
        # Called right after a commit, synchronously: the publish itself is a task.
        task = asyncio.get_running_loop().create_task(self._publish(subject, body))
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)

    async def _publish(self, subject: str, body: bytes) -> None:
        try:
            await self._link.publish(subject, body)
        except Exception as exc:  # NATS away: the periodic resumption delivers anyway
            log.info("webhook notice not sent", subject=subject, error=repr(exc))

    async def _woken(self, msg: Msg) -> None:
        try:
            body = orjson.loads(msg.data)
            if body["node"] == self.node_id:
                return
            ids = [str(i) for i in body["webhooks"]]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        assert self._webhooks is not None
        for webhook_id in ids:
            self._webhooks.notify(webhook_id)

    async def _reload(self, msg: Msg) -> None:
        try:
            if orjson.loads(msg.data)["node"] == self.node_id:
                return
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        assert self._webhooks is not None
        try:
            await self._webhooks.reload_wanted()
        except Exception as exc:
            log.warning("webhook subscriptions not reloaded", error=repr(exc))


_PENDING: set[asyncio.Task[None]] = set()
