"""The KPI roll-up task (ADR 009): keeps a row per charger and UTC day that has ended, within the
history retention, so the KPIs over a week read a row per charger and day, not every interval.

A round rolls up every day missing: at start (after the connections a stop left open were
closed, so the history it reads is final), shortly after each UTC midnight, and every
``interval`` seconds in between, which rolls up again the days a late change invalidated.
Work is bounded per write (``batch_days`` charger-days, each a transaction of its own beside the
writes chargers wait for), oldest days first, so a large network or a first catch-up over the
whole retention never holds the writer for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Final

from csms.domain.clock import Clock
from csms.domain.kpi_rollup import RollupRun, day_of, day_start, missing_runs
from csms.log import get_logger
from csms.store.repositories import KpiRollupStore

__all__ = ["KpiRollup"]

log = get_logger(__name__)

_PASSES: Final = 3
"""A round looks again for missing days after writing (a late change may have deleted some
meanwhile), at most this many times."""

_PAST_MIDNIGHT: Final = 1.0


class KpiRollup:
    def __init__(
        self,
        store: KpiRollupStore,
        clock: Clock,
        *,
        retention: timedelta,
        batch_days: int = 128,
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
        """Before chargers connect: a change before today (or before the day after the latest
        row stored) invalidates from now on, before the first round runs."""
        await self._store.hold_horizon(day_of(self._clock()))

    async def run(self) -> None:
        while True:
            try:
                await self.roll_up()
            except Exception as exc:  # the next round tries again
                log.warning("kpi roll-up failed", error=repr(exc))
            await asyncio.sleep(self._until_next_round())

    async def roll_up(self) -> int:
        """Write every day missing, from the retention's first day to yesterday; how many
        charger-days were written."""
        today = day_of(self._clock())
        if await self._store.hold_horizon(today):
            # A new day: a change stamped before midnight that passed the horizon's guard just
            # before it moved may still be committing. Read the day once it has.
            await asyncio.sleep(self._settle)
        now = self._clock()
        first = day_of(now - self._retention)
        written = 0
        for _ in range(_PASSES):
            progress = await self._store.progress(first=first)
            runs = missing_runs(progress, first, today, self._longest_run)
            if not runs:
                break
            for batch in _batches(runs, self._batch_days):
                written += await self._store.roll_up(batch, first=first, now=now)
        if written:
            log.info("kpi days rolled up", charger_days=written, through=str(today))
        return written

    def _until_next_round(self) -> float:
        now = self._clock()
        midnight = day_start(day_of(now) + timedelta(days=1))
        return min(self._interval, (midnight - now).total_seconds() + _PAST_MIDNIGHT)


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
