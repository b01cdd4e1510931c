"""Meter samples: stored once each, the sample's kind interned (csms.store.sample_kinds)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from csms.domain.errors import NotFound
from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged, paged
from csms.store.postgres.database import PostgresDatabase
from csms.store.rows import SAMPLE_COLUMNS, sample_from_row, unchanged
from csms.store.sample_kinds import KindKey, SampleKinds

__all__ = ["insert_samples", "list_samples", "sample_kinds"]


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


async def insert_samples(
    conn: asyncpg.Connection,
    cp_id: str,
    evse_id: int,
    connector_id: int,
    transaction_pk: int | None,
    samples: Sequence[MeterSample],
    kinds: Sequence[int],
) -> int:
    """Insert inside the caller's write; a sample already stored is skipped. Returns how many
    were new."""
    if not samples:
        return 0
    status = await conn.execute(
        "INSERT INTO meter_values (charge_point_id, evse_id, connector_id, transaction_pk, at,"
        " kind, value) SELECT $1, $2, $3, $4, s.at, s.kind, s.value"
        " FROM unnest($5::timestamptz[], $6::integer[], $7::text[]) AS s (at, kind, value)"
        " ON CONFLICT DO NOTHING",
        cp_id,
        evse_id,
        connector_id,
        transaction_pk,
        [s.timestamp for s in samples],
        list(kinds),
        [s.value for s in samples],
    )
    return int(status.rsplit(" ", 1)[1])


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
