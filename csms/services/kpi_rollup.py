"""The KPI roll-up task (ADR 009): keeps a row per charger and UTC day within the history
retention, with its hourly checkpoints, today's up to the current hour, so the KPIs over a week
read two rows per charger (those of the window's edges), not every interval.

A round rolls up every day missing and today up to the hour it began in: at start (after the
connections a stop left open were closed, so the history it reads is final), shortly after each
hour begins, and every ``interval`` seconds in between, which rolls up again the days a late
change invalidated; then it writes again, newest first, the rows a release before checkpoints
wrote. Work is bounded per write (``batch_days`` charger-days, each a transaction of its own
beside the writes chargers wait for), so a large network or a first catch-up over the whole
retention never holds the writer for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Final

from csms.domain.clock import Clock
from csms.domain.kpi_rollup import RollupRun, day_of, day_start, hours_of, missing_runs, stale_runs
from csms.log import get_logger
from csms.store.repositories import KpiRollupStore

__all__ = ["KpiRollup"]

log = get_logger(__name__)

_PASSES: Final = 3
"""A round looks again for missing days after writing (a late change may have deleted some
meanwhile), at most this many times."""

_PAST_THE_HOUR: Final = 1.0
_HOUR: Final = timedelta(hours=1)


class KpiRollup:
    def __init__(
        self,
        store: KpiRollupStore,
        clock: Clock,
        *,
        retention: timedelta,
        batch_days: int = 48,
        longest_run: int = 31,
        interval: float = 900.0,
        settle: float = 5.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._batch_days = batch_days
        self._longest_run = longest_run
        self._interval = interval
        self._settle = settle

    async def start(self) -> None:
        """Before chargers connect: a change before the current hour (or before the end of the
        latest rows stored) invalidates from now on, before the first round runs."""
        await self._store.hold_horizon(self._clock())

    async def run(self) -> None:
        while True:
            try:
                await self.roll_up()
            except Exception as exc:  # the next round tries again
                log.warning("kpi roll-up failed", error=repr(exc))
            await asyncio.sleep(self._until_next_round())

    async def roll_up(self) -> int:
        """Write every day missing, from the retention's first day to today up to the hour now
        is in, then the rows without checkpoints; how many rows were written."""
        now = self._clock()
        if await self._store.hold_horizon(now):
            # A new hour: a change stamped before it that passed the horizon's guard just
            # before it moved may still be committing. Read the hour once it has. The round
            # reaches that hour, not later: a later one would not have waited.
            await asyncio.sleep(self._settle)
        today = day_of(now)
        first = day_of(now - self._retention)
        written = 0
        for _ in range(_PASSES):
            progress = await self._store.progress(first=first)
            runs = missing_runs(
                progress, first, today, self._longest_run, partial=hours_of(today, now)
            )
            runs += stale_runs(progress, self._longest_run)
            if not runs:
                break
            for batch in _batches(runs, self._batch_days):
                written += await self._store.roll_up(batch, first=first, now=now)
        if written:
            log.info("kpi days rolled up", rows=written, through=str(now))
        return written

    def _until_next_round(self) -> float:
        now = self._clock()
        hour = day_start(day_of(now)) + (hours_of(day_of(now), now) + 1) * _HOUR
        return min(self._interval, (hour - now).total_seconds() + _PAST_THE_HOUR)


def _batches(runs: Sequence[RollupRun], days: int) -> Iterator[list[RollupRun]]:
    """Consecutive runs, about ``days`` charger-days a batch."""
    batch: list[RollupRun] = []
    size = 0
    for run in runs:
        batch.append(run)
        size += run.days
        if size >= days:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
