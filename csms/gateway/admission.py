"""Admission at accept: at most N open connections per source address, counted from the moment
the TCP connection is accepted (handshakes in progress included) until it is closed.

A source over its cap has its new connection closed at once, before any HTTP is read: a flood
of idle or slow handshakes from one address cannot take sockets, memory and handshake timers from
everyone else. The cap is per address, not per charger, so it must stay generous: a site behind
one NAT address may hold hundreds of chargers.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from websockets.asyncio.server import ServerConnection

from csms.log import get_logger

__all__ = ["AddressCounter", "admission_controlled", "client_address"]

log = get_logger(__name__)


class AddressCounter:
    """Open connections per address; ``limit`` 0 means no cap."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: dict[str, int] = {}
        self._refusing: set[str] = set()  # addresses refused since they were last under the cap

    def __len__(self) -> int:
        return len(self._open)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)

    def admit(self, address: str) -> bool:
        """Count one more connection from ``address``, unless it is at its cap (then False)."""
        current = self._open.get(address, 0)
        if self._limit and current >= self._limit:
            return False
        self._open[address] = current + 1
        return True

    def first_refusal(self, address: str) -> bool:
        """Whether refusing ``address`` now is the first time since it was last under its cap:
        a flood is logged once, not once per connection."""
        if address in self._refusing:
            return False
        self._refusing.add(address)
        return True

    def release(self, address: str) -> None:
        current = self._open.get(address, 0) - 1
        if current > 0:
            self._open[address] = current
        else:
            self._open.pop(address, None)  # nothing kept for addresses with no connection
        self._refusing.discard(address)


def _address(peer: Any) -> str:
    """The host of a socket's peer name ((host, port) for IPv4, (host, port, flow, scope) for
    IPv6)."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)


def client_address(connection: ServerConnection) -> str:
    """The IP address a websocket connection comes from."""
    return _address(connection.remote_address)


def admission_controlled(counter: AddressCounter) -> type[ServerConnection]:
    """A websockets ServerConnection class (``serve(create_connection=...)``) that counts its
    connections in ``counter`` and closes one over the cap as soon as it is accepted."""

    class _AdmittedConnection(ServerConnection):
        _admitted_from: str | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            address = _address(transport.get_extra_info("peername"))
            if counter.admit(address):
                self._admitted_from = address
                return
            if counter.first_refusal(address):
                log.warning(
                    "connections refused: too many open from one address",
                    remote=address,
                    open=counter.count(address),
                )
            # The handshake task started by super() sees the connection lost and ends. (A cast,
            # not an isinstance check: uvloop's transports are not asyncio.Transport subclasses.)
            cast(asyncio.Transport, transport).abort()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._admitted_from is not None:
                counter.release(self._admitted_from)
                self._admitted_from = None
            super().connection_lost(exc)

    return _AdmittedConnection
