"""The connection and status history: reads for the API, and its retention."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from csms.domain.clock import Clock
from csms.domain.errors import NotFound
from csms.domain.history import ConnectionInterval, StatusInterval, window
from csms.domain.paging import Page, Paged
from csms.log import get_logger
from csms.store.repositories import ChargerStore, HistoryStore

__all__ = ["HistoryService"]

log = get_logger(__name__)


class HistoryService:
    def __init__(
        self,
        history: HistoryStore,
        chargers: ChargerStore,
        clock: Clock,
        *,
        retention: timedelta,
        purge_interval: float = 3600.0,
    ) -> None:
        self._history = history
        self._chargers = chargers
        self._clock = clock
        self._retention = retention
        self._purge_interval = purge_interval

    async def connections(
        self, cp_id: str, page: Page[int], start: datetime | None, end: datetime | None
    ) -> Paged[tuple[int, ConnectionInterval]]:
        since, until = window(start, end, self._clock())
        await self._known(cp_id)
        return await self._history.list_connections(cp_id, page, start=since, end=until)

    async def statuses(
        self,
        cp_id: str,
        page: Page[int],
        start: datetime | None,
        end: datetime | None,
        evse_id: int | None = None,
    ) -> Paged[tuple[int, StatusInterval]]:
        since, until = window(start, end, self._clock())
        await self._known(cp_id)
        return await self._history.list_statuses(
            cp_id, page, start=since, end=until, evse_id=evse_id
        )

    async def run(self) -> None:
        """Purge what is older than the retention, at start and then every ``purge_interval``."""
        while True:
            try:
                await self.purge_expired()
            except Exception as exc:  # the next round tries again
                log.warning("history purge failed", error=repr(exc))
            await asyncio.sleep(self._purge_interval)

    async def purge_expired(self) -> int:
        purged = await self._history.purge_history(self._clock() - self._retention)
        if purged:
            log.info("history purged", intervals=purged)
        return purged

    async def _known(self, cp_id: str) -> None:
        if await self._chargers.get_charge_point(cp_id) is None:
            raise NotFound(f"charge point {cp_id!r} not found")
