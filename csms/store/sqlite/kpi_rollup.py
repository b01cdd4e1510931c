"""The KPI roll-up on SQLite (ADR 009): rows per charger and UTC day, written from the day's
history, read back summed per charger. Days are counted since 1970-01-01.

A round's batch is one write of its own between the writer's batches (``write_background``):
it reads the days' history, computes them with csms.domain.kpi_tally and writes the rows in the
same transaction, so no change to that history can land between its read and its write."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from csms.domain.clock import parse_timestamp
from csms.domain.kpi_rollup import RolledUp, RollupProgress, RollupRun, day_of, day_start
from csms.domain.kpi_tally import split_by_day, tally
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.kpi_rollup_rows import (
    FIRST,
    RUNNING_COLUMNS,
    SUMS,
    day_rows,
    rolled_up,
    running_after,
)
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.history import (
    charger_scope,
    day_number,
    from_day_number,
    read_histories,
)
from csms.store.sqlite.values import json_text

__all__ = ["SqliteKpiRollup"]

_DAY = timedelta(days=1)
# A range's last and first row of the charger ``cp``, wherever they are.
_LAST = "(SELECT max(day) FROM kpi_days WHERE charge_point_id = cp.id AND day >= ? AND day < ?)"
_FIRST = "(SELECT min(day) FROM kpi_days WHERE charge_point_id = cp.id AND day >= ? AND day < ?)"


class SqliteKpiRollup:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def rolled_up(
        self,
        *,
        first: date,
        end: date,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        downtime: bool = True,
    ) -> list[RolledUp]:
        scope, scope_args = charger_scope(cp_id, site_ids)
        days = [day_number(first), day_number(end)]

        def read(conn: sqlite3.Connection) -> list[RolledUp]:
            # The chargers as KpiService's interval path lists them (the same scan of
            # charge_points, the same order), each with its range's first and last row: for
            # nearly all, the rows of the range's first and last day, looked up directly.
            sums = conn.execute(
                f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                " LEFT JOIN kpi_days hi ON hi.charge_point_id = cp.id AND hi.day = ?"
                " LEFT JOIN kpi_days lo ON lo.charge_point_id = cp.id AND lo.day = ?"
                f" WHERE {scope}",
                [days[1] - 1, days[0], *scope_args],
            ).fetchall()
            # The others (registered inside the range, not rolled up to its end): their first
            # and last row in the range, wherever they are.
            others = [row[0] for row in sums if row[4] is None]
            if others:
                found = {
                    row[0].lower(): row
                    for row in conn.execute(
                        f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                        f" JOIN kpi_days hi ON hi.charge_point_id = cp.id AND hi.day = {_LAST}"
                        f" JOIN kpi_days lo ON lo.charge_point_id = cp.id AND lo.day = {_FIRST}"
                        " WHERE cp.id IN (SELECT value FROM json_each(?))",
                        [*days, *days, json_text(others)],
                    )
                }
                sums = [found.get(row[0].lower(), row) if row[4] is None else row for row in sums]
            mixed = [row[0] for row in sums if row[4] is not None and row[7] is None]
            by_sockets = []
            if mixed:
                by_sockets = conn.execute(
                    "SELECT charge_point_id, sockets, sum(all_down_us) FROM kpi_days"
                    " WHERE day >= ? AND day < ? AND charge_point_id IN"
                    " (SELECT value FROM json_each(?)) GROUP BY charge_point_id, sockets",
                    [*days, json_text(mixed)],
                ).fetchall()
            downs = []
            if downtime:
                downs = conn.execute(
                    "SELECT charge_point_id, evse_id, connector_id, sum(down_us)"
                    " FROM kpi_day_downtime WHERE day >= ? AND day < ? AND charge_point_id IN"
                    f" (SELECT id FROM charge_points WHERE {scope})"
                    " GROUP BY charge_point_id, evse_id, connector_id",
                    [*days, *scope_args],
                ).fetchall()
            return rolled_up(sums, by_sockets, downs, parse_timestamp, from_day_number)

        return await self._db.read(read)

    async def progress(self, *, first: date) -> list[RollupProgress]:
        since = day_number(first)

        def read(conn: sqlite3.Connection) -> list[RollupProgress]:
            rows = conn.execute(
                "SELECT id, created_at,"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= ?),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= ?)"
                " FROM charge_points cp",
                (since, since),
            ).fetchall()
            return [
                RollupProgress(
                    cp,
                    parse_timestamp(created),
                    None if lo is None else from_day_number(lo),
                    None if hi is None else from_day_number(hi),
                )
                for cp, created, lo, hi in rows
            ]

        return await self._db.read(read)

    async def roll_up(self, runs: Sequence[RollupRun], *, first: date, now: datetime) -> int:
        if not runs:
            return 0
        # Past every day written, before writing it: a late change to one of them now deletes.
        HORIZON.extend(day_start(max(run.first + run.days * _DAY for run in runs)))
        groups: dict[tuple[date, int], list[str]] = {}
        for run in runs:
            groups.setdefault((run.first, run.days), []).append(run.charge_point_id)

        def op(conn: sqlite3.Connection) -> int:
            written = 0
            for (since, days), cp_ids in groups.items():
                written += _roll_up(conn, cp_ids, since, days, first, now)
            return written

        result: int = await self._db.write_background(op)
        return result

    async def hold_horizon(self, today: date) -> bool:
        def read(conn: sqlite3.Connection) -> int | None:
            found: int | None = conn.execute("SELECT max(day) FROM kpi_days").fetchone()[0]
            return found

        latest = await self._db.read(read)
        before = today if latest is None else max(today, from_day_number(latest) + _DAY)
        return HORIZON.extend(day_start(before))


def _roll_up(
    conn: sqlite3.Connection,
    cp_ids: list[str],
    since: date,
    days: int,
    first: date,
    now: datetime,
) -> int:
    """Days ``since`` to ``since + days`` of these chargers: each charger's only if they extend
    its rows as one run (the day before is there, or ``since`` is its first day); a late change
    may have deleted that day since the round looked."""
    scope, scope_args = charger_scope(cp_ids=cp_ids)
    histories = read_histories(
        conn,
        scope,
        scope_args,
        start=day_start(since),
        end=day_start(since + days * _DAY),
    )
    before = {
        row[0].lower(): running_after(row[1:])
        for row in conn.execute(
            f"SELECT charge_point_id, {RUNNING_COLUMNS} FROM kpi_days WHERE day = ?"
            " AND charge_point_id IN (SELECT value FROM json_each(?))",
            (day_number(since - _DAY), json_text(cp_ids)),
        )
    }
    keys: list[tuple[str, int]] = []
    rows: list[tuple[object, ...]] = []
    downtime: list[tuple[object, ...]] = []
    for history in histories:
        own = max(first, day_of(history.registered_at))
        running = before.get(history.charge_point_id.lower())
        if running is None:
            if since != own:
                continue
            running = FIRST
        for n, piece in enumerate(split_by_day(history, since, days)):
            day = since + n * _DAY
            number = day_number(day)
            row, downs, running = day_rows(
                history.charge_point_id,
                number,
                tally(piece, day_start(day), day_start(day + _DAY), now),
                running,
            )
            keys.append((history.charge_point_id, number))
            rows.append(row)
            downtime.extend(downs)
    conn.executemany("DELETE FROM kpi_days WHERE charge_point_id = ? AND day = ?", keys)
    conn.executemany(
        "INSERT INTO kpi_days (charge_point_id, day, measured_us, connected_us, sockets,"
        " all_down_us, run_days, run_measured_us, run_connected_us, set_run, run_all_down_us)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO kpi_day_downtime (charge_point_id, day, evse_id, connector_id, down_us)"
        " VALUES (?, ?, ?, ?, ?)",
        downtime,
    )
    return len(rows)
