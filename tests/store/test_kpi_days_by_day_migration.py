"""SQLite 017 rebuilds kpi_days keyed by day first: every row and downtime row kept as it was,
the window's lookups on the day-first key, a charger's rows through its unique index, and the
foreign keys (downtime rows and a deleted charger's rows go with their parent) still in force."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from structlog.testing import capture_logs

from csms.store.sqlite import SqliteStore
from tests.store.old_schemas import old_sqlite
from tests.store.test_kpi_hours_migration import _old_rows


def _rows(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        days = conn.execute("SELECT * FROM kpi_days ORDER BY charge_point_id, day").fetchall()
        downs = conn.execute(
            "SELECT * FROM kpi_day_downtime ORDER BY charge_point_id, day, evse_id, connector_id"
        ).fetchall()
    finally:
        conn.close()
    return days, downs


async def test_rows_kept_and_keyed_by_day(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_sqlite(path, 17, _old_rows(None, None))
    days, downs = _rows(path)
    assert len(days) == 5 and downs  # the Faulted day has a socket's downtime
    store = SqliteStore(path)
    with capture_logs() as logs:  # an upgrade says what it does: this one may take minutes
        await store.open()
    await store.close()
    said = [(entry["event"], entry.get("version")) for entry in logs]
    assert ("applying schema migration", 17) in said
    assert ("schema migration applied", 17) in said

    assert _rows(path) == (days, downs)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        plan = " ".join(
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT cp.id, b.hours FROM charge_points cp"
                " LEFT JOIN kpi_days b ON b.charge_point_id = cp.id AND b.day = ?",
                [days[-1][1]],
            )
        )
        assert "PRIMARY KEY (day=? AND charge_point_id=?)" in plan
        plan = " ".join(
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT max(day) FROM kpi_days"
                " WHERE charge_point_id = 'cp-a' AND day >= 0"
            )
        )
        assert "kpi_days_charger" in plan
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # A kpi_days row takes its downtime rows with it; a charger takes its rows.
        faulted = downs[0][1]
        conn.execute("DELETE FROM kpi_days WHERE charge_point_id = 'cp-a' AND day = ?", [faulted])
        assert conn.execute("SELECT count(*) FROM kpi_day_downtime").fetchone()[0] == len(downs) - 1
        conn.execute("DELETE FROM charge_points WHERE id = 'CP-A'")
        assert conn.execute("SELECT count(*) FROM kpi_days").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM kpi_day_downtime").fetchone()[0] == 0
    finally:
        conn.close()
