"""Which node holds each charger's live connection: the record a cluster keeps in its shared
PostgreSQL database (ADR 013). SQLite is single-node and has none."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["ClusterStore", "Holder", "Holding", "Recorded"]


@dataclass(frozen=True, slots=True)
class Holder:
    """Given to ``ChargerStore.record_connection`` in a cluster.

    Connecting: ``node_id`` claims the charger (newest wins: the store draws a new ``seq``).
    Disconnecting: the change is recorded only if the charger is still held with ``seq``; with
    ``seq`` None, only if nobody holds it. So the late close of a connection another node took
    over, or a sweep racing a reconnection, never marks a held charger offline."""

    node_id: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What ``record_connection`` did: ``changed`` False when a disconnection was not recorded
    because the charger is held (by a newer connection); a claim's ``seq`` and the node that
    held the charger before it (None: nobody)."""

    changed: bool = True
    seq: int | None = None
    previous_node: str | None = None


@dataclass(frozen=True, slots=True)
class Holding:
    charge_point_id: str
    node_id: str
    seq: int
    ocpp_version: str | None
    boot_accepted: bool = False  # its last boot was accepted (what a command needs to know)


class ClusterStore(Protocol):
    async def holdings(self, cp_ids: Collection[str]) -> dict[str, Holding]:
        """The holding of each of these chargers that has one, by lower-cased id."""
        ...

    async def held_by(self, node_id: str) -> Sequence[Holding]:
        """The chargers ``node_id`` holds (at start: what its previous run left)."""
        ...

    async def held_elsewhere_than(self, live_nodes: Collection[str]) -> Sequence[Holding]:
        """Holdings of nodes not among ``live_nodes``: the dead nodes' chargers."""
        ...

    async def hold_lease(self, name: str, node_id: str, seconds: float) -> bool:
        """Take or renew the lease ``name`` for ``seconds``: True when ``node_id`` holds it now
        (it was free, expired, or already its own), False while another node holds it."""
        ...

    async def lease_holder(self, name: str) -> str | None:
        """The node holding the lease ``name`` now (None: nobody, or it expired)."""
        ...

    async def connected_unheld(self) -> Sequence[str]:
        """Chargers recorded as connected that no node holds (left so by a single process or a
        node that died before the cluster knew it)."""
        ...
