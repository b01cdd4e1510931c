"""The KPI roll-up on SQLite (ADR 009): rows per charger and UTC day with their hourly
checkpoints, written from the day's history, read back per window (csms.store.sqlite.kpi_window)
or summed over whole days. Days are counted since 1970-01-01.

A round's batch is one write of its own between the writer's batches (``write_background``):
it reads the days' history, computes them with csms.domain.kpi_hours and writes the rows in the
same transaction, so no change to that history can land between its read and its write."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from csms.domain.clock import parse_timestamp
from csms.domain.kpi_hours import HOUR, day_hours, split_for_hours
from csms.domain.kpi_rollup import (
    RolledUp,
    RollupProgress,
    RollupRun,
    day_of,
    day_start,
    hours_of,
)
from csms.domain.kpi_window import WEEK, RowAt, Window, WindowRows, week_of
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.kpi_rollup_rows import (
    COLUMNS,
    FIRST,
    RUNNING_COLUMNS,
    SUMS,
    WEEK_COLUMNS,
    WEEK_SOURCE,
    day_rows,
    rolled_up,
    row_at,
    running_after,
    stored_at,
)
from csms.store.kpi_window_cache import WindowCache
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.history import (
    charger_scope,
    day_number,
    from_day_number,
    read_pieces,
)
from csms.store.sqlite.kpi_window import read_frontier, read_window
from csms.store.sqlite.values import json_text

__all__ = ["SqliteKpiRollup"]

_DAY = timedelta(days=1)
# Rows of whole days: today's row, covering the day up to the last round, is not one.
_WHOLE = "(hours IS NULL OR hours = 24)"
# A range's last and first whole day of the charger ``cp``, wherever they are.
_LAST = (
    "(SELECT max(day) FROM kpi_days WHERE charge_point_id = cp.id AND day >= ? AND day < ?"
    f" AND {_WHOLE})"
)
_FIRST = (
    "(SELECT min(day) FROM kpi_days WHERE charge_point_id = cp.id AND day >= ? AND day < ?"
    f" AND {_WHOLE})"
)


class SqliteKpiRollup:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._reads = WindowCache()

    async def rolled_up(
        self,
        *,
        first: date,
        end: date,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        cp_ids: Collection[str] | None = None,
        downtime: bool = True,
    ) -> list[RolledUp]:
        scope, scope_args = charger_scope(cp_id, site_ids, cp_ids)
        days = [day_number(first), day_number(end)]

        def read(conn: sqlite3.Connection) -> list[RolledUp]:
            # The chargers in the order KpiService's interval path lists them (by id), each
            # with its range's first and last row: for nearly all, the rows of the range's
            # first and last day, looked up directly.
            sums = conn.execute(
                f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                " LEFT JOIN kpi_days hi ON hi.charge_point_id = cp.id AND hi.day = ?"
                f" AND {_WHOLE.replace('hours', 'hi.hours')}"
                " LEFT JOIN kpi_days lo ON lo.charge_point_id = cp.id AND lo.day = ?"
                f" WHERE {scope} ORDER BY cp.id",
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
                    f" WHERE day >= ? AND day < ? AND {_WHOLE} AND charge_point_id IN"
                    " (SELECT value FROM json_each(?)) GROUP BY charge_point_id, sockets",
                    [*days, json_text(mixed)],
                ).fetchall()
            downs = []
            if downtime:
                # Not today's: a partial row is the charger's last, never inside a range read.
                downs = conn.execute(
                    "SELECT d.charge_point_id, evse_id, connector_id, sum(down_us)"
                    " FROM kpi_day_downtime d JOIN kpi_days k USING (charge_point_id, day)"
                    f" WHERE d.day >= ? AND d.day < ? AND {_WHOLE} AND d.charge_point_id IN"
                    f" (SELECT id FROM charge_points WHERE {scope})"
                    " GROUP BY d.charge_point_id, evse_id, connector_id",
                    [*days, *scope_args],
                ).fetchall()
            return rolled_up(sums, by_sockets, downs, parse_timestamp, from_day_number)

        return await self._db.read(read)

    async def frontier(self) -> list[tuple[date, int, int, int]]:
        return await self._db.read(read_frontier)

    async def window(
        self,
        window: Window,
        *,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        statuses: bool = True,
        downtime: bool = True,
    ) -> WindowRows:
        return await read_window(self._db, window, cp_id, site_ids, statuses, downtime, self._reads)

    async def progress(self, *, first: date) -> list[RollupProgress]:
        since = day_number(first)

        def read(conn: sqlite3.Connection) -> list[RollupProgress]:
            # The rows without checkpoints through their partial index: none once rewritten.
            rows = conn.execute(
                "SELECT id, created_at,"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= ?1),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= ?1),"
                " (SELECT coalesce(hours, 24) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  ORDER BY day DESC LIMIT 1),"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  AND hours IS NULL AND day >= ?1),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  AND hours IS NULL AND day >= ?1)"
                " FROM charge_points cp",
                (since,),
            ).fetchall()
            return [
                RollupProgress(
                    cp,
                    parse_timestamp(created),
                    None if lo is None else from_day_number(lo),
                    None if hi is None else from_day_number(hi),
                    24 if hours is None else hours,
                    None if old_lo is None else (from_day_number(old_lo), from_day_number(old_hi)),
                )
                for cp, created, lo, hi, hours, old_lo, old_hi in rows
            ]

        return await self._db.read(read)

    async def roll_up(self, runs: Sequence[RollupRun], *, first: date, now: datetime) -> int:
        if not runs:
            return 0
        # Past every hour written, before writing it: a late change to one of them now deletes.
        HORIZON.extend(max(_reach(run, now) for run in runs))
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

    async def hold_horizon(self, now: datetime) -> bool:
        def read(conn: sqlite3.Connection) -> tuple[int | None, int | None]:
            found = conn.execute(
                "SELECT day, max(coalesce(hours, 24)) FROM kpi_days"
                " WHERE day = (SELECT max(day) FROM kpi_days)"
            ).fetchone()
            return found[0], found[1]

        latest, hours = await self._db.read(read)
        before = _hour_start(now)
        if latest is not None and hours is not None:
            before = max(before, day_start(from_day_number(latest)) + hours * HOUR)
        return HORIZON.extend(before)


def _hour_start(now: datetime) -> datetime:
    today = day_start(day_of(now))
    return today + hours_of(day_of(now), now) * HOUR


def _reach(run: RollupRun, now: datetime) -> datetime:
    """Where the rows of a run end: its last day's end, or the hour a partial one reaches."""
    last = run.first + (run.days - 1) * _DAY
    return day_start(last) + hours_of(last, now) * HOUR


