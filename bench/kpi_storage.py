"""What the KPI roll-up's rows take on disk in a SQLite store (python -m bench.kpis)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from csms.store.kpi_rollup_rows import COLUMNS, WEEK_COLUMNS

__all__ = ["storage"]


def storage(path: Path) -> dict[str, object]:
    """What the roll-up's rows take: bytes per row of ``kpi_days`` on disk (pages, indexes
    aside), of that the checkpoints' columns (the week's too), and the new history indexes."""
    conn = sqlite3.connect(path)
    try:
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        rows = conn.execute("SELECT count(*) FROM kpi_days").fetchone()[0]
        columns = [c for c in (*COLUMNS, *WEEK_COLUMNS) if c not in COLUMNS[:11]]
        checkpoints = sum(
            _record_bytes(value)
            for values in conn.execute(f"SELECT {', '.join(columns)} FROM kpi_days")
            for value in values
        )
    finally:
        conn.close()
    per_row = sizes["kpi_days"] / rows
    return {
        "kpi_days_rows": rows,
        "kpi_days_bytes_per_row": round(per_row, 1),
        "checkpoint_bytes_per_row": round(checkpoints / rows, 1),
        "kpi_days_gb_10000_x_400": round(per_row * 10_000 * 400 / 1e9, 2),
        "checkpoints_gb_10000_x_400": round(checkpoints / rows * 10_000 * 400 / 1e9, 2),
        "history_from_indexes_mb": round(
            (sizes["status_history_from"] + sizes["connection_history_from"]) / 1e6, 1
        ),
    }


def _record_bytes(value: object) -> int:
    """A value's bytes in a SQLite record: its header byte and its body (text: short)."""
    if value is None or value in (0, 1):
        return 1
    if isinstance(value, int):
        bits = abs(value).bit_length() + 1
        return 1 + next(n for n in (1, 2, 3, 4, 6, 8) if bits <= 8 * n)
    return 1 + len(str(value).encode())
