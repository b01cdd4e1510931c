"""Meter samples: stored once each, compactly (time in ms, the sample's kind interned)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from csms.domain.errors import Invalid, NotFound
from csms.domain.models import MeterSample, StoredSample
from csms.domain.paging import Page, Paged, paged
from csms.store.rows import SAMPLE_COLUMNS, STORED_SAMPLE_ORDER, sample_from_row, stored_sample
from csms.store.sample_kinds import KindKey, SampleKinds
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import epoch_ms, from_epoch_ms, json_text

__all__ = ["insert_samples", "list_samples", "query_samples", "sample_kinds"]

_BEFORE_ALL = -(2**62)  # earlier than any sample time


def sample_kinds(db: SqliteDatabase) -> SampleKinds:
    return SampleKinds(
        lambda: db.read(_read_kinds),
        lambda keys: db.write(lambda conn: _intern(conn, keys)),
    )


def _read_kinds(conn: sqlite3.Connection) -> dict[KindKey, int]:
    return {
        (r[1], r[2], r[3], r[4], r[5], r[6]): r[0]
        for r in conn.execute(
            "SELECT id, measurand, phase, unit, context, location, format FROM sample_kinds"
        )
    }


def _intern(conn: sqlite3.Connection, keys: list[KindKey]) -> dict[KindKey, int]:
    conn.executemany(
        "INSERT OR IGNORE INTO sample_kinds (measurand, phase, unit, context, location, format)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        keys,
    )
    found = _read_kinds(conn)
    return {k: found[k] for k in keys}


def insert_samples(
    conn: sqlite3.Connection,
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
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO meter_values (charge_point_id, evse_id, connector_id,"
        " transaction_pk, at, kind, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (cp_id, evse_id, connector_id, transaction_pk, epoch_ms(s.timestamp), kind, s.value)
            for s, kind in zip(samples, kinds, strict=True)
        ],
    )
    return conn.total_changes - before


def list_samples(
    conn: sqlite3.Connection, transaction_pk: int, page: Page[int]
) -> Paged[tuple[int, MeterSample]]:
    if (
        conn.execute("SELECT 1 FROM transactions WHERE pk = ?", (transaction_pk,)).fetchone()
        is None
    ):
        raise NotFound(f"transaction tx_{transaction_pk} not found")
    # Time order (ties by arrival). Samples can arrive out of time order, so the cursor is the
    # position (time, id) of the last sample returned, not its id alone.
    after = (_BEFORE_ALL, 0)
    if page.starting_after is not None:
        row = conn.execute(
            "SELECT at, id FROM meter_values WHERE id = ?", (page.starting_after,)
        ).fetchone()
        after = (_BEFORE_ALL, page.starting_after) if row is None else (row[0], row[1])
    rows = conn.execute(
        f"SELECT m.id, {SAMPLE_COLUMNS}"
        " FROM meter_values m JOIN sample_kinds k ON k.id = m.kind"
        " WHERE m.transaction_pk = ? AND (m.at, m.id) > (?, ?) ORDER BY m.at, m.id LIMIT ?",
        (transaction_pk, after[0], after[1], page.fetch),
    ).fetchall()
    return paged([(r[0], sample_from_row(r[1:], from_epoch_ms)) for r in rows], page)


_STORED = (
    f"SELECT m.id, m.charge_point_id, m.evse_id, m.connector_id, t.transaction_id, {SAMPLE_COLUMNS}"
    " FROM meter_values m JOIN sample_kinds k ON k.id = m.kind"
    " LEFT JOIN transactions t ON t.pk = m.transaction_pk"
)


def query_samples(
    conn: sqlite3.Connection,
    page: Page[int],
    *,
    start: datetime,
    end: datetime,
    cp_id: str | None,
    site_ids: Collection[str] | None,
    evse_id: int | None,
    measurand: str | None,
) -> Paged[StoredSample]:
    """TransactionStore.query_meter_values, in at most two ranges of meter_values_position: the
    rest of the cursor's charger after the cursor, then the chargers after it. SQLite walks an
    IN list on the index's first column in index order, so neither needs a sort."""
    if cp_id is not None and site_ids is not None:
        raise ValueError("cp_id and site_ids are exclusive")
    if site_ids is not None and not site_ids:
        return Paged([], False)
    filters = " AND m.at >= ? AND m.at < ?"
    params: list[Any] = [epoch_ms(start), epoch_ms(end)]
    if evse_id is not None:
        # The unary + keeps the planner from counting this as an index term, which made it
        # sort each moment's samples again (a temp B-tree for the right part of the ORDER BY).
        filters += " AND +m.evse_id = ?"
        params.append(evse_id)
    if measurand is not None:
        filters += " AND m.kind IN (SELECT id FROM sample_kinds WHERE measurand = ?)"
        params.append(measurand)
    sites = None if site_ids is None else json_text(sorted(site_ids))

    def fetch(where: str, args: list[Any], limit: int) -> list[StoredSample]:
        rows = conn.execute(
            f"{_STORED} WHERE {where}{filters} ORDER BY {STORED_SAMPLE_ORDER} LIMIT ?",
            [*args, *params, limit],
        ).fetchall()
        return [stored_sample(row, from_epoch_ms) for row in rows]

    def chargers_after(charger: str, limit: int) -> list[StoredSample]:
        if cp_id is not None:
            return fetch("m.charge_point_id = ?", [cp_id], limit)
        if sites is None:
            chosen, args = "id > ?", [charger]
        else:
            chosen, args = (
                "site_id IN (SELECT value FROM json_each(?)) AND id > ?",
                [sites, charger],
            )
        return fetch(
            f"m.charge_point_id IN (SELECT id FROM charge_points WHERE {chosen})", args, limit
        )

    found: list[StoredSample] = []
    after = ""  # before every charger id
    if page.starting_after is not None:
        if cp_id is not None:
            in_scope, scope_args = "charge_point_id = ?", [cp_id]
        else:
            in_scope = "EXISTS (SELECT 1 FROM charge_points c WHERE c.id = charge_point_id"
            in_scope += (
                ")" if sites is None else " AND c.site_id IN (SELECT value FROM json_each(?)))"
            )
            scope_args = [] if sites is None else [sites]
        cursor = conn.execute(
            f"SELECT charge_point_id, at, evse_id, connector_id, kind, {in_scope}"
            " FROM meter_values WHERE id = ?",
            [*scope_args, page.starting_after],
        ).fetchone()
        if cursor is None or not cursor[5]:
            raise Invalid(
                "startingAfter", f"no meter value {page.starting_after} of these chargers"
            )
        after = cursor[0]
        found = fetch(
            "m.charge_point_id = ? AND (m.at, m.evse_id, m.connector_id, m.kind) > (?, ?, ?, ?)",
            list(cursor[:5]),
            page.fetch,
        )
    # One charger: nothing follows its own range.
    if len(found) < page.fetch and (cp_id is None or page.starting_after is None):
        found += chargers_after(after, page.fetch - len(found))
    return paged(found, page)
