"""Meter samples: stored once each, the sample's kind interned (csms.store.sample_kinds)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.errors import Invalid, NotFound
from csms.domain.models import MeterSample, StoredSample
from csms.domain.paging import Page, Paged, paged
from csms.store.postgres.database import PostgresDatabase
from csms.store.rows import (
    SAMPLE_COLUMNS,
    STORED_SAMPLE_ORDER,
    sample_from_row,
    stored_sample,
    unchanged,
)
from csms.store.sample_kinds import KindKey, SampleKinds

__all__ = ["list_samples", "query_samples", "sample_kinds"]


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


_JOINS = " JOIN sample_kinds k ON k.id = m.kind LEFT JOIN transactions t ON t.pk = m.transaction_pk"
_STORED = (
    f"SELECT m.id, m.charge_point_id, m.evse_id, m.connector_id, t.transaction_id, {SAMPLE_COLUMNS}"
)


class _Query:
    """The SQL of one query_meter_values call, parameters numbered as they are added."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


async def query_samples(
    conn: asyncpg.Connection,
    page: Page[int],
    *,
    start: datetime,
    end: datetime,
    cp_id: str | None,
    site_ids: Collection[str] | None,
    evse_id: int | None,
    measurand: str | None,
) -> Paged[StoredSample]:
    """TransactionStore.query_meter_values: the cursor's key (and whether it is one of the
    query's chargers), then at most two statements over meter_values_position: the rest of the
    cursor's charger after the cursor, then the chargers after it, one index range each, taken in
    charger order under an incremental sort, so a page reads only the chargers it needs."""
    if cp_id is not None and site_ids is not None:
        raise ValueError("cp_id and site_ids are exclusive")
    if site_ids is not None and not site_ids:
        return Paged([], False)
    sites = None if site_ids is None else sorted(site_ids)

    def filters(q: _Query) -> str:
        sql = f" AND m.at >= {q.arg(start)} AND m.at < {q.arg(end)}"
        if evse_id is not None:
            sql += f" AND m.evse_id = {q.arg(evse_id)}"
        if measurand is not None:
            # An array, not IN (SELECT ...): that the planner turns into a join driven by the
            # kinds, whose rows then need a sort.
            sql += (
                " AND m.kind = ANY(ARRAY(SELECT id FROM sample_kinds"
                f" WHERE measurand = {q.arg(measurand)}))"
            )
        return sql

    async def one_charger(charger: str, position: tuple[Any, ...], limit: int) -> list[Any]:
        q = _Query()
        where = f"m.charge_point_id = {q.arg(charger)}"
        if position:
            where += (
                " AND (m.at, m.evse_id, m.connector_id, m.kind) >"
                f" ({q.arg(position[0])}, {q.arg(position[1])}, {q.arg(position[2])},"
                f" {q.arg(position[3])})"
            )
        sql = (
            f"{_STORED} FROM meter_values m{_JOINS} WHERE {where}{filters(q)}"
            f" ORDER BY {STORED_SAMPLE_ORDER} LIMIT {q.arg(limit)}"
        )
        return list(await conn.fetch(sql, *q.args))

    async def chargers_after(charger: str, limit: int) -> list[Any]:
        q = _Query()
        chosen = f"id > {q.arg(charger)}"
        if sites is not None:
            chosen += f" AND site_id = ANY({q.arg(sites)}::text[])"
        inner = f"m.charge_point_id = c.id{filters(q)}"
        fetch = q.arg(limit)
        sql = (
            f"{_STORED} FROM (SELECT id FROM charge_points WHERE {chosen} ORDER BY id) c"
            " CROSS JOIN LATERAL (SELECT * FROM meter_values m"
            f" WHERE {inner} ORDER BY m.at, m.evse_id, m.connector_id, m.kind LIMIT {fetch}) m"
            f"{_JOINS} ORDER BY c.id, m.at, m.evse_id, m.connector_id, m.kind LIMIT {fetch}"
        )
        return list(await conn.fetch(sql, *q.args))

    rows: list[Any] = []
    after = ""  # before every charger id
    if page.starting_after is not None:
        if cp_id is not None:
            in_scope, scope_args = "charge_point_id = $2::citext", list[Any]([cp_id])
        else:
            in_scope = "EXISTS (SELECT 1 FROM charge_points c WHERE c.id = charge_point_id"
            in_scope += ")" if sites is None else " AND c.site_id = ANY($2::text[]))"
            scope_args = [] if sites is None else [sites]
        cursor = await conn.fetchrow(
            "SELECT charge_point_id, at, evse_id, connector_id, kind,"
            f" {in_scope} FROM meter_values WHERE id = $1",
            page.starting_after,
            *scope_args,
        )
        if cursor is None or not cursor[5]:
            raise Invalid(
                "startingAfter", f"no meter value {page.starting_after} of these chargers"
            )
        after = cursor[0]
        rows = await one_charger(after, tuple(cursor[1:5]), page.fetch)
    elif cp_id is not None:
        rows = await one_charger(cp_id, (), page.fetch)
    # One charger: nothing follows its own range.
    if len(rows) < page.fetch and cp_id is None:
        rows += await chargers_after(after, page.fetch - len(rows))
    return paged([stored_sample(row, unchanged) for row in rows], page)
