"""Which node holds each charger (ADR 013; migration 014): claimed and released inside the
connection's own write (csms.store.postgres.chargers.record_connection), read by the nodes to
settle who holds what."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import asyncpg

from csms.store.cluster_repositories import Holder, Holding, Recorded
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresCluster", "claim", "release"]


async def claim(conn: asyncpg.Connection, cp_id: str, holder: Holder, at: datetime) -> Recorded:
    """``holder.node_id`` holds the charger from now on, with a new number (newest wins)."""
    # UPDATE ... FROM reads the row as it was before the update: the node that held it.
    row = await conn.fetchrow(
        "UPDATE charger_holders h SET node_id = $2, seq = nextval('charger_holder_seq'),"
        " since = $3 FROM (SELECT node_id FROM charger_holders WHERE charge_point_id = $1) old"
        " WHERE h.charge_point_id = $1 RETURNING h.seq, old.node_id",
        cp_id,
        holder.node_id,
        at,
    )
    if row is None:  # nobody held it; a claim racing this one: the later write wins
        row = await conn.fetchrow(
            "INSERT INTO charger_holders (charge_point_id, node_id, seq, since)"
            " VALUES ($1, $2, nextval('charger_holder_seq'), $3)"
            " ON CONFLICT (charge_point_id) DO UPDATE"
            " SET node_id = EXCLUDED.node_id, seq = EXCLUDED.seq, since = EXCLUDED.since"
            " RETURNING seq, NULL::text",
            cp_id,
            holder.node_id,
            at,
        )
    assert row is not None
    return Recorded(True, int(row[0]), row[1])


async def release(conn: asyncpg.Connection, cp_id: str, holder: Holder, at: datetime) -> Recorded:
    """Whether the disconnection may be recorded: the connection numbered ``holder.seq`` still
    held the charger (and now no longer does), or, with no number, nobody holds it."""
    if holder.seq is None:
        # The charger's row first, as a connection's own write takes it: a claim under way
        # either committed before this reads the holders, or waits and marks it connected after.
        await conn.execute("SELECT 1 FROM charge_points WHERE id = $1 FOR UPDATE", cp_id)
        held = await conn.fetchval(
            "SELECT 1 FROM charger_holders WHERE charge_point_id = $1", cp_id
        )
        return Recorded(changed=held is None)
    gone = await conn.fetchval(
        "DELETE FROM charger_holders WHERE charge_point_id = $1 AND seq = $2 RETURNING 1",
        cp_id,
        holder.seq,
    )
    return Recorded(changed=gone is not None)


class PostgresCluster:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def holdings(self, cp_ids: Collection[str]) -> dict[str, Holding]:
        rows = await self._fetch(
            "SELECT h.charge_point_id, h.node_id, h.seq, cp.ocpp_version, cp.boot_accepted"
            " FROM charger_holders h JOIN charge_points cp ON cp.id = h.charge_point_id"
            " WHERE h.charge_point_id = ANY($1::citext[])",
            list(cp_ids),
        )
        return {str(r[0]).lower(): _holding(r) for r in rows}

    async def held_by(self, node_id: str) -> Sequence[Holding]:
        rows = await self._fetch(
            "SELECT h.charge_point_id, h.node_id, h.seq, cp.ocpp_version, cp.boot_accepted"
            " FROM charger_holders h JOIN charge_points cp ON cp.id = h.charge_point_id"
            " WHERE h.node_id = $1",
            node_id,
        )
        return [_holding(r) for r in rows]

    async def held_elsewhere_than(self, live_nodes: Collection[str]) -> Sequence[Holding]:
        rows = await self._fetch(
            "SELECT h.charge_point_id, h.node_id, h.seq, cp.ocpp_version, cp.boot_accepted"
            " FROM charger_holders h JOIN charge_points cp ON cp.id = h.charge_point_id"
            " WHERE NOT (h.node_id = ANY($1::text[]))",
            list(live_nodes),
        )
        return [_holding(r) for r in rows]

    async def hold_lease(self, name: str, node_id: str, seconds: float) -> bool:
        async def op(conn: asyncpg.Connection) -> bool:
            holder = await conn.fetchval(
                "INSERT INTO leases (name, node_id, expires_at)"
                " VALUES ($1, $2, now() + make_interval(secs => $3))"
                " ON CONFLICT (name) DO UPDATE"
                " SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at"
                " WHERE leases.node_id = EXCLUDED.node_id OR leases.expires_at < now()"
                " RETURNING node_id",
                name,
                node_id,
                seconds,
            )
            return holder is not None

        # Beside the writer (a lease is no charger's change): its own short transaction.
        return await self._db.write_apart(op)

    async def lease_holder(self, name: str) -> str | None:
        rows = await self._fetch(
            "SELECT node_id FROM leases WHERE name = $1 AND expires_at > now()", name
        )
        return str(rows[0][0]) if rows else None

    async def connected_unheld(self) -> Sequence[str]:
        rows = await self._fetch(
            "SELECT id FROM charge_points cp WHERE connected"
            " AND NOT EXISTS (SELECT 1 FROM charger_holders h WHERE h.charge_point_id = cp.id)"
        )
        return [str(r[0]) for r in rows]

    async def _fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        async def read(conn: asyncpg.Connection) -> list[asyncpg.Record]:
            return list(await conn.fetch(query, *args))

        return await self._db.read(read)


def _holding(row: asyncpg.Record) -> Holding:
    return Holding(str(row[0]), row[1], int(row[2]), row[3], bool(row[4]))
