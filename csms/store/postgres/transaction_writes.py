"""The writes of transaction messages, each batch's applied together (ADR 003).

On one connection a statement costs a round trip, and a StartTransaction, StopTransaction or
TransactionEvent applied alone takes four or five of them. So a batch's transaction messages are
applied together, in three statements whatever their number:

1. load every transaction they name, ``FOR UPDATE`` (a writer on another connection or node that
   wants one of them waits for this batch to commit);
2. apply each message in batch order with csms.domain.transactions, to the state the messages
   before it left (two messages for one transaction in one batch, a replay say, see each other);
   then insert the transactions created, ``ON CONFLICT DO NOTHING``;
3. save the rest in one statement: updated transactions, event rows, samples, the TxProfiles
   ended transactions drop, the reservations they use.

When a unique key shows that another writer created a transaction meanwhile (step 2 inserted
fewer rows than it created), nothing else of the batch has been written: a write alone loads again
and applies its message to that transaction; several ask the batch to run each write alone.
MeterValues, the commonest write, are applied the same way (``MeterValuesWrite``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.models import MeterSample
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
from csms.store.postgres.database import CombinedWrite
from csms.store.rows import (
    TRANSACTION_COLUMNS,
    TRANSACTION_SAVED,
    transaction_from_row,
    transaction_values,
    unchanged,
)

__all__ = ["COLUMNS", "MeterValuesWrite", "TransactionWrite", "transaction"]

COLUMNS = ", ".join(TRANSACTION_COLUMNS)

# Column types, in TRANSACTION_SAVED order, for the unnest() of a batch's rows.
_SAVED_TYPES = (
    "citext",
    "integer",
    "integer",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "double precision",
    "timestamptz",
    "integer",
    "boolean",
    "double precision",
    "timestamptz",
    "integer",
    "boolean",
    "text",
    "text",
    "integer",
    "integer",
    "text",
    "text",
    "text",
)
_ROWS = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_SAVED_TYPES, 2))

# The keys first, each through its own index (an OR of the two conditions would scan the
# table), then the rows by key, locked.
_LOAD = (
    f"SELECT {COLUMNS} FROM transactions WHERE pk IN ("
    " SELECT pk FROM transactions WHERE start_key = ANY($1::text[])"
    " UNION ALL SELECT t.pk FROM transactions t"
    " JOIN unnest($2::citext[], $3::text[]) AS n (charge_point_id, transaction_id)"
    " ON t.charge_point_id = n.charge_point_id AND t.transaction_id = n.transaction_id)"
    " FOR UPDATE"
)
_CANDIDATES = (
    f"SELECT {COLUMNS} FROM transactions WHERE pk IN ("
    " SELECT pk FROM transactions WHERE charge_point_id = ANY($1::citext[]) AND status = 'active'"
    " UNION ALL SELECT t.pk FROM transactions t"
    " JOIN unnest($2::citext[], $3::text[]) AS n (charge_point_id, transaction_id)"
    " ON t.charge_point_id = n.charge_point_id AND t.transaction_id = n.transaction_id)"
)
# New rows take their keys from the sequence as they are inserted: a 1.6 transactionId is its
# row's key.
_INSERT = (
    f"INSERT INTO transactions (pk, transaction_id, {', '.join(TRANSACTION_SAVED)})"
    f" SELECT n.pk, COALESCE(NULLIF(n.transaction_id, ''), n.pk::text), "
    + ", ".join(f"n.{c}" for c in TRANSACTION_SAVED)
    + " FROM (SELECT nextval(pg_get_serial_sequence('transactions', 'pk'))::integer AS pk, u.*"
    f" FROM unnest($1::text[], {_ROWS}) AS u (transaction_id, {', '.join(TRANSACTION_SAVED)})) n"
    " ON CONFLICT DO NOTHING RETURNING pk, transaction_id, start_key, charge_point_id"
)
_SAVE = (
    "WITH updated AS (UPDATE transactions t SET "
    + ", ".join(f"{c} = u.{c}" for c in TRANSACTION_SAVED)
    + f" FROM unnest($1::integer[], {_ROWS}) AS u (pk, {', '.join(TRANSACTION_SAVED)})"
    " WHERE t.pk = u.pk),"
    " events AS (INSERT INTO transaction_events (transaction_pk, seq_no, event_type,"
    " trigger_reason, timestamp, offline, energy_register_wh)"
    " SELECT * FROM unnest($24::integer[], $25::integer[], $26::text[], $27::text[],"
    " $28::timestamptz[], $29::boolean[], $30::double precision[])),"
    " samples AS (INSERT INTO meter_values (charge_point_id, evse_id, connector_id,"
    " transaction_pk, at, kind, value) SELECT * FROM unnest($31::citext[], $32::integer[],"
    " $33::integer[], $34::integer[], $35::timestamptz[], $36::integer[], $37::text[])"
    " ON CONFLICT DO NOTHING),"
    " profiles AS (DELETE FROM charging_profiles p USING unnest($38::citext[], $39::text[])"
    " AS d (charge_point_id, transaction_id) WHERE p.charge_point_id = d.charge_point_id"
    " AND p.purpose = 'TxProfile' AND p.transaction_id = d.transaction_id),"
    " reservations AS (UPDATE reservations r SET status = 'used', ended_at = d.at"
    " FROM unnest($40::citext[], $41::integer[], $42::timestamptz[])"
    " AS d (charge_point_id, reservation_id, at) WHERE r.charge_point_id = d.charge_point_id"
    " AND r.reservation_id = d.reservation_id AND r.status = 'active')"
    " SELECT 1"
)


def transaction(row: asyncpg.Record) -> Transaction:
    return transaction_from_row(row, unchanged)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows → one list per column, for unnest()."""
    return [[row[i] for row in rows] for i in range(width)] if rows else [[]] * width


