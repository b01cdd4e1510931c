"""The site tree, pure: which sites nest where, and the socket counts rolled up over it.

API.md "Networks and sites": networks are the roots, sites nest under a network or a parent site,
chargers hang under their site (or under the ``unassigned`` node). A socket is one connector:
offline when its charger is not connected, else in error when it is ``Faulted``, else online.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from csms.domain.assets import Network, Site
from csms.domain.errors import Invalid

__all__ = [
    "MAX_SITE_DEPTH",
    "UNASSIGNED",
    "SocketCounts",
    "SocketState",
    "TreeNode",
    "build_site_tree",
    "check_sites",
    "effective_network",
    "is_socket",
    "sites_in_network",
    "socket_state",
    "subtree_site_ids",
]

UNASSIGNED = "unassigned"
"""The node that holds the chargers with no site, and the sites with no network."""

MAX_SITE_DEPTH = 32
"""Deeper nesting is refused: no real estate needs it, and the tree's reads stay bounded."""


class SocketState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


def socket_state(connected: bool, status: str) -> SocketState:
    if not connected:
        return SocketState.OFFLINE
    if status == "Faulted":
        return SocketState.ERROR
    return SocketState.ONLINE


def is_socket(evse_id: int, connector_id: int) -> bool:
    """Connector 0 (1.6) / EVSE 0 is the charging station itself, not a socket."""
    return evse_id > 0 and connector_id > 0


@dataclass(frozen=True, slots=True)
class SocketCounts:
    online: int = 0
    offline: int = 0
    error: int = 0

    def __add__(self, other: SocketCounts) -> SocketCounts:
        return SocketCounts(
            self.online + other.online, self.offline + other.offline, self.error + other.error
        )


NO_SOCKETS = SocketCounts()


@dataclass(slots=True)
class TreeNode:
    id: str
    name: str
    type: str  # "network", a site's type, or "unassigned"
    external_id: str | None = None
    subgroups: list[TreeNode] = field(default_factory=list)
    chargers: list[str] = field(default_factory=list)
    counts: SocketCounts = NO_SOCKETS


# --- the hierarchy -----------------------------------------------------------------------------


def effective_network(sites: Mapping[str, Site], site_id: str) -> str | None:
    """A site's network: its own, else its nearest ancestor's."""
    seen: set[str] = set()
    current: str | None = site_id
    while current is not None and current not in seen:
        seen.add(current)
        site = sites.get(current)
        if site is None:
            return None
        if site.network_id is not None:
            return site.network_id
        current = site.parent_site_id
    return None


def check_sites(sites: Mapping[str, Site], network_ids: Collection[str], changed: Site) -> None:
    """Raise Invalid when ``changed`` (already placed in ``sites``) breaks the hierarchy: an
    unknown parent or network, a cycle, nesting too deep, or a network its ancestors contradict
    (for it or for any site below it)."""
    if changed.network_id is not None and changed.network_id not in network_ids:
        raise Invalid("networkId", f"network {changed.network_id!r} does not exist")
    parent_id = changed.parent_site_id
    if parent_id is not None:
        if parent_id == changed.id:
            raise Invalid("parentSiteId", "a site cannot be its own parent")
        if parent_id not in sites:
            raise Invalid("parentSiteId", f"site {parent_id!r} does not exist")
        depth = 1
        current: str | None = parent_id
        while current is not None:
            if current == changed.id:
                raise Invalid(
                    "parentSiteId",
                    f"site {parent_id!r} is below {changed.id!r}: that would make a cycle",
                )
            depth += 1
            if depth > MAX_SITE_DEPTH:
                raise Invalid("parentSiteId", f"sites nest at most {MAX_SITE_DEPTH} levels deep")
            current = sites[current].parent_site_id if current in sites else None
    for site_id in subtree_site_ids(sites, changed.id):
        site = sites[site_id]
        if site.network_id is None or site.parent_site_id is None:
            continue
        above = effective_network(sites, site.parent_site_id)
        if above is not None and above != site.network_id:
            field_name = "networkId" if site_id == changed.id else "parentSiteId"
            raise Invalid(
                field_name,
                f"site {site_id!r} is in network {site.network_id!r} but its parent is in "
                f"network {above!r}",
            )


