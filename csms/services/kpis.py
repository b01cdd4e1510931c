"""Connectivity and uptime KPIs (API.md "Monitoring"): the scope and window of a request, the
history the store holds for it, and the arithmetic of csms.domain.kpis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.domain.clock import Clock
from csms.domain.errors import Invalid, NotFound
from csms.domain.history import window
from csms.domain.kpi_history import ChargerHistory
from csms.domain.kpis import Kpi, KpiReport, Resolution, report, series
from csms.services.sites import SiteService
from csms.store.repositories import ChargerStore, HistoryStore

__all__ = ["KpiScope", "KpiService", "Series"]


@dataclass(frozen=True, slots=True)
class KpiScope:
    """At most one of them; none is every charger."""

    charge_point_id: str | None = None
    site_id: str | None = None  # the site and every site below it
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    start: datetime
    end: datetime
    points: list[tuple[datetime, float | None]]


class KpiService:
    def __init__(
        self, history: HistoryStore, chargers: ChargerStore, sites: SiteService, clock: Clock
    ) -> None:
        self._history = history
        self._chargers = chargers
        self._sites = sites
        self._clock = clock

    async def report(
        self, kpi: Kpi, scope: KpiScope, start: datetime | None, end: datetime | None
    ) -> tuple[KpiReport, datetime, datetime]:
        now = self._clock()
        since, until = window(start, end, now)
        chargers = await self._histories(scope, since, until)
        return report(kpi, chargers, since, until, now), since, until

    async def series(
        self,
        kpi: Kpi,
        scope: KpiScope,
        start: datetime | None,
        end: datetime | None,
        resolution: Resolution,
    ) -> Series:
        now = self._clock()
        since, until = window(start, end, now)
        chargers = await self._histories(scope, since, until)
        return Series(since, until, series(kpi, chargers, since, until, resolution, now))

    async def _histories(
        self, scope: KpiScope, start: datetime, end: datetime
    ) -> list[ChargerHistory]:
        given = [
            name
            for name, value in (
                ("chargePointId", scope.charge_point_id),
                ("siteId", scope.site_id),
                ("networkId", scope.network_id),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise Invalid(given[1], "give at most one of chargePointId, siteId and networkId")
        if scope.charge_point_id is not None:
            if await self._chargers.get_charge_point(scope.charge_point_id) is None:
                raise NotFound(f"charge point {scope.charge_point_id!r} not found")
            return await self._history.histories(start=start, end=end, cp_id=scope.charge_point_id)
        if scope.site_id is not None or scope.network_id is not None:
            return await self._history.histories(
                start=start, end=end, site_ids=await self._site_ids(scope)
            )
        return await self._history.histories(start=start, end=end)

    async def _site_ids(self, scope: KpiScope) -> set[str]:
        """The sites the scope covers (SiteService.scope); an unknown site or network is a 404
        here, not an empty report."""
        if scope.site_id is not None and await self._sites.get_site(scope.site_id) is None:
            raise NotFound(f"site {scope.site_id!r} not found")
        if scope.network_id is not None and await self._sites.get_network(scope.network_id) is None:
            raise NotFound(f"network {scope.network_id!r} not found")
        covered = await self._sites.scope(site_id=scope.site_id, network_id=scope.network_id)
        assert covered is not None  # one of them is given
        return covered
