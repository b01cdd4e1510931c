"""Which nodes make up the cluster right now (ADR 013).

Each node publishes a heartbeat every ``heartbeat_interval_s`` on ``<prefix>.nodes.heartbeat``
and listens to the others'. A node not heard from for ``node_timeout_s`` is dead: the callbacks
given to ``on_dead`` take over what it held. A node leaving in good order says so, and the others
drop it at once.

A node id is unique among live nodes: before joining, a node asks ``<prefix>.nodes.<id>.hello``;
an answer means a live node already has that id, and this one refuses to start. (Two nodes
started with one id at the same instant could both pass; the ownership table (ADR 013) still
keeps one owner per charger.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from nats.aio.msg import Msg

from csms.cluster.link import ClusterLink, NoResponders, RequestTimedOut
from csms.domain.clock import Clock, format_timestamp
from csms.log import get_logger

__all__ = ["DuplicateNode", "Membership", "NodeView"]

log = get_logger(__name__)


class DuplicateNode(RuntimeError):
    """A live node already uses this node id."""


@dataclass(slots=True)
class NodeView:
    """A node as this one sees it."""

    node_id: str
    started_at: str
    chargers: int = 0
    last_heard: float = field(default=0.0)  # time.monotonic() of its last heartbeat


class Membership:
    def __init__(
        self,
        link: ClusterLink,
        clock: Clock,
        *,
        heartbeat_interval: float,
        node_timeout: float,
        chargers: Callable[[], int],
    ) -> None:
        self._link = link
        self._clock = clock
        self._interval = heartbeat_interval
        self._timeout = node_timeout
        self._chargers = chargers
        self.node_id = link.node_id
        self._started_at = format_timestamp(clock())
        self._peers: dict[str, NodeView] = {}
        self._on_dead: list[Callable[[str], None]] = []
        self._on_joined: list[Callable[[str], None]] = []

    # ------------------------------------------------------------ what the others see of it

    def on_dead(self, callback: Callable[[str], None]) -> None:
        """Called with a node's id once it is dead (silent for node_timeout_s, or left)."""
        self._on_dead.append(callback)

    def on_joined(self, callback: Callable[[str], None]) -> None:
        self._on_joined.append(callback)

    def alive(self, node_id: str) -> bool:
        return node_id == self.node_id or node_id in self._peers

    def nodes(self) -> list[dict[str, Any]]:
        """Every live node, this one first, for GET /health."""
        now = time.monotonic()
        out = [self._describe(self._me(), now, own=True)]
        out += [self._describe(p, now, own=False) for p in sorted(self._peers.values(), key=_id)]
        return out

    def _me(self) -> NodeView:
        return NodeView(self.node_id, self._started_at, self._chargers(), time.monotonic())

    @staticmethod
    def _describe(node: NodeView, now: float, *, own: bool) -> dict[str, Any]:
        return {
            "nodeId": node.node_id,
            "self": own,
            "startedAt": node.started_at,
            "chargersConnected": node.chargers,
            "lastHeartbeatAgoS": 0.0 if own else round(max(now - node.last_heard, 0.0), 3),
        }

    # ------------------------------------------------------------ joining and leaving

    async def join(self) -> None:
        """Refuse a node id a live node has; then answer for it, listen and start beating."""
        try:
            reply = await self._link.request(self._subject(self.node_id, "hello"), b"", 1.0)
        except (NoResponders, RequestTimedOut):
            reply = None
        if reply is not None:
            other = orjson.loads(reply)
            raise DuplicateNode(
                f"node id {self.node_id!r} is already used by a live node (started "
                f"{other.get('startedAt')}): give each node its own [cluster] node_id"
            )
        await self._link.subscribe(self._subject(self.node_id, "hello"), self._hello)
        await self._link.subscribe(self._subject("heartbeat"), self._heard)
        await self._link.subscribe(self._subject("left"), self._left)
        await self._beat()

    async def leave(self) -> None:
        try:
            await self._link.publish(self._subject("left"), self.node_id.encode())
        except Exception as exc:  # NATS away: the others time us out instead
            log.info("could not say goodbye to the cluster", error=repr(exc))

    async def run(self) -> None:
        """Beat, and declare dead whoever fell silent."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._beat()
            except Exception as exc:  # NATS away: beat again when it is back
                log.debug("heartbeat not sent", error=repr(exc))
            self._expire(time.monotonic())

    async def _beat(self) -> None:
        me = self._me()
        body = {"nodeId": me.node_id, "startedAt": me.started_at, "chargers": me.chargers}
        await self._link.publish(self._subject("heartbeat"), orjson.dumps(body))

    def _expire(self, now: float) -> None:
        # While NATS itself is away nobody is heard; that says nothing about the others, who
        # keep serving their chargers. Silence counts only while the link is up.
        if not self._link.up:
            for peer in self._peers.values():
                peer.last_heard = now
            return
        for node_id, peer in list(self._peers.items()):
            if now - peer.last_heard > self._timeout:
                self._dead(node_id, "no heartbeat")

    def _dead(self, node_id: str, why: str) -> None:
        if self._peers.pop(node_id, None) is None:
            return
        log.warning("cluster node dead", node_id=node_id, reason=why)
        for callback in self._on_dead:
            try:
                callback(node_id)
            except Exception:
                log.exception("taking over a dead node failed", node_id=node_id)

    # ------------------------------------------------------------ what it hears

    async def _hello(self, msg: Msg) -> None:
        me = self._me()
        await msg.respond(orjson.dumps({"nodeId": me.node_id, "startedAt": me.started_at}))

    async def _heard(self, msg: Msg) -> None:
        try:
            beat = orjson.loads(msg.data)
            node_id = str(beat["nodeId"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("unreadable heartbeat ignored", subject=msg.subject)
            return
        if node_id == self.node_id:
            return
        peer = self._peers.get(node_id)
        if peer is None:
            peer = self._peers[node_id] = NodeView(node_id, str(beat.get("startedAt", "")))
            log.info("cluster node joined", node_id=node_id)
            for callback in self._on_joined:
                callback(node_id)
        peer.chargers = int(beat.get("chargers", 0))
        peer.last_heard = time.monotonic()

    async def _left(self, msg: Msg) -> None:
        node_id = msg.data.decode(errors="replace")
        if node_id != self.node_id:
            self._dead(node_id, "left")

    def _subject(self, *parts: str) -> str:
        return self._link.subject("nodes", *parts)


def _id(node: NodeView) -> str:
    return node.node_id
