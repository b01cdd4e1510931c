"""Live socket counts per charger, for the site tree (API.md "Networks and sites").

Kept in memory and fed by the event bus (connector.status, charger.connected/disconnected), so a
tree read looks up each charger's counts instead of scanning every connector of the fleet, and a
status change shows in the next read. Loaded from the store once at start-up. The bus is the one
source on purpose: a cluster node that relays other nodes' events into it keeps the same counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from csms.domain.site_tree import SocketCounts, SocketState, is_socket, socket_state
from csms.services.events import EventBus
from csms.store.repositories import SocketReport

__all__ = ["SocketIndex"]


@dataclass(slots=True)
class _ChargerSockets:
    connected: bool = False
    # Each socket's latest status time (fixed-width text, so it orders as text).
    sockets: dict[tuple[int, int], str] = field(default_factory=dict)
    faulted: set[tuple[int, int]] = field(default_factory=set)

    def counts(self) -> SocketCounts:
        if not self.connected:
            return SocketCounts(offline=len(self.sockets))
        return SocketCounts(online=len(self.sockets) - len(self.faulted), error=len(self.faulted))


class SocketIndex:
    def __init__(self) -> None:
        self._chargers: dict[str, _ChargerSockets] = {}
        # What a tree read asks for, ready-made: it looks up every charger of the fleet.
        self._counts: dict[str, SocketCounts] = {}

    def attach(self, events: EventBus) -> None:
        events.listen("connector.status", self._on_status_event, remote=True)
        events.listen(
            "charger.connected", lambda cp_id, _: self.set_connected(cp_id, True), remote=True
        )
        events.listen(
            "charger.disconnected", lambda cp_id, _: self.set_connected(cp_id, False), remote=True
        )
        events.listen("charger.deleted", lambda cp_id, _: self.forget(cp_id), remote=True)

    def load(self, states: Iterable[SocketReport]) -> None:
        self._chargers.clear()
        self._counts.clear()
        for cp_id, connected, evse_id, connector_id, status in states:
            self._entry(cp_id).connected = connected
            self.set_status(cp_id, evse_id, connector_id, status, "")

    def counts(self, cp_ids: Iterable[str]) -> SocketCounts:
        """The sockets of these chargers together (a tree node's own chargers)."""
        get = self._counts.get
        online = offline = error = 0
        for cp_id in cp_ids:
            found = get(cp_id.lower())
            if found is not None:
                online += found.online
                offline += found.offline
                error += found.error
        return SocketCounts(online, offline, error)

    def is_connected(self, cp_id: str) -> bool:
        """As the store and the events last said (in a cluster: on whichever node)."""
        entry = self._chargers.get(cp_id.lower())
        return entry is not None and entry.connected

    def set_connected(self, cp_id: str | None, connected: bool) -> None:
        if cp_id is not None:
            entry = self._entry(cp_id)
            entry.connected = connected
            self._counts[cp_id.lower()] = entry.counts()

    def set_status(
        self, cp_id: str, evse_id: int, connector_id: int, status: str, updated_at: str
    ) -> None:
        """``updated_at``: the status's time as the store formats it; an older status than the
        one known is ignored, as the store ignores it."""
        if not is_socket(evse_id, connector_id):
            return
        entry = self._entry(cp_id)
        key = (evse_id, connector_id)
        known = entry.sockets.get(key)
        if known is not None and updated_at < known:
            return
        entry.sockets[key] = updated_at
        # Only the error/online split depends on the status; offline comes from the connection.
        if socket_state(True, status) is SocketState.ERROR:
            entry.faulted.add(key)
        else:
            entry.faulted.discard(key)
        self._counts[cp_id.lower()] = entry.counts()

    def forget(self, cp_id: str | None) -> None:
        if cp_id is not None:
            self._chargers.pop(cp_id.lower(), None)
            self._counts.pop(cp_id.lower(), None)

    def _entry(self, cp_id: str) -> _ChargerSockets:
        key = cp_id.lower()
        entry = self._chargers.get(key)
        if entry is None:
            entry = self._chargers[key] = _ChargerSockets()
        return entry

    def _on_status_event(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        evse_id, connector_id = data.get("evseId"), data.get("connectorId")
        status, updated_at = data.get("status"), data.get("updatedAt")
        if cp_id is None or not isinstance(evse_id, int) or not isinstance(connector_id, int):
            return
        self.set_status(cp_id, evse_id, connector_id, str(status), str(updated_at or ""))
