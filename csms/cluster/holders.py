"""One live connection per identity in the whole cluster (ADR 013).

Each connection claims its charger in PostgreSQL with a number from a sequence, in the same
commit that records it connected (csms.store.postgres.cluster): the newest claim wins. The node
that held the charger before is told over NATS to close its older connection at once; and every
``reconcile_s`` each node compares its connections with the record and closes those it no
longer holds, which settles whatever NATS did not carry (an outage, a split that healed). A
connection's close releases the charger only while its claim still holds, so the late close of
a connection taken over elsewhere never marks the charger offline.

A dead node's chargers are released by the first live node in id order, once it has been in the
cluster long enough to have heard every live node: marked offline unless they reconnected
elsewhere (their claim moved, and the conditional release records nothing).
"""

from __future__ import annotations

import asyncio
import time

import orjson
from nats.aio.msg import Msg

from csms.cluster.link import ClusterLink
from csms.cluster.membership import Membership
from csms.log import get_logger
from csms.ocpp.sessions import SessionRegistry
from csms.services.chargers import ChargerService, Connected
from csms.store.cluster_repositories import ClusterStore, Holder

__all__ = ["Holders"]

log = get_logger(__name__)

_REPLACED = "replaced by a newer connection on another node"


class Holders:
    def __init__(
        self,
        link: ClusterLink,
        membership: Membership,
        store: ClusterStore,
        chargers: ChargerService,
        sessions: SessionRegistry,
        *,
        node_timeout: float,
        reconcile_s: float = 2.0,
    ) -> None:
        self._link = link
        self._membership = membership
        self._store = store
        self._chargers = chargers
        self._sessions = sessions
        self._node_timeout = node_timeout
        self._reconcile_s = reconcile_s
        self._joined = time.monotonic()
        self.node_id = link.node_id

    async def start(self) -> None:
        """Before the gateway: release what this node's previous run held (it died, or it would
        not be starting), and answer the others' "close your older connection"."""
        self._joined = time.monotonic()
        for holding in await self._store.held_by(self.node_id):
            await self._chargers.disconnected(
                holding.charge_point_id, "", None, holder=Holder(holding.node_id, holding.seq)
            )
        await self._link.subscribe(self._link.subject("nodes", self.node_id, "evict"), self._evict)

    async def claimed(self, cp_id: str, connected: Connected) -> None:
        """A connection here took ``cp_id`` over from ``connected.previous_node``."""
        previous = connected.previous_node
        if previous is None or previous == self.node_id:
            return  # the registry closed a local older connection already
        body = orjson.dumps({"chargePointId": cp_id, "seq": connected.holder_seq})
        try:
            await self._link.publish(self._link.subject("nodes", previous, "evict"), body)
        except Exception as exc:  # NATS away: the other node's reconciliation closes it
            log.info("could not tell the older node", node_id=previous, error=repr(exc))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._reconcile_s)
            try:
                await self.reconcile()
                if self._leads() and time.monotonic() - self._joined >= self._node_timeout:
                    await self.release_dead()
            except Exception as exc:  # the database away: next round
                log.warning("cluster reconciliation failed", error=repr(exc))

    async def reconcile(self) -> int:
        """Close the connections this node no longer holds; how many."""
        sessions = [s for s in self._sessions.all() if not s.closed]
        if not sessions:
            return 0
        holdings = await self._store.holdings([s.charge_point_id for s in sessions])
        lost = [
            s
            for s in sessions
            if (h := holdings.get(s.charge_point_id.lower())) is None or h.seq != s.holder_seq
        ]
        for session in lost:
            log.info("connection held elsewhere: closed", charge_point_id=session.charge_point_id)
        await asyncio.gather(*(s.close(1000, _REPLACED) for s in lost), return_exceptions=True)
        return len(lost)

    async def release_dead(self) -> int:
        """Mark offline the chargers held by nodes that are not alive, and those recorded as
        connected that nobody holds; how many."""
        live = [n["nodeId"] for n in self._membership.nodes()]
        released = 0
        for holding in await self._store.held_elsewhere_than(live):
            released += await self._chargers.disconnected(
                holding.charge_point_id, "", None, holder=Holder(holding.node_id, holding.seq)
            )
        for cp_id in await self._store.connected_unheld():
            released += await self._chargers.disconnected(
                cp_id, "", None, holder=Holder(self.node_id, None)
            )
        if released:
            log.warning("chargers of dead nodes marked offline", chargers=released)
        return released

    def _leads(self) -> bool:
        return bool(min(n["nodeId"] for n in self._membership.nodes()) == self.node_id)

    async def _evict(self, msg: Msg) -> None:
        try:
            body = orjson.loads(msg.data)
            cp_id, seq = str(body["chargePointId"]), int(body["seq"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("unreadable eviction ignored")
            return
        session = self._sessions.get(cp_id)
        if session is not None and (session.holder_seq or 0) < seq and not session.closed:
            log.info("connection replaced on another node", charge_point_id=cp_id)
            await session.close(1000, _REPLACED)
