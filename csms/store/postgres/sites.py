"""Networks and sites: the site tree's nodes.

Every write that places a site (or removes what a site hangs on) first takes ``_LOCK_SITES``:
the hierarchy is checked over all the sites, so two concurrent re-parentings must not each pass
the check against the other's old state and make a cycle together. The lock conflicts with
itself and with every other write to ``sites``, not with reads nor with a charger's foreign-key
check, so chargers are never held up by it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.assets import Network, Site
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.domain.site_tree import check_sites
from csms.domain.updates import NetworkChanges, SiteChanges, changed_fields
from csms.store.asset_rows import (
    NETWORK_COLUMNS,
    SITE_COLUMNS,
    network_from_row,
    network_values,
    site_from_row,
    site_values,
)
from csms.store.postgres.database import CONVERSIONS, PostgresDatabase, rows_affected

__all__ = ["PostgresSites"]

_C = CONVERSIONS
_LOCK_SITES = "LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE"


def _placeholders(columns: str) -> str:
    return ", ".join(f"${i}" for i in range(1, len(columns.split(",")) + 1))


_SITE_PLACEHOLDERS = _placeholders(SITE_COLUMNS)
_NETWORK_PLACEHOLDERS = _placeholders(NETWORK_COLUMNS)


async def _network(
    conn: asyncpg.Connection, network_id: str, *, lock: bool = False
) -> Network | None:
    # FOR NO KEY UPDATE: a concurrent update waits (no lost update), a site's foreign key does not.
    locking = " FOR NO KEY UPDATE" if lock else ""
    row = await conn.fetchrow(
        f"SELECT {NETWORK_COLUMNS} FROM networks WHERE id = $1{locking}", network_id
    )
    return None if row is None else network_from_row(row, _C)


async def _sites(conn: asyncpg.Connection) -> dict[str, Site]:
    rows = await conn.fetch(f"SELECT {SITE_COLUMNS} FROM sites ORDER BY id")
    return {row[0]: site_from_row(row, _C) for row in rows}


async def _network_ids(conn: asyncpg.Connection) -> set[str]:
    return {row[0] for row in await conn.fetch("SELECT id FROM networks")}


class PostgresSites:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    # --- networks ------------------------------------------------------------------------------

    async def add_network(self, network: Network) -> Network:
        row = network_values(network, _C)

        async def op(conn: asyncpg.Connection) -> Network:
            try:
                await conn.execute(
                    f"INSERT INTO networks ({NETWORK_COLUMNS}) VALUES ({_NETWORK_PLACEHOLDERS})",
                    *row,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"network {network.id!r} already exists", field="id") from exc
            return network

        return await self._db.write(op)

    async def get_network(self, network_id: str) -> Network | None:
        return await self._db.read(lambda conn: _network(conn, network_id))

    async def list_networks(self, page: Page[str]) -> Paged[Network]:
        async def read(conn: asyncpg.Connection) -> Paged[Network]:
            rows = await conn.fetch(
                f"SELECT {NETWORK_COLUMNS} FROM networks WHERE ($1::text IS NULL OR id > $1)"
                " ORDER BY id LIMIT $2",
                page.starting_after,
                page.fetch,
            )
            return paged([network_from_row(row, _C) for row in rows], page)

        return await self._db.read(read)

    async def all_networks(self) -> list[Network]:
        async def read(conn: asyncpg.Connection) -> list[Network]:
            rows = await conn.fetch(f"SELECT {NETWORK_COLUMNS} FROM networks ORDER BY id")
            return [network_from_row(row, _C) for row in rows]

        return await self._db.read(read)

    async def update_network(
        self, network_id: str, changes: NetworkChanges, at: datetime
    ) -> Network:
        async def op(conn: asyncpg.Connection) -> Network:
            current = await _network(conn, network_id, lock=True)
            if current is None:
                raise NotFound(f"network {network_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            row = network_values(updated, _C)
            await conn.execute(
                "UPDATE networks SET name = $1, type = $2, physical_address = $3,"
                " contact_details = $4, updated_at = $5 WHERE id = $6",
                *row[1:5],
                row[6],
                network_id,
            )
            return updated

        return await self._db.write(op)

    async def delete_network(self, network_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # No site may be placed in it between the count and the delete.
            await conn.execute(_LOCK_SITES)
            used = await conn.fetchval(
                "SELECT count(*) FROM sites WHERE network_id = $1", network_id
            )
            if used:
                raise Conflict(f"network {network_id!r} still has {used} site(s)")
            deleted = await conn.execute("DELETE FROM networks WHERE id = $1", network_id)
            if rows_affected(deleted) == 0:
                raise NotFound(f"network {network_id!r} not found")

        await self._db.write(op)

    # --- sites ---------------------------------------------------------------------------------

    async def add_site(self, site: Site) -> Site:
        row = site_values(site, _C)

        async def op(conn: asyncpg.Connection) -> Site:
            await conn.execute(_LOCK_SITES)
            sites = await _sites(conn)
            if site.id in sites:
                raise Conflict(f"site {site.id!r} already exists", field="id")
            sites[site.id] = site
            check_sites(sites, await _network_ids(conn), site)
            await conn.execute(
                f"INSERT INTO sites ({SITE_COLUMNS}) VALUES ({_SITE_PLACEHOLDERS})", *row
            )
            return site

        return await self._db.write(op)

    async def get_site(self, site_id: str) -> Site | None:
        async def read(conn: asyncpg.Connection) -> Site | None:
            found = await conn.fetchrow(f"SELECT {SITE_COLUMNS} FROM sites WHERE id = $1", site_id)
            return None if found is None else site_from_row(found, _C)

        return await self._db.read(read)

    async def list_sites(
        self,
        page: Page[str],
        *,
        network_id: str | None = None,
        parent_site_id: str | None = None,
    ) -> Paged[Site]:
        params: list[Any] = [page.starting_after]
        clauses = ["($1::text IS NULL OR id > $1)"]

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if network_id is not None:
            clauses.append(f"network_id = {param(network_id)}")
        if parent_site_id is not None:
            clauses.append(f"parent_site_id = {param(parent_site_id)}")
        sql = (
            f"SELECT {SITE_COLUMNS} FROM sites WHERE {' AND '.join(clauses)}"
            f" ORDER BY id LIMIT {param(page.fetch)}"
        )

        async def read(conn: asyncpg.Connection) -> Paged[Site]:
            return paged([site_from_row(row, _C) for row in await conn.fetch(sql, *params)], page)

        return await self._db.read(read)

    async def all_sites(self) -> list[Site]:
        return list((await self._db.read(_sites)).values())

    async def update_site(self, site_id: str, changes: SiteChanges, at: datetime) -> Site:
        async def op(conn: asyncpg.Connection) -> Site:
            await conn.execute(_LOCK_SITES)
            sites = await _sites(conn)
            current = sites.get(site_id)
            if current is None:
                raise NotFound(f"site {site_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            sites[site_id] = updated
            check_sites(sites, await _network_ids(conn), updated)
            row = site_values(updated, _C)
            await conn.execute(
                "UPDATE sites SET name = $1, type = $2, network_id = $3, parent_site_id = $4,"
                " external_id = $5, updated_at = $6 WHERE id = $7",
                *row[1:6],
                row[7],
                site_id,
            )
            return updated

        return await self._db.write(op)

    async def delete_site(self, site_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # No site may be placed under it between the count and the delete; and a charger
            # being placed on it (whose foreign-key check holds the row) is waited for, so that
            # the count sees it.
            await conn.execute(_LOCK_SITES)
            await conn.execute("SELECT 1 FROM sites WHERE id = $1 FOR UPDATE", site_id)
            children = await conn.fetchval(
                "SELECT count(*) FROM sites WHERE parent_site_id = $1", site_id
            )
            if children:
                raise Conflict(f"site {site_id!r} still has {children} site(s) below it")
            chargers = await conn.fetchval(
                "SELECT count(*) FROM charge_points WHERE site_id = $1", site_id
            )
            if chargers:
                raise Conflict(f"site {site_id!r} still has {chargers} charge point(s)")
            if rows_affected(await conn.execute("DELETE FROM sites WHERE id = $1", site_id)) == 0:
                raise NotFound(f"site {site_id!r} not found")

        await self._db.write(op)