@dataclass
class _Slot:
    """One transaction a batch touches: as loaded or created, then as the messages leave it."""

    tx: Transaction
    new: bool
    dirty: bool = False

    def pk(self) -> int:
        assert self.tx.pk, "a new transaction gets its key when it is inserted"
        return self.tx.pk


@dataclass
class _Saves:
    """What step 3 writes, gathered while the messages are applied."""

    events: list[tuple[_Slot, TransactionEvent]] = field(default_factory=list)
    samples: list[tuple[str, int, int, _Slot | None, MeterSample, int]] = field(
        default_factory=list
    )
    profiles: list[tuple[str, str]] = field(default_factory=list)
    reservations: list[tuple[str, int, datetime]] = field(default_factory=list)


class _Conflicted(Exception):
    """Another writer created a transaction this batch was creating."""


class TransactionWrite(CombinedWrite):
    """A StartTransaction, StopTransaction or TransactionEvent with its samples."""

    def __init__(
        self,
        message: TransactionStart | TransactionStop | TransactionEvent,
        samples: Sequence[MeterSample],
        kinds: Sequence[int],
    ) -> None:
        self.message = message
        self.samples = samples
        self.kinds = kinds

    @classmethod
    async def run_together(cls, conn: asyncpg.Connection, writes: list[Any]) -> list[Any]:
        for _ in range(3):
            try:
                return await _apply(conn, writes)
            except _Conflicted:
                if len(writes) > 1:
                    raise  # the batch runs each write alone, in a savepoint
                # Alone: nothing was written; load again and apply to what the other created.
        raise RuntimeError("a transaction kept being created by another writer")


def _pair(cp_id: str, transaction_id: str) -> tuple[str, str]:
    return (cp_id.lower(), transaction_id)


