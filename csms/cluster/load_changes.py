"""What the load manager must hear from every node (ADR 013): a circuit, its members, a
priority or an EVSE changed through any node's API, and the circuit meters' readings posted to
any node. The allocating node (the lease holder) may be another one; a reading it never heard
would let it hand out current the building already draws.

Each change is handed to this node's load manager and published on
``<prefix>.loadmanagement.changes``; the other nodes hand it to theirs (only the leader acts on
it; the others re-read when they take over).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from nats.aio.msg import Msg

from csms.cluster.leases import LOAD_MANAGEMENT
from csms.cluster.link import ClusterLink
from csms.domain.circuits import CircuitEvent, CircuitEventKind
from csms.domain.clock import format_timestamp, parse_timestamp
from csms.log import get_logger
from csms.services.circuits import CircuitService
from csms.services.evses import EvseService
from csms.services.loadmanagement import LoadManager
from csms.store.cluster_repositories import ClusterStore

__all__ = ["LoadChanges"]

log = get_logger(__name__)

_PENDING: set[asyncio.Task[None]] = set()


class LoadChanges:
    def __init__(self, link: ClusterLink, manager: LoadManager, store: ClusterStore) -> None:
        self._link = link
        self._manager = manager
        self._store = store
        self._subject = link.subject("loadmanagement", "changes")

    async def start(self, circuits: CircuitService, evses: EvseService) -> None:
        await self._link.subscribe(self._subject, self._heard)
        circuits.on_change = self.circuit_changed
        evses.on_change = self.evse_changed
        # A circuit's allocation, as only the allocating node knows it (its profiles sent).
        await self._link.subscribe(
            self._link.subject("nodes", self._link.node_id, "allocation"), self._allocation
        )
        self._manager.ask_leader = self._ask_leader

    async def _ask_leader(self, circuit_id: str) -> dict[str, Any] | None:
        leader = await self._store.lease_holder(LOAD_MANAGEMENT)
        if leader is None or leader == self._link.node_id:
            return self._manager.allocation(circuit_id)
        subject = self._link.subject("nodes", leader, "allocation")
        reply = await self._link.request(subject, circuit_id.encode(), 2.0)
        view: dict[str, Any] | None = orjson.loads(reply)
        return view

    async def _allocation(self, msg: Msg) -> None:
        view = self._manager.allocation(msg.data.decode(errors="replace"))
        await msg.respond(orjson.dumps(view, default=str))

    def circuit_changed(self, event: CircuitEvent) -> None:
        self._manager.on_circuit_event(event)
        self._send(
            {
                "circuit": {
                    "kind": event.kind.value,
                    "circuitId": event.circuit_id,
                    "at": format_timestamp(event.at),
                    "reading": event.reading,
                    "chargePointId": event.charge_point_id,
                    "transactionPk": event.transaction_pk,
                }
            }
        )

    def evse_changed(self, cp_id: str) -> None:
        self._manager.on_evse_change(cp_id)
        self._send({"evse": cp_id})

    def _send(self, body: dict[str, object]) -> None:
        data = orjson.dumps({"node": self._link.node_id, **body})
        task = asyncio.get_running_loop().create_task(self._publish(data))
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)

    async def _publish(self, data: bytes) -> None:
        try:
            await self._link.publish(self._subject, data)
        except Exception as exc:  # NATS away: a node taking the lease over re-reads the store
            log.warning("load-management change not told to the other nodes", error=repr(exc))

    async def _heard(self, msg: Msg) -> None:
        try:
            body = orjson.loads(msg.data)
            if body["node"] == self._link.node_id:
                return
            if "evse" in body:
                self._manager.on_evse_change(str(body["evse"]))
                return
            c = body["circuit"]
            reading = c.get("reading")
            event = CircuitEvent(
                CircuitEventKind(c["kind"]),
                str(c["circuitId"]),
                parse_timestamp(c["at"]),
                None
                if reading is None
                else (float(reading[0]), float(reading[1]), float(reading[2])),
                c.get("chargePointId"),
                c.get("transactionPk"),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
            log.warning("unreadable load-management change ignored")
            return
        self._manager.on_circuit_event(event)