def _roll_up(
    conn: sqlite3.Connection,
    cp_ids: list[str],
    since: date,
    days: int,
    first: date,
    now: datetime,
) -> int:
    """Days ``since`` to ``since + days`` of these chargers (the last maybe partly, up to the
    hour of ``now``): each charger's only if they extend its rows as one run (the day before is
    there and whole, or ``since`` is its first day); a late change may have deleted that day
    since the round looked."""
    run = RollupRun("", since, days)
    histories = read_pieces(conn, cp_ids, start=day_start(since), end=_reach(run, now))
    before = {
        row[0].lower(): running_after(row[1:])
        for row in conn.execute(
            f"SELECT charge_point_id, {RUNNING_COLUMNS} FROM kpi_days WHERE day = ?"
            f" AND {_WHOLE} AND charge_point_id IN (SELECT value FROM json_each(?))",
            (day_number(since - _DAY), json_text(cp_ids)),
        )
    }
    keys: list[tuple[str, int]] = []
    rows: list[tuple[object, ...]] = []
    downtime: list[tuple[object, ...]] = []
    newest: list[tuple[str, datetime, RowAt]] = []
    recent = day_of(now) - _DAY
    for history in histories:
        own = max(first, day_of(history.registered_at))
        running = before.get(history.charge_point_id.lower())
        if running is None:
            if since != own:
                continue
            running = FIRST
        for n, piece in enumerate(split_for_hours(history, since, days)):
            day = since + n * _DAY
            number = day_number(day)
            counted = day_hours(piece, day, hours_of(day, now), now)
            row, downs, running = day_rows(history.charge_point_id, number, counted, running)
            if day >= recent:
                newest.append(
                    (history.charge_point_id, history.registered_at, stored_at(day, row, counted))
                )
            keys.append((history.charge_point_id, number))
            rows.append(row)
            downtime.extend(downs)
    conn.executemany("DELETE FROM kpi_days WHERE charge_point_id = ? AND day = ?", keys)
    conn.executemany(
        f"INSERT INTO kpi_days ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        rows,
    )
    conn.executemany(
        "INSERT INTO kpi_day_downtime (charge_point_id, day, evse_id, connector_id, down_us)"
        " VALUES (?, ?, ?, ?, ?)",
        downtime,
    )
    if newest:
        _weeks(conn, newest)
    return len(rows)


def _weeks(conn: sqlite3.Connection, newest: list[tuple[str, datetime, RowAt]]) -> None:
    """The week the newest rows (just written) end (csms.domain.kpi_window.Week), from the
    rows of a week before and the downtime between, as they are now stored."""
    by_day: dict[date, list[tuple[str, datetime, RowAt]]] = {}
    for entry in newest:
        by_day.setdefault(entry[2].day, []).append(entry)
    updates: list[tuple[object, ...]] = []
    for day, entries in by_day.items():
        ids = json_text([cp_id for cp_id, _, _ in entries])
        since, until = day_number(day - WEEK), day_number(day)
        first = {
            row[0].lower(): row_at(row[2:], day - WEEK)
            for row in conn.execute(
                f"SELECT {WEEK_SOURCE} FROM kpi_days WHERE day = ?"
                " AND charge_point_id IN (SELECT value FROM json_each(?))",
                (since, ids),
            )
        }
        lost: dict[str, dict[tuple[int, int], int]] = {}
        for cp, evse_id, connector_id, value in conn.execute(
            "SELECT charge_point_id, evse_id, connector_id, sum(down_us) FROM kpi_day_downtime"
            " WHERE day >= ? AND day < ? AND charge_point_id IN (SELECT value FROM json_each(?))"
            " GROUP BY charge_point_id, evse_id, connector_id",
            (since, until, ids),
        ):
            lost.setdefault(cp.lower(), {})[(evse_id, connector_id)] = value
        for cp_id, registered, row in entries:
            key = cp_id.lower()
            week = week_of(row, first.get(key), registered, lost.get(key))
            updates.append((*week, cp_id, until))
    conn.executemany(
        f"UPDATE kpi_days SET {', '.join(f'{c} = ?' for c in WEEK_COLUMNS)}"
        " WHERE charge_point_id = ? AND day = ?",
        updates,
    )
