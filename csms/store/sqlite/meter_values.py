"""Meter samples: stored once each, compactly (time in ms, the sample's kind interned)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from csms.domain.errors import NotFound
from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged, paged
from csms.store.rows import SAMPLE_COLUMNS, sample_from_row
from csms.store.sample_kinds import KindKey, SampleKinds
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import epoch_ms, from_epoch_ms

__all__ = ["insert_samples", "list_samples", "sample_kinds"]

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
