"""Networks and sites: the site tree's nodes."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

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
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import CONVERSIONS

__all__ = ["SqliteSites"]

_C = CONVERSIONS


def _network(conn: sqlite3.Connection, network_id: str) -> Network | None:
    row = conn.execute(
        f"SELECT {NETWORK_COLUMNS} FROM networks WHERE id = ?", (network_id,)
    ).fetchone()
    return None if row is None else network_from_row(row, _C)


def _sites(conn: sqlite3.Connection) -> dict[str, Site]:
    rows = conn.execute(f"SELECT {SITE_COLUMNS} FROM sites ORDER BY id").fetchall()
    return {row[0]: site_from_row(row, _C) for row in rows}


def _network_ids(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT id FROM networks")}


_SITE_PLACEHOLDERS = ", ".join("?" * len(SITE_COLUMNS.split(",")))
_NETWORK_PLACEHOLDERS = ", ".join("?" * len(NETWORK_COLUMNS.split(",")))


class SqliteSites:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    # --- networks ------------------------------------------------------------------------------

    async def add_network(self, network: Network) -> Network:
        row = network_values(network, _C)

        def op(conn: sqlite3.Connection) -> Network:
            try:
                conn.execute(
                    f"INSERT INTO networks ({NETWORK_COLUMNS}) VALUES ({_NETWORK_PLACEHOLDERS})",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"network {network.id!r} already exists", field="id") from exc
            return network

        return await self._db.write(op)

    async def get_network(self, network_id: str) -> Network | None:
        return await self._db.read(lambda conn: _network(conn, network_id))

    async def list_networks(self, page: Page[str]) -> Paged[Network]:
        def read(conn: sqlite3.Connection) -> Paged[Network]:
            rows = conn.execute(
                f"SELECT {NETWORK_COLUMNS} FROM networks WHERE (? IS NULL OR id > ?)"
                " ORDER BY id LIMIT ?",
                (page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([network_from_row(row, _C) for row in rows], page)

        return await self._db.read(read)

    async def all_networks(self) -> list[Network]:
        def read(conn: sqlite3.Connection) -> list[Network]:
            rows = conn.execute(f"SELECT {NETWORK_COLUMNS} FROM networks ORDER BY id").fetchall()
            return [network_from_row(row, _C) for row in rows]

        return await self._db.read(read)

    async def update_network(
        self, network_id: str, changes: NetworkChanges, at: datetime
    ) -> Network:
        def op(conn: sqlite3.Connection) -> Network:
            current = _network(conn, network_id)
            if current is None:
                raise NotFound(f"network {network_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            row = network_values(updated, _C)
            conn.execute(
                "UPDATE networks SET name = ?, type = ?, physical_address = ?,"
                " contact_details = ?, updated_at = ? WHERE id = ?",
                (*row[1:5], row[6], network_id),
            )
            return updated

        return await self._db.write(op)

    async def delete_network(self, network_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            used = conn.execute(
                "SELECT count(*) FROM sites WHERE network_id = ?", (network_id,)
            ).fetchone()[0]
            if used:
                raise Conflict(f"network {network_id!r} still has {used} site(s)")
            if conn.execute("DELETE FROM networks WHERE id = ?", (network_id,)).rowcount == 0:
                raise NotFound(f"network {network_id!r} not found")

        await self._db.write(op)

    # --- sites ---------------------------------------------------------------------------------

    async def add_site(self, site: Site) -> Site:
        row = site_values(site, _C)

        def op(conn: sqlite3.Connection) -> Site:
            sites = _sites(conn)
            if site.id in sites:
                raise Conflict(f"site {site.id!r} already exists", field="id")
            sites[site.id] = site
            check_sites(sites, _network_ids(conn), site)
            conn.execute(f"INSERT INTO sites ({SITE_COLUMNS}) VALUES ({_SITE_PLACEHOLDERS})", row)
            return site

        return await self._db.write(op)

    async def get_site(self, site_id: str) -> Site | None:
        def read(conn: sqlite3.Connection) -> Site | None:
            row = conn.execute(f"SELECT {SITE_COLUMNS} FROM sites WHERE id = ?", (site_id,))
            found = row.fetchone()
            return None if found is None else site_from_row(found, _C)

        return await self._db.read(read)

    async def list_sites(
        self,
        page: Page[str],
        *,
        network_id: str | None = None,
        parent_site_id: str | None = None,
    ) -> Paged[Site]:
        clauses = ["(? IS NULL OR id > ?)"]
        params: list[Any] = [page.starting_after, page.starting_after]
        if network_id is not None:
            clauses.append("network_id = ?")
            params.append(network_id)
        if parent_site_id is not None:
            clauses.append("parent_site_id = ?")
            params.append(parent_site_id)
        sql = f"SELECT {SITE_COLUMNS} FROM sites WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"
        params.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[Site]:
            return paged([site_from_row(row, _C) for row in conn.execute(sql, params)], page)

        return await self._db.read(read)

    async def all_sites(self) -> list[Site]:
        return list((await self._db.read(_sites)).values())

    async def update_site(self, site_id: str, changes: SiteChanges, at: datetime) -> Site:
        def op(conn: sqlite3.Connection) -> Site:
            sites = _sites(conn)
            current = sites.get(site_id)
            if current is None:
                raise NotFound(f"site {site_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            sites[site_id] = updated
            check_sites(sites, _network_ids(conn), updated)
            row = site_values(updated, _C)
            conn.execute(
                "UPDATE sites SET name = ?, type = ?, network_id = ?, parent_site_id = ?,"
                " external_id = ?, updated_at = ? WHERE id = ?",
                (*row[1:6], row[7], site_id),
            )
            return updated

        return await self._db.write(op)

    async def delete_site(self, site_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            children = conn.execute(
                "SELECT count(*) FROM sites WHERE parent_site_id = ?", (site_id,)
            ).fetchone()[0]
            if children:
                raise Conflict(f"site {site_id!r} still has {children} site(s) below it")
            chargers = conn.execute(
                "SELECT count(*) FROM charge_points WHERE site_id = ?", (site_id,)
            ).fetchone()[0]
            if chargers:
                raise Conflict(f"site {site_id!r} still has {chargers} charge point(s)")
            if conn.execute("DELETE FROM sites WHERE id = ?", (site_id,)).rowcount == 0:
                raise NotFound(f"site {site_id!r} not found")

        await self._db.write(op)
