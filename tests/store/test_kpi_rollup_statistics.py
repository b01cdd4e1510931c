"""PostgreSQL: the roll-up keeps the planner's statistics of its tables current as it fills
them, whatever autovacuum does (it is off on these machines). Planned against an empty kpi_days,
the foreign-key check of every kpi_day_downtime row scanned the whole table, and a first roll-up
of 10,000 chargers went quadratic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from csms.services.kpi_rollup import KpiRollup
from csms.store.postgres import PostgresStore
from tests.databases import PostgresServer, reset_database

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
CHARGERS = 60
DAYS = 30


class _Clock:
    def __call__(self) -> datetime:
        return NOW


async def _estimated_rows(url: str) -> float:
    conn = await asyncpg.connect(url)
    try:
        return float(
            await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'kpi_days'::regclass")
        )
    finally:
        await conn.close()


async def test_a_large_roll_up_analyses_its_tables(postgres_server: PostgresServer) -> None:
    url = postgres_server.require()
    store = PostgresStore(url)
    await store.open()
    try:
        await reset_database(url)  # kpi_days empty: its statistics say so
        registered = NOW - timedelta(days=DAYS)
        conn = await asyncpg.connect(url)
        try:
            await conn.executemany(
                "INSERT INTO charge_points (id, created_at) VALUES ($1, $2)",
                [(f"STAT-{n:03d}", registered) for n in range(CHARGERS)],
            )
        finally:
            await conn.close()
        assert await _estimated_rows(url) < 1000

        task = KpiRollup(store.kpi_rollup, _Clock(), retention=timedelta(days=400), settle=0.0)
        await task.start()
        written = await task.roll_up()

        assert written == CHARGERS * (DAYS + 1)  # each day since registration, today's too
        assert await _estimated_rows(url) >= 1000
    finally:
        await store.close()
