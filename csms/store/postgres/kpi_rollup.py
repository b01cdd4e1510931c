"""The KPI roll-up on PostgreSQL (ADR 009): rows per charger and UTC day with their hourly
checkpoints, written from the day's history, read back per window
(csms.store.postgres.kpi_window) or summed over whole days.

A round's batch runs beside the writer in a transaction of its own (``write_apart``), holding
the advisory lock ROLLUP_LOCK exclusively while it reads the days' history, computes them with
csms.domain.kpi_hours and writes the rows. A late change's invalidation takes the same lock
shared (csms.store.postgres.history): it waits for the batch and then deletes its rows, or the
batch waits for the change's commit and then reads it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

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
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.history import ROLLUP_LOCK, charger_scope, read_pieces
from csms.store.postgres.kpi_window import prune_changes, read_frontier, read_window

__all__ = ["PostgresKpiRollup"]

_DAY = timedelta(days=1)
# Rows of whole days: today's row, covering the day up to the last round, is not one.
_WHOLE = "(hours IS NULL OR hours = 24)"


def _same(value: Any) -> Any:
    """asyncpg returns dates and aware datetimes as they are."""
    return value


_ANALYZE_AFTER = 1000
"""Rows written before the roll-up's tables are analysed again: at least this many, and a tenth
of what they held at the last analysis (autovacuum's own rule, with its threshold raised)."""


_PRUNE_AFTER = 100
"""Batches between two prunings of the change entries (a few each: a day's round is about 200
batches)."""


class PostgresKpiRollup:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        # PostgreSQL plans from table statistics, and keeps the plans of the foreign-key checks
        # for the connection's life. Planned while kpi_days was empty (a new database, or one
        # emptied) and never analysed since (autovacuum off, or not yet round), the check of each
        # kpi_day_downtime row scanned the whole of kpi_days: a first roll-up of 10,000
        # chargers' week went quadratic, about 90 rows a second. So the roll-up analyses its own
        # tables as it fills them, whatever autovacuum does; an analysis invalidates the plans.
        self._unanalysed = 0
        self._analysed_rows = 0
        self._reads = WindowCache()
        self._unpruned = 0  # batches since the change entries were last pruned

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
        scope, scope_arg = charger_scope(cp_id, site_ids, cp_ids)

        async def read(conn: asyncpg.Connection) -> list[RolledUp]:
            # The chargers in the order KpiService's interval path lists them (by id), each
            # with its range's first and last row: for nearly all, the rows of the range's
            # first and last day, looked up directly.
            sums = [
                tuple(row)
                for row in await conn.fetch(
                    f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                    " LEFT JOIN kpi_days hi ON hi.charge_point_id = cp.id AND hi.day = $2"
                    f" AND {_WHOLE.replace('hours', 'hi.hours')}"
                    " LEFT JOIN kpi_days lo ON lo.charge_point_id = cp.id AND lo.day = $1"
                    f" WHERE {scope.format(n=3)} ORDER BY cp.id",
                    first,
                    end - _DAY,
                    scope_arg,
                )
            ]
            # The others (registered inside the range, not rolled up to its end): their first
            # and last row in the range, wherever they are.
            others = [row[0] for row in sums if row[4] is None]
            if others:
                found = {
                    row[0].lower(): tuple(row)
                    for row in await conn.fetch(
                        f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                        " JOIN LATERAL (SELECT * FROM kpi_days WHERE charge_point_id = cp.id"
                        f"  AND day >= $1 AND day < $2 AND {_WHOLE}"
                        "  ORDER BY day DESC LIMIT 1) hi ON true"
                        " JOIN LATERAL (SELECT * FROM kpi_days WHERE charge_point_id = cp.id"
                        f"  AND day >= $1 AND day < $2 AND {_WHOLE}"
                        "  ORDER BY day LIMIT 1) lo ON true"
                        " WHERE cp.id = ANY($3::citext[])",
                        first,
                        end,
                        others,
                    )
                }
                sums = [found.get(row[0].lower(), row) if row[4] is None else row for row in sums]
            mixed = [row[0] for row in sums if row[4] is not None and row[7] is None]
            by_sockets = []
            if mixed:
                by_sockets = await conn.fetch(
                    "SELECT charge_point_id, sockets, sum(all_down_us)::bigint FROM kpi_days"
                    f" WHERE day >= $1 AND day < $2 AND {_WHOLE}"
                    " AND charge_point_id = ANY($3::citext[])"
                    " GROUP BY charge_point_id, sockets",
                    first,
                    end,
                    mixed,
                )
            downs = []
            if downtime:
                # Not today's: a partial row is the charger's last, never inside a range read.
                downs = await conn.fetch(
                    "SELECT d.charge_point_id, evse_id, connector_id, sum(down_us)::bigint"
                    " FROM kpi_day_downtime d JOIN kpi_days k USING (charge_point_id, day)"
                    f" WHERE d.day >= $1 AND d.day < $2 AND {_WHOLE} AND d.charge_point_id"
                    f" IN (SELECT id FROM charge_points WHERE {scope.format(n=3)})"
                    " GROUP BY d.charge_point_id, evse_id, connector_id",
                    first,
                    end,
                    scope_arg,
                )
            return rolled_up(
                sums,
                (tuple(row) for row in by_sockets),
                (tuple(row) for row in downs),
                _same,
                _same,
            )

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
        async def read(conn: asyncpg.Connection) -> list[RollupProgress]:
            # The rows without checkpoints through their partial index: none once rewritten.
            rows = await conn.fetch(
                "SELECT id, created_at,"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= $1),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= $1),"
                " (SELECT coalesce(hours, 24) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  ORDER BY day DESC LIMIT 1),"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  AND hours IS NULL AND day >= $1),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id"
                "  AND hours IS NULL AND day >= $1)"
                " FROM charge_points cp",
                first,
            )
            return [
                RollupProgress(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    24 if r[4] is None else r[4],
                    None if r[5] is None else (r[5], r[6]),
                )
                for r in rows
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

        async def op(conn: asyncpg.Connection) -> int:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ROLLUP_LOCK)
            written = 0
            for (since, days), cp_ids in groups.items():
                written += await _roll_up(conn, cp_ids, since, days, first, now)
            return written

        result: int = await self._db.write_apart(op)
        self._unanalysed += result
        if self._unanalysed >= max(_ANALYZE_AFTER, self._analysed_rows // 10):
            self._unanalysed = 0
            self._analysed_rows = await self._db.read(_analyze)
        self._unpruned += 1
        if self._unpruned >= _PRUNE_AFTER:
            self._unpruned = 0
            await self._db.write_apart(prune_changes)
        return result

    async def hold_horizon(self, now: datetime) -> bool:
        async def read(conn: asyncpg.Connection) -> tuple[date | None, int | None]:
            found = await conn.fetchrow(
                "SELECT day, max(coalesce(hours, 24)) FROM kpi_days"
                " WHERE day = (SELECT max(day) FROM kpi_days) GROUP BY day"
            )
            return (None, None) if found is None else (found[0], found[1])

        latest, hours = await self._db.read(read)
        before = day_start(day_of(now)) + hours_of(day_of(now), now) * HOUR
        if latest is not None and hours is not None:
            before = max(before, day_start(latest) + hours * HOUR)
        return HORIZON.extend(before)


async def _analyze(conn: asyncpg.Connection) -> int:
    """Fresh statistics for the roll-up's tables; how many rows kpi_days holds, as estimated."""
    await conn.execute("ANALYZE kpi_days, kpi_day_downtime")
    rows = await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'kpi_days'::regclass")
    return max(0, int(rows))


def _reach(run: RollupRun, now: datetime) -> datetime:
    """Where the rows of a run end: its last day's end, or the hour a partial one reaches."""
    last = run.first + (run.days - 1) * _DAY
    return day_start(last) + hours_of(last, now) * HOUR


async def _roll_up(
    conn: asyncpg.Connection,
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
    end = _reach(RollupRun("", since, days), now)
    histories = await read_pieces(conn, cp_ids, start=day_start(since), end=end)
    before = {
        row[0].lower(): running_after(tuple(row)[1:])
        for row in await conn.fetch(
            f"SELECT charge_point_id, {RUNNING_COLUMNS} FROM kpi_days WHERE day = $1"
            f" AND {_WHOLE} AND charge_point_id = ANY($2::citext[])",
            since - _DAY,
            cp_ids,
        )
    }
    ids: list[str] = []
    dates: list[date] = []
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
            counted = day_hours(piece, day, hours_of(day, now), now)
            row, downs, running = day_rows(history.charge_point_id, day, counted, running, None)
            if day >= recent:
                newest.append(
                    (history.charge_point_id, history.registered_at, stored_at(day, row, counted))
                )
            ids.append(history.charge_point_id)
            dates.append(day)
            rows.append(row)
            downtime.extend(downs)
    await conn.execute(
        "DELETE FROM kpi_days k USING unnest($1::citext[], $2::date[]) AS d (id, day)"
        " WHERE k.charge_point_id = d.id AND k.day = d.day",
        ids,
        dates,
    )
    await conn.copy_records_to_table("kpi_days", records=rows, columns=list(COLUMNS))
    if downtime:
        await conn.copy_records_to_table(
            "kpi_day_downtime",
            records=downtime,
            columns=["charge_point_id", "day", "evse_id", "connector_id", "down_us"],
        )
    if newest:
        await _weeks(conn, newest)
    return len(rows)


async def _weeks(conn: asyncpg.Connection, newest: list[tuple[str, datetime, RowAt]]) -> None:
    """The week the newest rows (just written) end (csms.domain.kpi_window.Week), from the
    rows of a week before and the downtime between, as they are now stored."""
    by_day: dict[date, list[tuple[str, datetime, RowAt]]] = {}
    for entry in newest:
        by_day.setdefault(entry[2].day, []).append(entry)
    updates: list[tuple[object, ...]] = []
    for day, entries in by_day.items():
        ids = [cp_id for cp_id, _, _ in entries]
        first = {
            row[0].lower(): row_at(tuple(row)[2:], day - WEEK)
            for row in await conn.fetch(
                f"SELECT {WEEK_SOURCE} FROM kpi_days WHERE day = $1"
                " AND charge_point_id = ANY($2::citext[])",
                day - WEEK,
                ids,
            )
        }
        lost: dict[str, dict[tuple[int, int], int]] = {}
        for cp, evse_id, connector_id, value in await conn.fetch(
            "SELECT charge_point_id, evse_id, connector_id, sum(down_us)::bigint"
            " FROM kpi_day_downtime WHERE day >= $1 AND day < $2"
            " AND charge_point_id = ANY($3::citext[])"
            " GROUP BY charge_point_id, evse_id, connector_id",
            day - WEEK,
            day,
            ids,
        ):
            lost.setdefault(cp.lower(), {})[(evse_id, connector_id)] = value
        for cp_id, registered, row in entries:
            key = cp_id.lower()
            updates.append((*week_of(row, first.get(key), registered, lost.get(key)), cp_id, day))
    sets = ", ".join(f"{c} = ${n}" for n, c in enumerate(WEEK_COLUMNS, 1))
    await conn.executemany(
        f"UPDATE kpi_days SET {sets} WHERE charge_point_id = ${len(WEEK_COLUMNS) + 1}"
        f" AND day = ${len(WEEK_COLUMNS) + 2}",
        updates,
    )