def _children(sites: Iterable[Site]) -> dict[str | None, list[Site]]:
    children: dict[str | None, list[Site]] = {}
    for site in sites:
        children.setdefault(site.parent_site_id, []).append(site)
    return children


def subtree_site_ids(sites: Mapping[str, Site], root_id: str) -> set[str]:
    """``root_id`` and every site below it."""
    children = _children(sites.values())
    found = {root_id}
    pending = [root_id]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child.id not in found:
                found.add(child.id)
                pending.append(child.id)
    return found


def sites_in_network(sites: Mapping[str, Site], network_id: str) -> set[str]:
    return {site_id for site_id in sites if effective_network(sites, site_id) == network_id}


# --- the tree ----------------------------------------------------------------------------------


def build_site_tree(
    networks: Iterable[Network],
    sites: Iterable[Site],
    chargers: Mapping[str | None, Sequence[str]],
    counts: Callable[[Iterable[str]], SocketCounts],
    *,
    network_id: str | None = None,
) -> list[TreeNode]:
    """Networks (sorted by name) as roots, each site under its parent or its network, chargers
    (their ids by siteId) under their site, and the sockets rolled up (``counts(ids)``: those
    of these chargers together). Sites with no network and chargers with no site (or an unknown
    one) go under the ``unassigned`` node, which is left out when the tree is asked for one
    network."""
    site_list = list(sites)
    by_id = {site.id: site for site in site_list}
    children = _children(site_list)
    by_site: dict[str | None, list[str]] = {}
    for site_id, ids in chargers.items():
        by_site.setdefault(site_id if site_id in by_id else None, []).extend(ids)

    def site_node(site: Site, depth: int) -> TreeNode:
        node = TreeNode(site.id, site.name, site.type, site.external_id)
        if depth < MAX_SITE_DEPTH:  # a cycle written behind our back cannot loop forever
            node.subgroups = [site_node(child, depth + 1) for child in _sorted(children, site.id)]
        node.chargers = sorted(by_site.get(site.id, ()))
        node.counts = _rolled_up(node, counts)
        return node

    roots_by_network: dict[str | None, list[Site]] = {}
    for site in children.get(None, ()):
        roots_by_network.setdefault(site.network_id, []).append(site)
    known_networks = sorted(networks, key=lambda n: (n.name.lower(), n.id))
    known_ids = {n.id for n in known_networks}
    tree: list[TreeNode] = []
    for network in known_networks:
        if network_id is not None and network.id != network_id:
            continue
        node = TreeNode(network.id, network.name, "network")
        node.subgroups = [
            site_node(site, 1) for site in _by_name(roots_by_network.get(network.id, ()))
        ]
        node.counts = _rolled_up(node, counts)
        tree.append(node)
    if network_id is None:
        orphans = [
            site
            for key, group in roots_by_network.items()
            if key is None or key not in known_ids
            for site in group
        ]
        node = TreeNode(UNASSIGNED, "Unassigned", UNASSIGNED)
        node.subgroups = [site_node(site, 1) for site in _by_name(orphans)]
        node.chargers = sorted(by_site.get(None, ()))
        node.counts = _rolled_up(node, counts)
        tree.append(node)
    return tree


def _by_name(sites: Iterable[Site]) -> list[Site]:
    return sorted(sites, key=lambda s: (s.name.lower(), s.id))


def _sorted(children: Mapping[str | None, list[Site]], parent_id: str) -> list[Site]:
    return _by_name(children.get(parent_id, ()))


def _rolled_up(node: TreeNode, counts: Callable[[Iterable[str]], SocketCounts]) -> SocketCounts:
    total = counts(node.chargers)
    for child in node.subgroups:
        total += child.counts
    return total
