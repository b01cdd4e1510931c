"""Transactions and their meter values: load, apply csms.domain.transactions, save, in one write.

Several writers may meet here (the nodes of a cluster), so nothing relies on read-then-write: a
transaction is loaded ``FOR UPDATE`` (a concurrent writer of the same transaction waits for this
one to commit), and a new one is inserted ``ON CONFLICT DO NOTHING``: when a unique key (a 1.6
start's ``start_key``, a charger's transactionId) says another writer created it meanwhile, the
message is applied to that one instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged, paged
from csms.domain.transactions import (
    EventOutcome,
    StopOutcome,
    Transaction,
    TransactionEvent,
    TransactionStart,
    TransactionStop,
    apply_event,
    apply_stop,
    new_from_start,
    owner_of_samples,
    start_key,
)
from csms.store.postgres.charger_state import drop_transaction_profiles, use_reservation
from csms.store.postgres.database import CombinedWrite, PostgresDatabase
from csms.store.postgres.meter_values import insert_samples, list_samples, sample_kinds
from csms.store.rows import (
    TRANSACTION_COLUMNS,
    TRANSACTION_SAVED,
    transaction_from_row,
    transaction_values,
)

__all__ = ["PostgresTransactions"]

_COLUMNS = ", ".join(TRANSACTION_COLUMNS)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(2, len(TRANSACTION_SAVED) + 2))
# A new row takes its key from the sequence first, so that a 1.6 transactionId (its key) is
# known within the same statement.
_INSERT = (
    "WITH k AS (SELECT nextval(pg_get_serial_sequence('transactions', 'pk'))::integer AS pk)"
    f" INSERT INTO transactions (pk, transaction_id, {', '.join(TRANSACTION_SAVED)})"
    f" SELECT k.pk, COALESCE(NULLIF($1, ''), k.pk::text), {_PLACEHOLDERS} FROM k"
    " ON CONFLICT DO NOTHING RETURNING pk, transaction_id"
)
_UPDATE = (
    "UPDATE transactions SET "
    + ", ".join(f"{column} = ${i}" for i, column in enumerate(TRANSACTION_SAVED, 2))
    + " WHERE pk = $1"
)


def _same(moment: datetime) -> datetime:
    return moment  # timestamptz in, datetime out: nothing to convert


def _transaction(row: asyncpg.Record) -> Transaction:
    return transaction_from_row(row, _same)


def _values(tx: Transaction) -> tuple[Any, ...]:
    return transaction_values(tx, _same)


async def _insert(conn: asyncpg.Connection, tx: Transaction) -> Transaction | None:
    """Store a new transaction; None when a unique key says it exists already."""
    row = await conn.fetchrow(_INSERT, tx.transaction_id, *_values(tx))
    return None if row is None else replace(tx, pk=row[0], transaction_id=row[1])


async def _update(conn: asyncpg.Connection, tx: Transaction) -> None:
    await conn.execute(_UPDATE, tx.pk, *_values(tx))


async def _locked(conn: asyncpg.Connection, cp_id: str, transaction_id: str) -> Transaction | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM transactions WHERE charge_point_id = $1 AND transaction_id = $2"
        " FOR UPDATE",
        cp_id,
        transaction_id,
    )
    return None if row is None else _transaction(row)


_SampleKey = tuple[str, int, int, datetime, int]


class _MeterValuesWrite(CombinedWrite):
    """MeterValues: the samples of every such message in a batch are attached to their
    transactions and inserted with two statements in all."""

    def __init__(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        kinds: Sequence[int],
    ) -> None:
        self.cp_id = cp_id
        self.evse_id = evse_id
        self.connector_id = connector_id
        self.transaction_id = transaction_id
        self.samples = samples
        self.kinds = kinds

    def keys(self) -> list[_SampleKey]:
        cp = self.cp_id.lower()
        return [
            (cp, self.evse_id, self.connector_id, s.timestamp, kind)
            for s, kind in zip(self.samples, self.kinds, strict=True)
        ]

    @classmethod
    async def run_together(
        cls, conn: asyncpg.Connection, writes: list[_MeterValuesWrite]
    ) -> list[int]:
        # The transactions named and those running on the chargers concerned, in one query;
        # which one owns a message's samples is the domain's rule.
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM transactions WHERE charge_point_id = ANY($1::citext[])"
            " AND (status = 'active' OR transaction_id = ANY($2::text[]))",
            list({w.cp_id for w in writes}),
            [w.transaction_id for w in writes if w.transaction_id is not None],
        )
        by_charger: dict[str, list[Transaction]] = {}
        for row in rows:
            tx = _transaction(row)
            by_charger.setdefault(tx.charge_point_id.lower(), []).append(tx)
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        first_writer: dict[_SampleKey, int] = {}
        for index, w in enumerate(writes):
            candidates = by_charger.get(w.cp_id.lower(), [])
            named = next((t for t in candidates if t.transaction_id == w.transaction_id), None)
            owner = owner_of_samples(named, candidates, w.evse_id, w.connector_id)
            for sample, kind, key in zip(w.samples, w.kinds, w.keys(), strict=True):
                first_writer.setdefault(key, index)
                for column, value in zip(
                    columns,
                    (
                        w.cp_id,
                        w.evse_id,
                        w.connector_id,
                        None if owner is None else owner.pk,
                        sample.timestamp,
                        kind,
                        sample.value,
                    ),
                    strict=True,
                ):
                    column.append(value)
        added = [0] * len(writes)
        if not columns[0]:
            return added
        inserted = await conn.fetch(
            "INSERT INTO meter_values (charge_point_id, evse_id, connector_id, transaction_pk,"
            " at, kind, value) SELECT * FROM unnest($1::citext[], $2::integer[], $3::integer[],"
            " $4::integer[], $5::timestamptz[], $6::integer[], $7::text[])"
            " ON CONFLICT DO NOTHING"
            " RETURNING lower(charge_point_id), evse_id, connector_id, at, kind",
            *columns,
        )
        for row in inserted:
            added[first_writer[tuple(row)]] += 1
        return added


class PostgresTransactions:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self._kinds = sample_kinds(db)

    async def start_transaction(
        self, start: TransactionStart, samples: Sequence[MeterSample] = ()
    ) -> tuple[Transaction, bool]:
        kinds = await self._kinds.ids(samples)
        key = start_key(start)

        async def op(conn: asyncpg.Connection) -> tuple[Transaction, bool]:
            tx = await _insert(conn, new_from_start(start))
            if tx is None:  # a replay: the start_key is taken
                row = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM transactions WHERE start_key = $1", key
                )
                return _transaction(row), False
            await insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            if start.reservation_id is not None:
                await use_reservation(
                    conn, start.charge_point_id, start.reservation_id, start.started_at
                )
            return tx, True

        return await self._db.write(op)

    async def stop_transaction(
        self, stop: TransactionStop, samples: Sequence[MeterSample] = ()
    ) -> StopOutcome | None:
        kinds = await self._kinds.ids(samples)

        async def op(conn: asyncpg.Connection) -> StopOutcome | None:
            tx = await _locked(conn, stop.charge_point_id, stop.transaction_id)
            if tx is None:
                # Unknown id (1.6 chargers send -1 when they never got one): still keep its
                # meter data, unattached, rather than lose billing evidence.
                await insert_samples(conn, stop.charge_point_id, 0, 0, None, samples, kinds)
                return None
            outcome = apply_stop(tx, stop)
            if outcome.ended:
                await _update(conn, outcome.transaction)
                await drop_transaction_profiles(conn, tx.charge_point_id, tx.transaction_id)
            # Samples of a replayed stop are skipped by the meter values' unique key.
            await insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            return outcome

        return await self._db.write(op)

    async def record_transaction_event(
        self, event: TransactionEvent, samples: Sequence[MeterSample] = ()
    ) -> EventOutcome:
        kinds = await self._kinds.ids(samples)

        async def op(conn: asyncpg.Connection) -> EventOutcome:
            while True:
                current = await _locked(conn, event.charge_point_id, event.transaction_id)
                outcome = apply_event(current, event)
                if outcome.duplicate:
                    return outcome
                if not outcome.created:
                    tx = outcome.transaction
                    await _update(conn, tx)
                    break
                inserted = await _insert(conn, outcome.transaction)
                if inserted is not None:
                    tx = inserted
                    break
                # Another writer created it since we looked: apply the event to that one.
            await conn.execute(
                "INSERT INTO transaction_events (transaction_pk, seq_no, event_type,"
                " trigger_reason, timestamp, offline, energy_register_wh)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                tx.pk,
                event.seq_no,
                event.event_type,
                event.trigger_reason,
                event.timestamp,
                event.offline,
                event.energy_register_wh,
            )
            if outcome.ended:
                await drop_transaction_profiles(conn, tx.charge_point_id, tx.transaction_id)
            if event.reservation_id is not None:
                await use_reservation(
                    conn, tx.charge_point_id, event.reservation_id, event.timestamp
                )
            await insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            return replace(outcome, transaction=tx)

        return await self._db.write(op)

    async def add_meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
    ) -> int:
        kinds = await self._kinds.ids(samples)
        write = _MeterValuesWrite(cp_id, evse_id, connector_id, transaction_id, samples, kinds)
        added: int = await self._db.write(write)
        return added

    async def get_transaction(self, pk: int) -> Transaction | None:
        async def read(conn: asyncpg.Connection) -> Transaction | None:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM transactions WHERE pk = $1", pk)
            return None if row is None else _transaction(row)

        return await self._db.read(read)

    async def find_transactions(
        self, transaction_id: str, *, cp_id: str | None = None
    ) -> list[Transaction]:
        async def read(conn: asyncpg.Connection) -> list[Transaction]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM transactions WHERE transaction_id = $1"
                " AND ($2::citext IS NULL OR charge_point_id = $2) ORDER BY pk DESC",
                transaction_id,
                cp_id,
            )
            return [_transaction(row) for row in rows]

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
        sql = f"SELECT {_COLUMNS} FROM transactions {where} ORDER BY pk DESC LIMIT {limit}"

        async def read(conn: asyncpg.Connection) -> Paged[Transaction]:
            return paged([_transaction(row) for row in await conn.fetch(sql, *params)], page)

        return await self._db.read(read)

    async def list_meter_values(
        self, transaction_pk: int, page: Page[int]
    ) -> Paged[tuple[int, MeterSample]]:
        return await self._db.read(lambda conn: list_samples(conn, transaction_pk, page))
