"""Networks, sites and the live site tree."""

from __future__ import annotations

import asyncio

from csms.domain.assets import Address, ContactDetails, Network, Site, new_id
from csms.domain.clock import Clock
from csms.domain.errors import NotFound
from csms.domain.paging import Page, Paged
from csms.domain.site_tree import (
    TreeNode,
    build_site_tree,
    sites_in_network,
    subtree_site_ids,
)
from csms.domain.updates import NetworkChanges, SiteChanges
from csms.services.socket_index import SocketIndex
from csms.store.repositories import ChargerStore, SiteStore

__all__ = ["SiteService"]


class SiteService:
    def __init__(
        self, sites: SiteStore, chargers: ChargerStore, sockets: SocketIndex, clock: Clock
    ) -> None:
        self._sites = sites
        self._chargers = chargers
        self._sockets = sockets
        self._clock = clock

    # --- networks ------------------------------------------------------------------------------

    async def add_network(
        self,
        *,
        name: str,
        network_id: str | None = None,
        type: str | None = None,
        physical_address: Address | None = None,
        contact_details: ContactDetails | None = None,
    ) -> Network:
        now = self._clock()
        network = Network(
            id=network_id or new_id("net"),
            name=name,
            type=type,
            physical_address=physical_address,
            contact_details=contact_details,
            created_at=now,
            updated_at=now,
        )
        return await self._sites.add_network(network)

    async def get_network(self, network_id: str) -> Network | None:
        return await self._sites.get_network(network_id)

    async def list_networks(self, page: Page[str]) -> Paged[Network]:
        return await self._sites.list_networks(page)

    async def update_network(self, network_id: str, changes: NetworkChanges) -> Network:
        return await self._sites.update_network(network_id, changes, self._clock())

    async def delete_network(self, network_id: str) -> None:
        await self._sites.delete_network(network_id)

    # --- sites ---------------------------------------------------------------------------------

    async def add_site(
        self,
        *,
        name: str,
        site_id: str | None = None,
        type: str = "site",
        network_id: str | None = None,
        parent_site_id: str | None = None,
        external_id: str | None = None,
    ) -> Site:
        now = self._clock()
        site = Site(
            id=site_id or new_id("site"),
            name=name,
            type=type,
            network_id=network_id,
            parent_site_id=parent_site_id,
            external_id=external_id,
            created_at=now,
            updated_at=now,
        )
        return await self._sites.add_site(site)

    async def get_site(self, site_id: str) -> Site | None:
        return await self._sites.get_site(site_id)

    async def list_sites(
        self, page: Page[str], *, network_id: str | None = None, parent_site_id: str | None = None
    ) -> Paged[Site]:
        return await self._sites.list_sites(
            page, network_id=network_id, parent_site_id=parent_site_id
        )

    async def update_site(self, site_id: str, changes: SiteChanges) -> Site:
        return await self._sites.update_site(site_id, changes, self._clock())

    async def delete_site(self, site_id: str) -> None:
        await self._sites.delete_site(site_id)

    async def scope(
        self, *, site_id: str | None = None, network_id: str | None = None
    ) -> set[str] | None:
        """The sites a ``?siteId=`` (its whole subtree) and/or ``?networkId=`` filter covers;
        None when neither is given."""
        if site_id is None and network_id is None:
            return None
        by_id = {site.id: site for site in await self._sites.all_sites()}
        covered: set[str] | None = None
        if site_id is not None:
            covered = subtree_site_ids(by_id, site_id) if site_id in by_id else set()
        if network_id is not None:
            in_network = sites_in_network(by_id, network_id)
            covered = in_network if covered is None else covered & in_network
        return covered

    # --- the tree ------------------------------------------------------------------------------

    async def tree(self, network_id: str | None = None) -> list[TreeNode]:
        if network_id is not None and await self._sites.get_network(network_id) is None:
            raise NotFound(f"network {network_id!r} not found")
        networks, sites, chargers = await asyncio.gather(
            self._sites.all_networks(), self._sites.all_sites(), self._chargers.chargers_by_site()
        )
        return build_site_tree(
            networks, sites, chargers, self._sockets.counts, network_id=network_id
        )
