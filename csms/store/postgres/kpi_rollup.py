"""The KPI roll-up on PostgreSQL (ADR 009): rows per charger and UTC day, written from the day's
history, read back summed per charger.

A round's batch runs beside the writer in a transaction of its own (``write_apart``), holding
the advisory lock ROLLUP_LOCK exclusively while it reads the days' history, computes them with
csms.domain.kpi_tally and writes the rows. A late change's invalidation takes the same lock
shared (csms.store.postgres.history): it waits for the batch and then deletes its rows, or the
batch waits for the change's commit and then reads it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

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
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.history import ROLLUP_LOCK, charger_scope, read_histories

__all__ = ["PostgresKpiRollup"]

_DAY = timedelta(days=1)


def _same(value: Any) -> Any:
    """asyncpg returns dates and aware datetimes as they are."""
    return value


class PostgresKpiRollup:
    def __init__(self, db: PostgresDatabase) -> None:
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
        scope, scope_arg = charger_scope(cp_id, site_ids)

        async def read(conn: asyncpg.Connection) -> list[RolledUp]:
            # The chargers as KpiService's interval path lists them (the same scan of
            # charge_points, the same order), each with its range's first and last row: for
            # nearly all, the rows of the range's first and last day, looked up directly.
            sums = [
                tuple(row)
                for row in await conn.fetch(
                    f"SELECT cp.id, cp.created_at, {SUMS} FROM charge_points cp"
                    " LEFT JOIN kpi_days hi ON hi.charge_point_id = cp.id AND hi.day = $2"
                    " LEFT JOIN kpi_days lo ON lo.charge_point_id = cp.id AND lo.day = $1"
                    f" WHERE {scope.format(n=3)}",
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
                        "  AND day >= $1 AND day < $2 ORDER BY day DESC LIMIT 1) hi ON true"
                        " JOIN LATERAL (SELECT * FROM kpi_days WHERE charge_point_id = cp.id"
                        "  AND day >= $1 AND day < $2 ORDER BY day LIMIT 1) lo ON true"
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
                    " WHERE day >= $1 AND day < $2 AND charge_point_id = ANY($3::citext[])"
                    " GROUP BY charge_point_id, sockets",
                    first,
                    end,
                    mixed,
                )
            downs = []
            if downtime:
                downs = await conn.fetch(
                    "SELECT charge_point_id, evse_id, connector_id, sum(down_us)::bigint"
                    " FROM kpi_day_downtime WHERE day >= $1 AND day < $2 AND charge_point_id"
                    f" IN (SELECT id FROM charge_points WHERE {scope.format(n=3)})"
                    " GROUP BY charge_point_id, evse_id, connector_id",
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

    async def progress(self, *, first: date) -> list[RollupProgress]:
        async def read(conn: asyncpg.Connection) -> list[RollupProgress]:
            rows = await conn.fetch(
                "SELECT id, created_at,"
                " (SELECT min(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= $1),"
                " (SELECT max(day) FROM kpi_days k WHERE k.charge_point_id = cp.id AND day >= $1)"
                " FROM charge_points cp",
                first,
            )
            return [RollupProgress(r[0], r[1], r[2], r[3]) for r in rows]

        return await self._db.read(read)

    async def roll_up(self, runs: Sequence[RollupRun], *, first: date, now: datetime) -> int:
        if not runs:
            return 0
        # Past every day written, before writing it: a late change to one of them now deletes.
        HORIZON.extend(day_start(max(run.first + run.days * _DAY for run in runs)))
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
        return result

    async def hold_horizon(self, today: date) -> bool:
        async def read(conn: asyncpg.Connection) -> date | None:
            found: date | None = await conn.fetchval("SELECT max(day) FROM kpi_days")
            return found

        latest = await self._db.read(read)
        before = today if latest is None else max(today, latest + _DAY)
        return HORIZON.extend(day_start(before))


async def _roll_up(
    conn: asyncpg.Connection,
    cp_ids: list[str],
    since: date,
    days: int,
    first: date,
    now: datetime,
) -> int:
    """Days ``since`` to ``since + days`` of these chargers: each charger's only if they extend
    its rows as one run (the day before is there, or ``since`` is its first day); a late change
    may have deleted that day since the round looked."""
    scope, scope_arg = charger_scope(cp_ids=cp_ids)
    histories = await read_histories(
        conn, scope, scope_arg, start=day_start(since), end=day_start(since + days * _DAY)
    )
    before = {
        row[0].lower(): running_after(tuple(row)[1:])
        for row in await conn.fetch(
            f"SELECT charge_point_id, {RUNNING_COLUMNS} FROM kpi_days WHERE day = $1"
            " AND charge_point_id = ANY($2::citext[])",
            since - _DAY,
            cp_ids,
        )
    }
    ids: list[str] = []
    dates: list[date] = []
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
            row, downs, running = day_rows(
                history.charge_point_id,
                day,
                tally(piece, day_start(day), day_start(day + _DAY), now),
                running,
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
    await conn.copy_records_to_table(
        "kpi_days",
        records=rows,
        columns=[
            "charge_point_id",
            "day",
            "measured_us",
            "connected_us",
            "sockets",
            "all_down_us",
            "run_days",
            "run_measured_us",
            "run_connected_us",
            "set_run",
            "run_all_down_us",
        ],
    )
    if downtime:
        await conn.copy_records_to_table(
            "kpi_day_downtime",
            records=downtime,
            columns=["charge_point_id", "day", "evse_id", "connector_id", "down_us"],
        )
    return len(rows)
