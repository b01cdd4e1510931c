"""Transactions and their meter values: each message loads its transaction, applies
csms.domain.transactions and saves the result in one write (a batch's messages together:
transaction_writes.py), and the operators' reads.

Several writers may meet here (the nodes of a cluster), so nothing relies on read-then-write: a
transaction is loaded ``FOR UPDATE`` (a concurrent writer of the same transaction waits for this
one to commit), and a new one is inserted ``ON CONFLICT DO NOTHING``: when a unique key (a 1.6
start's ``start_key``, a charger's transactionId) says another writer created it meanwhile, the
message is applied to that one instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.models import MeterSample, StoredSample
from csms.domain.paging import Page, Paged, paged
from csms.domain.transactions import (
    EventOutcome,
    StopOutcome,
    Transaction,
    TransactionEvent,
    TransactionStart,
    TransactionStop,
)
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.meter_values import list_samples, query_samples, sample_kinds
from csms.store.postgres.transaction_writes import (
    COLUMNS,
    MeterValuesWrite,
    TransactionWrite,
    transaction,
)

__all__ = ["PostgresTransactions"]


class PostgresTransactions:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self._kinds = sample_kinds(db)

    async def start_transaction(
        self,
        start: TransactionStart,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[tuple[Transaction, bool]] | None = None,
    ) -> tuple[Transaction, bool]:
        result: tuple[Transaction, bool] = await self._db.write(
            TransactionWrite(start, samples, await self._kinds.ids(samples)), events=events
        )
        return result

    async def stop_transaction(
        self,
        stop: TransactionStop,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[StopOutcome | None] | None = None,
    ) -> StopOutcome | None:
        result: StopOutcome | None = await self._db.write(
            TransactionWrite(stop, samples, await self._kinds.ids(samples)), events=events
        )
        return result

    async def record_transaction_event(
        self,
        event: TransactionEvent,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[EventOutcome] | None = None,
    ) -> EventOutcome:
        result: EventOutcome = await self._db.write(
            TransactionWrite(event, samples, await self._kinds.ids(samples)), events=events
        )
        return result

    async def add_meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        *,
        events: DeclaredEvents[int] | None = None,
    ) -> int:
        kinds = await self._kinds.ids(samples)
        write = MeterValuesWrite(cp_id, evse_id, connector_id, transaction_id, samples, kinds)
        added: int = await self._db.write(write, events=events)
        return added

    async def get_transaction(self, pk: int) -> Transaction | None:
        async def read(conn: asyncpg.Connection) -> Transaction | None:
            row = await conn.fetchrow(f"SELECT {COLUMNS} FROM transactions WHERE pk = $1", pk)
            return None if row is None else transaction(row)

        return await self._db.read(read)

    async def find_transactions(
        self, transaction_id: str, *, cp_id: str | None = None
    ) -> list[Transaction]:
        async def read(conn: asyncpg.Connection) -> list[Transaction]:
            rows = await conn.fetch(
                f"SELECT {COLUMNS} FROM transactions WHERE transaction_id = $1"
                " AND ($2::citext IS NULL OR charge_point_id = $2) ORDER BY pk DESC",
                transaction_id,
                cp_id,
            )
            return [transaction(row) for row in rows]

        return await self._db.read(read)

    async def list_transactions(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        site_ids: Collection[str] | None = None,
    ) -> Paged[Transaction]:
        clauses: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if page.starting_after is not None:
            clauses.append(f"pk < {param(page.starting_after)}")
        if cp_id is not None:
            clauses.append(f"charge_point_id = {param(cp_id)}")
        if site_ids is not None:
            clauses.append(
                "charge_point_id IN (SELECT id FROM charge_points"
                f" WHERE site_id = ANY({param(sorted(site_ids))}::text[]))"
            )
        if active is not None:
            clauses.append(f"status = {param('active' if active else 'completed')}")
        if id_tag is not None:
            clauses.append(f"lower(id_tag) = lower({param(id_tag)})")
        if end is not None:  # overlapping the window: started before its end ...
            clauses.append(f"started_at < {param(end)}")
        if start is not None:  # ... and not stopped before its start
            clauses.append(f"(stopped_at IS NULL OR stopped_at >= {param(start)})")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = param(page.fetch)
        sql = f"SELECT {COLUMNS} FROM transactions {where} ORDER BY pk DESC LIMIT {limit}"

        async def read(conn: asyncpg.Connection) -> Paged[Transaction]:
            return paged([transaction(row) for row in await conn.fetch(sql, *params)], page)

        return await self._db.read(read)

    async def list_meter_values(
        self, transaction_pk: int, page: Page[int]
    ) -> Paged[tuple[int, MeterSample]]:
        return await self._db.read(lambda conn: list_samples(conn, transaction_pk, page))

    async def query_meter_values(
        self,
        page: Page[int],
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        evse_id: int | None = None,
        measurand: str | None = None,
    ) -> Paged[StoredSample]:
        async def read(conn: asyncpg.Connection) -> Paged[StoredSample]:
            return await query_samples(
                conn,
                page,
                start=start,
                end=end,
                cp_id=cp_id,
                site_ids=site_ids,
                evse_id=evse_id,
                measurand=measurand,
            )

        return await self._db.read(read)