async def _apply(conn: asyncpg.Connection, writes: list[TransactionWrite]) -> list[Any]:
    keys = [start_key(w.message) for w in writes if isinstance(w.message, TransactionStart)]
    named = [
        (w.message.charge_point_id, w.message.transaction_id)
        for w in writes
        if not isinstance(w.message, TransactionStart)
    ]
    by_start: dict[str, _Slot] = {}
    by_pair: dict[tuple[str, str], _Slot] = {}
    for row in await conn.fetch(_LOAD, keys, [n[0] for n in named], [n[1] for n in named]):
        slot = _Slot(transaction(row), new=False)
        by_pair[_pair(slot.tx.charge_point_id, slot.tx.transaction_id)] = slot
        if slot.tx.start_key is not None:
            by_start[slot.tx.start_key] = slot

    saves = _Saves()
    created: list[_Slot] = []
    results: list[Any] = []
    for w in writes:
        message, samples = w.message, list(zip(w.samples, w.kinds, strict=True))
        if isinstance(message, TransactionStart):
            key = start_key(message)
            replayed = by_start.get(key)
            if replayed is not None:
                results.append((replayed, None, False))
                continue
            slot = by_start[key] = _Slot(new_from_start(message), new=True)
            created.append(slot)
            if message.reservation_id is not None:
                saves.reservations.append(
                    (message.charge_point_id, message.reservation_id, message.started_at)
                )
            _attach(saves, slot, samples)
            results.append((slot, None, True))
        elif isinstance(message, TransactionStop):
            stopped = by_pair.get(_pair(message.charge_point_id, message.transaction_id))
            if stopped is None:
                # Unknown id (1.6 chargers send -1 when they never got one): still keep its
                # meter data, unattached, rather than lose billing evidence.
                saves.samples.extend(
                    (message.charge_point_id, 0, 0, None, sample, kind) for sample, kind in samples
                )
                results.append(None)
                continue
            slot = stopped
            outcome = apply_stop(slot.tx, message)
            if outcome.ended:
                slot.tx, slot.dirty = outcome.transaction, True
                saves.profiles.append((slot.tx.charge_point_id, slot.tx.transaction_id))
            # Samples of a replayed stop are skipped by the meter values' unique key.
            _attach(saves, slot, samples)
            results.append((slot, outcome.transaction, outcome))
        else:
            pair = _pair(message.charge_point_id, message.transaction_id)
            known = by_pair.get(pair)
            event_outcome = apply_event(None if known is None else known.tx, message)
            if event_outcome.duplicate:
                results.append((known, event_outcome.transaction, event_outcome))
                continue
            if known is None:
                slot = by_pair[pair] = _Slot(event_outcome.transaction, new=True)
                created.append(slot)
            else:
                slot = known
                slot.tx, slot.dirty = event_outcome.transaction, True
            saves.events.append((slot, message))
            tx = event_outcome.transaction
            if event_outcome.ended:
                saves.profiles.append((tx.charge_point_id, tx.transaction_id))
            if message.reservation_id is not None:
                saves.reservations.append(
                    (tx.charge_point_id, message.reservation_id, message.timestamp)
                )
            _attach(saves, slot, samples)
            results.append((slot, tx, event_outcome))

    await _insert_created(conn, created)
    await _save(conn, [s for s in by_pair.values() if s.dirty and not s.new], saves)
    return [_result(w, r) for w, r in zip(writes, results, strict=True)]


def _attach(saves: _Saves, slot: _Slot, samples: list[tuple[MeterSample, int]]) -> None:
    """Samples belong to the EVSE and connector of their transaction, as it is now."""
    tx = slot.tx
    saves.samples.extend(
        (tx.charge_point_id, tx.evse_id, tx.connector_id, slot, s, k) for s, k in samples
    )


async def _insert_created(conn: asyncpg.Connection, created: list[_Slot]) -> None:
    if not created:
        return
    rows = [(s.tx.transaction_id, *transaction_values(s.tx, unchanged)) for s in created]
    inserted = await conn.fetch(_INSERT, *_columns(rows, len(TRANSACTION_SAVED) + 1))
    if len(inserted) < len(created):
        raise _Conflicted
    keys: dict[str | tuple[str, str], tuple[int, str]] = {}
    for pk, transaction_id, key, cp_id in inserted:
        keys[key if key is not None else _pair(cp_id, transaction_id)] = (pk, transaction_id)
    for slot in created:
        tx = slot.tx
        pk, transaction_id = keys[
            tx.start_key
            if tx.start_key is not None
            else _pair(tx.charge_point_id, tx.transaction_id)
        ]
        slot.tx = replace(tx, pk=pk, transaction_id=transaction_id)


