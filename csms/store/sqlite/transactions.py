"""Transactions and their meter values: load, apply csms.domain.transactions, save, in one write.

SQLite has one writer, so a load-then-save inside a write cannot race another; the unique keys
(a 1.6 start's ``start_key``, a charger's transactionId, an event's seqNo, a sample's position)
still guard every replay.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.models import MeterSample, StoredSample
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
from csms.store.outbox import DeclaredEvents
from csms.store.rows import (
    TRANSACTION_COLUMNS,
    TRANSACTION_SAVED,
    transaction_from_row,
    transaction_values,
)
from csms.store.sqlite.charger_state import drop_transaction_profiles, use_reservation
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.meter_values import (
    insert_samples,
    list_samples,
    query_samples,
    sample_kinds,
)
from csms.store.sqlite.values import json_text

__all__ = ["SqliteTransactions"]

_COLUMNS = ", ".join(TRANSACTION_COLUMNS)
_UPDATE = (
    f"UPDATE transactions SET {', '.join(f'{column} = ?' for column in TRANSACTION_SAVED)}"
    " WHERE pk = ?"
)
_INSERT = (
    f"INSERT INTO transactions (transaction_id, {', '.join(TRANSACTION_SAVED)})"
    f" VALUES ({', '.join('?' * (len(TRANSACTION_SAVED) + 1))})"
)


def _transaction(row: sqlite3.Row) -> Transaction:
    return transaction_from_row(row, parse_timestamp)


def _save(conn: sqlite3.Connection, tx: Transaction) -> Transaction:
    """Insert a new transaction (pk 0) or update a stored one; returns it as stored."""
    values = transaction_values(tx, format_timestamp)
    if tx.pk:
        conn.execute(_UPDATE, (*values, tx.pk))
        return tx
    pk = conn.execute(_INSERT, (tx.transaction_id, *values)).lastrowid
    assert pk is not None
    if not tx.transaction_id:
        # 1.6: the row's own key is the transactionId the charger gets: unique and positive.
        conn.execute("UPDATE transactions SET transaction_id = ? WHERE pk = ?", (str(pk), pk))
        return replace(tx, pk=pk, transaction_id=str(pk))
    return replace(tx, pk=pk)


def _find(conn: sqlite3.Connection, cp_id: str, transaction_id: str) -> Transaction | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM transactions WHERE charge_point_id = ? AND transaction_id = ?",
        (cp_id, transaction_id),
    ).fetchone()
    return None if row is None else _transaction(row)


def _active(conn: sqlite3.Connection, cp_id: str) -> list[Transaction]:
    return [
        _transaction(row)
        for row in conn.execute(
            f"SELECT {_COLUMNS} FROM transactions WHERE charge_point_id = ? AND status = 'active'",
            (cp_id,),
        )
    ]


class SqliteTransactions:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._kinds = sample_kinds(db)

    async def start_transaction(
        self,
        start: TransactionStart,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[tuple[Transaction, bool]] | None = None,
    ) -> tuple[Transaction, bool]:
        kinds = await self._kinds.ids(samples)
        key = start_key(start)

        def op(conn: sqlite3.Connection) -> tuple[Transaction, bool]:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM transactions WHERE start_key = ?", (key,)
            ).fetchone()
            if row is not None:
                return _transaction(row), False
            tx = _save(conn, new_from_start(start))
            insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            if start.reservation_id is not None:
                use_reservation(conn, start.charge_point_id, start.reservation_id, start.started_at)
            return tx, True

        return await self._db.write(op, events=events)

    async def stop_transaction(
        self,
        stop: TransactionStop,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[StopOutcome | None] | None = None,
    ) -> StopOutcome | None:
        kinds = await self._kinds.ids(samples)

        def op(conn: sqlite3.Connection) -> StopOutcome | None:
            tx = _find(conn, stop.charge_point_id, stop.transaction_id)
            if tx is None:
                # Unknown id (1.6 chargers send -1 when they never got one): still keep its
                # meter data, unattached, rather than lose billing evidence.
                insert_samples(conn, stop.charge_point_id, 0, 0, None, samples, kinds)
                return None
            outcome = apply_stop(tx, stop)
            if outcome.ended:
                _save(conn, outcome.transaction)
                drop_transaction_profiles(conn, tx.charge_point_id, tx.transaction_id)
            # Samples of a replayed stop are skipped by the meter values' unique key.
            insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            return outcome

        return await self._db.write(op, events=events)

    async def record_transaction_event(
        self,
        event: TransactionEvent,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[EventOutcome] | None = None,
    ) -> EventOutcome:
        kinds = await self._kinds.ids(samples)

        def op(conn: sqlite3.Connection) -> EventOutcome:
            outcome = apply_event(_find(conn, event.charge_point_id, event.transaction_id), event)
            if outcome.duplicate:
                return outcome
            tx = _save(conn, outcome.transaction)
            conn.execute(
                "INSERT INTO transaction_events (transaction_pk, seq_no, event_type,"
                " trigger_reason, timestamp, offline, energy_register_wh)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tx.pk,
                    event.seq_no,
                    event.event_type,
                    event.trigger_reason,
                    format_timestamp(event.timestamp),
                    int(event.offline),
                    event.energy_register_wh,
                ),
            )
            if outcome.ended:
                drop_transaction_profiles(conn, tx.charge_point_id, tx.transaction_id)
            if event.reservation_id is not None:
                use_reservation(conn, tx.charge_point_id, event.reservation_id, event.timestamp)
            insert_samples(
                conn, tx.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples, kinds
            )
            return replace(outcome, transaction=tx)

        return await self._db.write(op, events=events)

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

        def op(conn: sqlite3.Connection) -> int:
            named = None if transaction_id is None else _find(conn, cp_id, transaction_id)
            active = [] if named is not None or evse_id <= 0 else _active(conn, cp_id)
            owner = owner_of_samples(named, active, evse_id, connector_id)
            return insert_samples(
                conn,
                cp_id,
                evse_id,
                connector_id,
                None if owner is None else owner.pk,
                samples,
                kinds,
            )

        return await self._db.write(op, events=events)

    async def get_transaction(self, pk: int) -> Transaction | None:
        def read(conn: sqlite3.Connection) -> Transaction | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM transactions WHERE pk = ?", (pk,)
            ).fetchone()
            return None if row is None else _transaction(row)

        return await self._db.read(read)

    async def find_transactions(
        self, transaction_id: str, *, cp_id: str | None = None
    ) -> list[Transaction]:
        def read(conn: sqlite3.Connection) -> list[Transaction]:
            return [
                _transaction(row)
                for row in conn.execute(
                    f"SELECT {_COLUMNS} FROM transactions WHERE transaction_id = ?"
                    " AND (? IS NULL OR charge_point_id = ?) ORDER BY pk DESC",
                    (transaction_id, cp_id, cp_id),
                )
            ]

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
        if page.starting_after is not None:
            clauses.append("pk < ?")
            params.append(page.starting_after)
        if cp_id is not None:
            clauses.append("charge_point_id = ?")
            params.append(cp_id)
        if site_ids is not None:
            clauses.append(
                "charge_point_id IN (SELECT id FROM charge_points"
                " WHERE site_id IN (SELECT value FROM json_each(?)))"
            )
            params.append(json_text(sorted(site_ids)))
        if active is not None:
            clauses.append("status = ?")
            params.append("active" if active else "completed")
        if id_tag is not None:
            clauses.append("id_tag = ? COLLATE NOCASE")
            params.append(id_tag)
        if end is not None:  # overlapping the window: started before its end ...
            clauses.append("started_at < ?")
            params.append(format_timestamp(end))
        if start is not None:  # ... and not stopped before its start
            clauses.append("(stopped_at IS NULL OR stopped_at >= ?)")
            params.append(format_timestamp(start))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(page.fetch)
        sql = f"SELECT {_COLUMNS} FROM transactions {where} ORDER BY pk DESC LIMIT ?"

        def read(conn: sqlite3.Connection) -> Paged[Transaction]:
            return paged([_transaction(row) for row in conn.execute(sql, params)], page)

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
        return await self._db.read(
            lambda conn: query_samples(
                conn,
                page,
                start=start,
                end=end,
                cp_id=cp_id,
                site_ids=site_ids,
                evse_id=evse_id,
                measurand=measurand,
            )
        )
