"""The node's one connection to NATS (ADR 013): connected at start or not at all, reconnecting
for ever once up, and telling whether it is up right now so that a cross-node request fails fast
(503 ``cluster_unavailable``) instead of waiting out a timeout while NATS is away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from csms.config import mask_password
from csms.log import get_logger

__all__ = ["ClusterLink", "ClusterUnreachable", "NoResponders", "RequestTimedOut"]

log = get_logger(__name__)


class ClusterUnreachable(RuntimeError):
    """NATS cannot be reached (at start: the node does not start; later: fail fast)."""


class NoResponders(Exception):
    """Nobody listens on the subject: the node it names is gone."""


class RequestTimedOut(Exception):
    """A request got no answer in time."""


Handler = Callable[[Msg], Awaitable[None]]


class ClusterLink:
    def __init__(self, url: str, node_id: str, prefix: str) -> None:
        self._url = url
        self.node_id = node_id
        self.prefix = prefix
        self._client: Client | None = None
        self._last_error: str | None = None
        self._up = False
        # Called (without waiting) each time the link comes back after an outage.
        self.on_reconnected: Callable[[], None] | None = None

    def subject(self, *parts: str) -> str:
        return ".".join((self.prefix, *parts))

    @property
    def up(self) -> bool:
        return self._up and self._client is not None and self._client.is_connected

    async def connect(self, timeout: float = 3.0) -> None:
        """Connect, or raise ClusterUnreachable naming the server and the reason. The client
        itself would retry its first connection for minutes: a node that cannot reach NATS at
        start should say so at once and stop."""
        try:
            self._client = await asyncio.wait_for(
                nats.connect(
                    self._url,
                    name=f"csms {self.node_id}",
                    connect_timeout=min(timeout, 2.0),
                    # Once up: reconnect for ever, quickly; the node serves its own chargers
                    # meanwhile.
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    error_cb=self._error,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                ),
                timeout,
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            reason = self._last_error or type(exc).__name__
            raise ClusterUnreachable(
                f"cannot reach NATS at {mask_password(self._url)}: {reason}"
            ) from exc
        self._up = True

    async def close(self) -> None:
        client, self._client = self._client, None
        self._up = False
        if client is not None and not client.is_closed:
            try:
                await asyncio.wait_for(client.drain(), 2.0)
            except Exception:  # closing anyway
                await client.close()

    def _connected(self) -> Client:
        if self._client is None or not self.up:
            raise ClusterUnreachable("NATS is unreachable")
        return self._client

    async def publish(self, subject: str, payload: bytes) -> None:
        await self._connected().publish(subject, payload)

    async def subscribe(self, subject: str, handler: Handler, queue: str = "") -> Subscription:
        assert self._client is not None, "connect first"
        return await self._client.subscribe(subject, queue=queue, cb=handler)

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        try:
            reply = await self._connected().request(subject, payload, timeout=timeout)
        except NoRespondersError as exc:
            raise NoResponders(subject) from exc
        except NatsTimeout as exc:
            raise RequestTimedOut(subject) from exc
        return bytes(reply.data)

    async def _error(self, exc: Exception) -> None:
        self._last_error = str(exc) or type(exc).__name__

    async def _disconnected(self) -> None:
        if self._up:
            log.warning("cluster link lost: NATS unreachable", error=self._last_error)
        self._up = False

    async def _reconnected(self) -> None:
        self._up = True
        log.info("cluster link back")
        if self.on_reconnected is not None:
            self.on_reconnected()
