"""This process as one node of a cluster (ADR 013): its link to NATS and its membership."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any

from csms.cluster.events import EventRelay
from csms.cluster.holders import Holders
from csms.cluster.leases import Leases
from csms.cluster.link import ClusterLink
from csms.cluster.load_changes import LoadChanges
from csms.cluster.membership import Membership
from csms.cluster.routing import CallServer
from csms.config import ClusterSettings
from csms.domain.clock import Clock
from csms.log import get_logger
from csms.ocpp.sessions import SessionRegistry
from csms.services.chargers import ChargerService
from csms.services.circuits import CircuitService
from csms.services.events import EventBus
from csms.services.evses import EvseService
from csms.services.loadmanagement import LoadManager
from csms.services.webhooks import WebhookService
from csms.store.cluster_repositories import ClusterStore

__all__ = ["ClusterNode", "default_node_id"]

log = get_logger(__name__)


def default_node_id(ocpp_port: int) -> str:
    """The host name and the OCPP port: unique as long as one host runs one node per port."""
    host = socket.gethostname().split(".", 1)[0] or "node"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{host}-{ocpp_port}")


class ClusterNode:
    def __init__(
        self,
        settings: ClusterSettings,
        node_id: str,
        clock: Clock,
        sessions: SessionRegistry,
    ) -> None:
        assert settings.nats_url is not None
        self.node_id = node_id
        self._node_timeout = settings.node_timeout_s
        self.link = ClusterLink(settings.nats_url, node_id, settings.subject_prefix)
        self.membership = Membership(
            self.link,
            clock,
            heartbeat_interval=settings.heartbeat_interval_s,
            node_timeout=settings.node_timeout_s,
            chargers=sessions.__len__,
        )
        self._sessions = sessions
        self.holders: Holders | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Connect and join, or raise (ClusterUnreachable, DuplicateNode): a node that cannot
        be one does not start."""
        await self.link.connect()
        try:
            await self.membership.join()
        except BaseException:
            await self.link.close()
            raise
        await CallServer(self.link, self._sessions).serve()
        self._spawn(self.membership.run(), "cluster-membership")
        log.info("joined the cluster", node_id=self.node_id)

    async def relay_events(self, bus: EventBus) -> None:
        """Every charger's events on every node (csms.cluster.events)."""
        relay = EventRelay(self.link, bus)
        await relay.start()
        self._spawn(relay.run(), "cluster-events")

    async def share_work(
        self,
        store: ClusterStore,
        load_manager: LoadManager,
        webhooks: WebhookService,
        circuits: CircuitService,
        evses: EvseService,
    ) -> None:
        """Once the store is open, before the webhooks and the load manager start: they work
        under leases (csms.cluster.leases)."""
        leases = Leases(self.link, store, seconds=self._node_timeout)
        load_manager.lead(False)  # until this node holds the lease
        await leases.share_webhooks(webhooks)
        await LoadChanges(self.link, load_manager, store).start(circuits, evses)
        self._spawn(leases.lead_load_management(load_manager), "cluster-load-lease")
        self._spawn(leases.resume_webhooks(), "cluster-webhook-leases")

    async def hold_chargers(self, store: ClusterStore, chargers: ChargerService) -> Holders:
        """Once the store is open, before the gateway: take up who holds which charger."""
        self.holders = Holders(
            self.link,
            self.membership,
            store,
            chargers,
            self._sessions,
            node_timeout=self._node_timeout,
        )
        await self.holders.start()
        self._spawn(self.holders.run(), "cluster-holders")
        return self.holders

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.membership.leave()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.link.close()

    def health(self) -> dict[str, Any]:
        return {"nodeId": self.node_id, "clusterNodes": self.membership.nodes()}
