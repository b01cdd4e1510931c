"""The KPI benchmark's fleet written into a store directly (fast): a migrated SQLite file, or a
fresh PostgreSQL database (``python -m bench.kpis --database URL``) by COPY, then analysed. All
chargers on one site of one network."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import asyncpg

from csms.domain.clock import format_timestamp
from csms.domain.kpis import ChargerHistory
from csms.store.postgres import PostgresStore
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.values import epoch_ms

__all__ = ["fill_postgres", "fill_sqlite"]


def fill_sqlite(
    path: Path, fleet: list[ChargerHistory], network: str, site: str, created: datetime
) -> None:
    """The fleet's chargers and their history in a new SQLite file at ``path``, migrated."""
    store = SqliteStore(path)
    asyncio.run(_open_and_close(store))
    conn = sqlite3.connect(path)
    with conn:
        stamp = format_timestamp(created)
        conn.execute(
            "INSERT INTO networks (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (network, "Bench", stamp, stamp),
        )
        conn.execute(
            "INSERT INTO sites (id, name, type, network_id, created_at, updated_at)"
            " VALUES (?, ?, 'site', ?, ?, ?)",
            (site, "Bench", network, stamp, stamp),
        )
        conn.executemany(
            "INSERT INTO charge_points (id, created_at, site_id) VALUES (?, ?, ?)",
            [(c.charge_point_id, format_timestamp(c.registered_at), site) for c in fleet],
        )
        conn.executemany(
            "INSERT INTO connection_history (charge_point_id, connected_at, disconnected_at)"
            " VALUES (?, ?, ?)",
            [
                (i.charge_point_id, epoch_ms(i.connected_at), _ms(i.disconnected_at))
                for c in fleet
                for i in c.connections
            ],
        )
        conn.executemany(
            "INSERT INTO status_history (charge_point_id, evse_id, connector_id, status,"
            " error_code, from_at, to_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.charge_point_id,
                    i.evse_id,
                    i.connector_id,
                    i.status,
                    i.error_code,
                    epoch_ms(i.started_at),
                    _ms(i.ended_at),
                )
                for c in fleet
                for i in c.statuses
            ],
        )
    conn.close()


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_ms(moment)


async def _open_and_close(store: SqliteStore) -> None:
    await store.open()
    await store.close()


async def fill_postgres(
    url: str, fleet: list[ChargerHistory], network: str, site: str, created: datetime
) -> None:
    """The fleet's chargers on one site of one network, and their history, in the migrated
    (empty) database at ``url``."""
    store = PostgresStore(url)
    await store.open()  # the migrations
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO networks (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
                network,
                "Bench",
                created,
            )
            await conn.execute(
                "INSERT INTO sites (id, name, type, network_id, created_at, updated_at)"
                " VALUES ($1, $2, 'site', $3, $4, $4)",
                site,
                "Bench",
                network,
                created,
            )
            # COPY has no binary form for citext (the charger ids): through text columns.
            for table, columns, records in (
                (
                    "charge_points",
                    {"id": "text", "created_at": "timestamptz", "site_id": "text"},
                    [(c.charge_point_id, c.registered_at, site) for c in fleet],
                ),
                (
                    "connection_history",
                    {
                        "charge_point_id": "text",
                        "connected_at": "timestamptz",
                        "disconnected_at": "timestamptz",
                    },
                    [
                        (i.charge_point_id, i.connected_at, i.disconnected_at)
                        for c in fleet
                        for i in c.connections
                    ],
                ),
                (
                    "status_history",
                    {
                        "charge_point_id": "text",
                        "evse_id": "integer",
                        "connector_id": "integer",
                        "status": "text",
                        "error_code": "text",
                        "from_at": "timestamptz",
                        "to_at": "timestamptz",
                    },
                    [
                        (
                            i.charge_point_id,
                            i.evse_id,
                            i.connector_id,
                            i.status,
                            i.error_code,
                            i.started_at,
                            i.ended_at,
                        )
                        for c in fleet
                        for i in c.statuses
                    ],
                ),
            ):
                names = ", ".join(columns)
                typed = ", ".join(f"{name} {kind}" for name, kind in columns.items())
                await conn.execute(f"CREATE TEMP TABLE staged ({typed})")
                await conn.copy_records_to_table("staged", columns=list(columns), records=records)
                await conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM staged")
                await conn.execute("DROP TABLE staged")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
