"""Meter samples: stored once each, the sample's kind interned (csms.store.sample_kinds)."""

from __future__ import annotations

import asyncpg

from csms.domain.errors import NotFound
from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged, paged
from csms.store.postgres.database import PostgresDatabase
from csms.store.rows import SAMPLE_COLUMNS, sample_from_row, unchanged
from csms.store.sample_kinds import KindKey, SampleKinds

__all__ = ["list_samples", "sample_kinds"]


def sample_kinds(db: PostgresDatabase) -> SampleKinds:
    async def intern(keys: list[KindKey]) -> dict[KindKey, int]:
        async def op(conn: asyncpg.Connection) -> dict[KindKey, int]:
            await conn.executemany(
                "INSERT INTO sample_kinds (measurand, phase, unit, context, location, format)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                keys,
            )
            found = await _read_kinds(conn)
            return {k: found[k] for k in keys}

        return await db.write(op)

    return SampleKinds(lambda: db.read(_read_kinds), intern)


async def _read_kinds(conn: asyncpg.Connection) -> dict[KindKey, int]:
    return {
        (r[1], r[2], r[3], r[4], r[5], r[6]): r[0]
        for r in await conn.fetch(
            "SELECT id, measurand, phase, unit, context, location, format FROM sample_kinds"
        )
    }


async def list_samples(
    conn: asyncpg.Connection, transaction_pk: int, page: Page[int]
) -> Paged[tuple[int, MeterSample]]:
    if await conn.fetchval("SELECT 1 FROM transactions WHERE pk = $1", transaction_pk) is None:
        raise NotFound(f"transaction tx_{transaction_pk} not found")
    select = (
        f"SELECT m.id, {SAMPLE_COLUMNS}"
        " FROM meter_values m JOIN sample_kinds k ON k.id = m.kind WHERE m.transaction_pk = $1"
    )
    # Time order (ties by arrival). Samples can arrive out of time order, so the cursor is the
    # position (time, id) of the last sample returned, not its id alone.
    if page.starting_after is None:
        rows = await conn.fetch(
            f"{select} ORDER BY m.at, m.id LIMIT $2", transaction_pk, page.fetch
        )
    else:
        rows = await conn.fetch(
            f"{select} AND (m.at, m.id) > (COALESCE((SELECT c.at FROM meter_values c"
            " WHERE c.id = $2), '-infinity'::timestamptz), $2) ORDER BY m.at, m.id LIMIT $3",
            transaction_pk,
            page.starting_after,
            page.fetch,
        )
    return paged([(r[0], sample_from_row(r[1:], unchanged)) for r in rows], page)