async def _save(conn: asyncpg.Connection, updated: list[_Slot], saves: _Saves) -> None:
    if not (updated or saves.events or saves.samples or saves.profiles or saves.reservations):
        return
    update_rows = [(s.pk(), *transaction_values(s.tx, unchanged)) for s in updated]
    event_rows = [
        (
            slot.pk(),
            e.seq_no,
            e.event_type,
            e.trigger_reason,
            e.timestamp,
            e.offline,
            e.energy_register_wh,
        )
        for slot, e in saves.events
    ]
    sample_rows = [
        (cp, evse, connector, None if slot is None else slot.pk(), s.timestamp, kind, s.value)
        for cp, evse, connector, slot, s, kind in saves.samples
    ]
    await conn.execute(
        _SAVE,
        *_columns(update_rows, len(TRANSACTION_SAVED) + 1),
        *_columns(event_rows, 7),
        *_columns(sample_rows, 7),
        *_columns(saves.profiles, 2),
        *_columns(saves.reservations, 3),
    )


def _result(write: TransactionWrite, result: Any) -> Any:
    """What the repository method returns, now that new transactions have their keys."""
    if isinstance(write.message, TransactionStart):
        slot, _, created = result
        return slot.tx, created
    if result is None:
        return None
    slot, tx, outcome = result
    if slot is not None and slot.new:
        # Created in this batch: the state the message left, with the key it was given.
        tx = replace(tx, pk=slot.tx.pk, transaction_id=slot.tx.transaction_id)
    if isinstance(outcome, StopOutcome):
        return replace(outcome, transaction=tx)
    assert isinstance(outcome, EventOutcome)
    return replace(outcome, transaction=tx)


_SampleKey = tuple[str, int, int, datetime, int]


class MeterValuesWrite(CombinedWrite):
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
    async def run_together(cls, conn: asyncpg.Connection, writes: list[Any]) -> list[Any]:
        # The transactions named and those running on the chargers concerned, in one query;
        # which one owns a message's samples is the domain's rule.
        naming = [w for w in writes if w.transaction_id is not None]
        rows = await conn.fetch(
            _CANDIDATES,
            list({w.cp_id for w in writes}),
            [w.cp_id for w in naming],
            [w.transaction_id for w in naming],
        )
        by_charger: dict[str, list[Transaction]] = {}
        for row in rows:
            tx = transaction(row)
            by_charger.setdefault(tx.charge_point_id.lower(), []).append(tx)
        sample_rows: list[tuple[Any, ...]] = []
        first_writer: dict[_SampleKey, int] = {}
        for index, w in enumerate(writes):
            candidates = by_charger.get(w.cp_id.lower(), [])
            named = next((t for t in candidates if t.transaction_id == w.transaction_id), None)
            owner = owner_of_samples(named, candidates, w.evse_id, w.connector_id)
            for sample, kind, key in zip(w.samples, w.kinds, w.keys(), strict=True):
                first_writer.setdefault(key, index)
                sample_rows.append(
                    (
                        w.cp_id,
                        w.evse_id,
                        w.connector_id,
                        None if owner is None else owner.pk,
                        sample.timestamp,
                        kind,
                        sample.value,
                    )
                )
        added = [0] * len(writes)
        if not sample_rows:
            return added
        inserted = await conn.fetch(
            "INSERT INTO meter_values (charge_point_id, evse_id, connector_id, transaction_pk,"
            " at, kind, value) SELECT * FROM unnest($1::citext[], $2::integer[], $3::integer[],"
            " $4::integer[], $5::timestamptz[], $6::integer[], $7::text[])"
            " ON CONFLICT DO NOTHING"
            " RETURNING lower(charge_point_id), evse_id, connector_id, at, kind",
            *_columns(sample_rows, 7),
        )
        for row in inserted:
            added[first_writer[tuple(row)]] += 1
        return added
